// Child process entry: the instant transceiver, driven over IPC by the signaling bench.
import { serveRpc } from '../proc/worker-rpc.js';
import { InstantTransceiver } from './instant-transceiver.js';

const tx = new InstantTransceiver();
serveRpc({
  start: (a: { natsUrl: string; id: string; cluster: string }) => tx.start(a.natsUrl, a.id, a.cluster),
  counts: () => ({ offers: tx.offers, closes: tx.closes }),
  stop: () => tx.stop(),
});
