import type { RTCPeerConnection } from 'werift';

/**
 * A werift *client* losing the network its ICE sockets were on, for tests of
 * ICE restart (WHIP PATCH). werift keeps its local sockets across
 * `restartIce()` (it would re-advertise the same host candidates), so a
 * restart alone never changes the client's local address; dropping the
 * sockets first makes the next gathering bind new ones, as a phone moving
 * from Wi-Fi to cellular would.
 */

/** The slice of werift's ICE connection these helpers touch (reach-in, see above). */
interface ClientIceInternals {
  protocols: { localCandidate?: { port: number }; close(): Promise<void> }[];
  nominated?: { localCandidate: { port: number; host: string } };
}

function iceOf(pc: RTCPeerConnection): ClientIceInternals {
  const transport = pc.iceTransports[0];
  if (!transport) throw new Error('the peer connection has no ICE transport yet');
  return transport.connection as unknown as ClientIceInternals;
}

/** The local address:port of the selected candidate pair, or undefined before ICE connects. */
export function selectedLocalAddress(pc: RTCPeerConnection): string | undefined {
  const pair = iceOf(pc).nominated;
  return pair ? `${pair.localCandidate.host}:${pair.localCandidate.port}` : undefined;
}

/**
 * Closes every local ICE socket and forgets it, so the next gathering (after
 * `restartIce()` and `setLocalDescription`) binds new ones. Call it after
 * `createOffer({ iceRestart: true })`, which unselects the pair, so nothing
 * is sent on a closed socket. Returns how many sockets were closed.
 */
export async function dropLocalSockets(pc: RTCPeerConnection): Promise<number> {
  const ice = iceOf(pc);
  const old = ice.protocols.splice(0);
  await Promise.all(old.map((p) => p.close().catch(() => undefined)));
  return old.length;
}

/**
 * Starts the ICE checks of a restart once the server's new credentials are
 * applied (setRemoteDescription). werift's own connect() skips ICE when DTLS
 * is already connected, which is exactly the case in a mid-call restart, so
 * without this its new candidate pairs stay waiting forever. Resolves when
 * ICE is connected again.
 */
export async function startRestartedIce(pc: RTCPeerConnection): Promise<void> {
  await Promise.all(pc.iceTransports.filter((t) => t.state !== 'connected').map((t) => t.start()));
}
