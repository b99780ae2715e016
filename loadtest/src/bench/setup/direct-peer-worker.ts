// Child process entry: the direct werift baseline peer, driven over IPC by the setup bench.
import { tuneWeriftForProcess } from '@parley/shared/webrtc/werift-tuning.js';
import { serveRpc } from '../proc/worker-rpc.js';
import { DirectPeerServer } from './direct-peer.js';

// Configured like a transceiver, setup fixes included, so the baseline is werift itself.
await tuneWeriftForProcess();
const peer = new DirectPeerServer();
serveRpc({
  start: () => peer.start(),
  open: () => peer.open,
  close: () => peer.close(),
});
