// Child process entry: the direct werift baseline peer, driven over IPC by the setup bench.
import { serveRpc } from '../proc/worker-rpc.js';
import { DirectPeerServer } from './direct-peer.js';

const peer = new DirectPeerServer();
serveRpc({
  start: () => peer.start(),
  open: () => peer.open,
  close: () => peer.close(),
});
