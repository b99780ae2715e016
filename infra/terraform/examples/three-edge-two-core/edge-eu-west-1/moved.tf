# State addresses from before ../stacks/edge existed (this root held the module
# calls itself): plans show no changes. Remove once every deployment of this
# root has applied with the stack.

moved {
  from = module.network
  to   = module.stack.module.network
}

moved {
  from = module.edge
  to   = module.stack.module.edge
}

moved {
  from = module.peer_us_east_2
  to   = module.stack.module.peer["us-east-2"]
}

moved {
  from = module.peer_eu_central_1
  to   = module.stack.module.peer["eu-central-1"]
}
