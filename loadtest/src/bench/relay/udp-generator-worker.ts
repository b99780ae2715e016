// Child process entry: a UdpGenerator driven over IPC by the relay bench.
import { serveRpc } from '../proc/worker-rpc.js';
import { type OpenArgs, type RunArgs, UdpGenerator } from './udp-generator.js';

const gen = new UdpGenerator();
serveRpc({
  open: (a: OpenArgs) => gen.open(a),
  run: (a: RunArgs) => gen.run(a),
  close: () => gen.close(),
});
