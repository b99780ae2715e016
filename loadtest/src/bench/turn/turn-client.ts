import {
  type Address,
  buildTurnRequest,
  type LongTermAuth,
  longTermKey,
  TurnMethod as Method,
  parseTurnResponse,
  type TurnMethod,
  type TurnRequestOptions,
  type TurnResponse,
} from './turn-codec.js';

export interface TurnChannelOptions {
  username: string;
  password: string;
  /** Where the relayed data goes. */
  peer: Address;
  /** 0x4000..0x4ffe */
  channel: number;
  /** Whole exchange; requests are resent every 250 ms until it passes. */
  timeoutMs?: number;
}

/**
 * What the TURN exchange needs of a socket connected to the server: a
 * node:dgram Socket, or a member of the bench's native UDP group.
 */
export interface DatagramChannel {
  send(msg: Buffer): void;
  on(event: 'message', listener: (msg: Buffer) => void): unknown;
  off(event: 'message', listener: (msg: Buffer) => void): unknown;
}

export interface TurnChannel {
  relayed: Address;
  channel: number;
}

export class TurnError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

/**
 * Allocates a relayed address on a TURN server and binds a channel to one
 * peer: Allocate (401 → realm and nonce) → authenticated Allocate →
 * CreatePermission → ChannelBind. `socket` must be connected to the server;
 * afterwards, data goes out as ChannelData on the same socket.
 */
export async function openTurnChannel(socket: DatagramChannel, o: TurnChannelOptions): Promise<TurnChannel> {
  const deadline = Date.now() + (o.timeoutMs ?? 5_000);
  const first = await transact(socket, { method: Method.allocate, requestedTransportUdp: true }, deadline);
  let auth: LongTermAuth | undefined;
  let allocated = first;
  if (!first.success) {
    if (first.errorCode !== 401 || !first.realm || !first.nonce)
      throw new TurnError(`Allocate failed: ${first.errorCode} ${first.errorReason ?? ''}`, first.errorCode);
    auth = {
      username: o.username,
      realm: first.realm,
      nonce: first.nonce,
      key: longTermKey(o.username, first.realm, o.password),
    };
    allocated = await authed(
      socket,
      { method: Method.allocate, requestedTransportUdp: true },
      auth,
      deadline,
    );
  }
  if (!allocated.relayed) throw new TurnError('Allocate succeeded without XOR-RELAYED-ADDRESS');
  await authed(socket, { method: Method.createPermission, peer: o.peer }, auth, deadline);
  await authed(socket, { method: Method.channelBind, peer: o.peer, channel: o.channel }, auth, deadline);
  return { relayed: allocated.relayed, channel: o.channel };
}

/** An authenticated request; follows one 438 Stale Nonce with the new nonce. */
async function authed(
  socket: DatagramChannel,
  req: Omit<TurnRequestOptions, 'auth' | 'fingerprint'> & { method: TurnMethod },
  auth: LongTermAuth | undefined,
  deadline: number,
): Promise<TurnResponse> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const r = await transact(socket, { ...req, ...(auth && { auth }) }, deadline);
    if (r.success) return r;
    if (r.errorCode === 438 && r.nonce && auth) {
      auth = { ...auth, nonce: r.nonce };
      continue;
    }
    throw new TurnError(
      `TURN method ${req.method} failed: ${r.errorCode} ${r.errorReason ?? ''}`,
      r.errorCode,
    );
  }
  throw new TurnError('TURN server kept answering 438 Stale Nonce', 438);
}

function transact(socket: DatagramChannel, req: TurnRequestOptions, deadline: number): Promise<TurnResponse> {
  const msg = buildTurnRequest({ ...req, fingerprint: true });
  const tid = msg.subarray(8, 20);
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (err: Error | undefined, r?: TurnResponse) => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      if (err) reject(err);
      else resolve(r as TurnResponse);
    };
    const onMessage = (data: Buffer) => {
      const r = parseTurnResponse(data);
      if (r?.transactionId.equals(tid)) done(undefined, r);
    };
    const send = () => {
      if (Date.now() >= deadline) {
        done(new TurnError(`no answer from the TURN server to method ${req.method}`));
        return;
      }
      socket.send(msg);
      timer = setTimeout(send, 250);
    };
    socket.on('message', onMessage);
    send();
  });
}
