// Child process entry: a UdpSink driven over IPC by the relay bench.
import { serveRpc } from '../proc/worker-rpc.js';
import { UdpSink } from './udp-sink.js';

const sink = new UdpSink();
serveRpc({
  bind: () => sink.bind(),
  select: (a: { label: string }) => sink.select(a.label),
  reset: () => sink.reset(),
  read: () => sink.read(),
  close: () => sink.close(),
});
