# State addresses from before ../stacks/core existed (this root held the module
# calls itself): plans show no changes. Remove once every deployment of this
# root has applied with the stack.

moved {
  from = module.network
  to   = module.stack.module.network
}

moved {
  from = module.core
  to   = module.stack.module.core
}
