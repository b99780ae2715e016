/**
 * The `application/trickle-ice-sdpfrag` bodies (RFC 8840 §9) of a WHIP ICE
 * restart (RFC 9725 §4.3.2): the client PATCHes its new ICE credentials, the
 * server answers with its own. Pure text in, text out; no SDP library,
 * because a fragment is not a full session description (no v=/o=/s= lines)
 * and the only parts that matter here are two attributes.
 */

/** The SDP attribute grammar for ICE credentials (RFC 8839 §5.4): ice-char = ALPHA / DIGIT / "+" / "/". */
const UFRAG = /^[A-Za-z0-9+/]{4,256}$/;
const PWD = /^[A-Za-z0-9+/]{22,256}$/;
/** A fragment with ICE credentials and a few candidates is well under 1 KiB; refuse anything far larger. */
export const MAX_SDPFRAG_BYTES = 8 * 1024;
const MAX_LINES = 128;

export const SDPFRAG_CONTENT_TYPE = 'application/trickle-ice-sdpfrag';

export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

export type ParsedIceRestart =
  | { ok: true; ufrag: string; pwd: string; mid?: string }
  | { ok: false; detail: string };

/**
 * Reads the client's new credentials from a restart fragment. Credentials
 * may sit at session level or in the (one, BUNDLEd) media section; several
 * sections may repeat them, but they must agree: Parley runs one transport
 * per session. Candidates are ignored: the relay is the only candidate the
 * server ever uses, and the client's address is learned from its checks.
 */
export function parseIceRestartFrag(text: string): ParsedIceRestart {
  if (text.length > MAX_SDPFRAG_BYTES)
    return { ok: false, detail: `fragment over ${MAX_SDPFRAG_BYTES} bytes` };
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  if (lines.length > MAX_LINES) return { ok: false, detail: `fragment has over ${MAX_LINES} lines` };
  let ufrag: string | undefined;
  let pwd: string | undefined;
  let mid: string | undefined;
  for (const line of lines) {
    // RFC 8840 §9.2: only a= and m= lines belong in a fragment.
    if (!/^[am]=/.test(line)) return { ok: false, detail: `not an sdpfrag line: "${clip(line)}"` };
    const m = /^a=(ice-ufrag|ice-pwd|mid):(.*)$/.exec(line);
    if (!m) continue;
    const [, name, value = ''] = m;
    if (name === 'mid') {
      mid ??= value;
      continue;
    }
    const valid = name === 'ice-ufrag' ? UFRAG : PWD;
    if (!valid.test(value)) return { ok: false, detail: `invalid a=${name}` };
    const previous = name === 'ice-ufrag' ? ufrag : pwd;
    if (previous !== undefined && previous !== value)
      return { ok: false, detail: `conflicting a=${name} values: one transport per session (BUNDLE)` };
    if (name === 'ice-ufrag') ufrag = value;
    else pwd = value;
  }
  if (ufrag === undefined || pwd === undefined)
    return { ok: false, detail: 'an ICE restart needs a=ice-ufrag and a=ice-pwd' };
  return { ok: true, ufrag, pwd, ...(mid !== undefined && { mid }) };
}

/**
 * The server's answer to a restart: its new credentials at session level
 * (ice-lite, as in the SDP answer) and, when the client named its media
 * section, that section with the server's candidates.
 */
export function serializeIceRestartFrag(
  creds: IceCredentials,
  opts: { mid?: string; candidates?: readonly string[] } = {},
): string {
  const lines = ['a=ice-lite', `a=ice-ufrag:${creds.ufrag}`, `a=ice-pwd:${creds.pwd}`];
  if (opts.mid !== undefined) {
    // The m= line of a fragment only names the section (RFC 8840 §9): port 9, no formats that matter.
    lines.push('m=audio 9 UDP/TLS/RTP/SAVPF 0', `a=mid:${opts.mid}`);
    for (const c of opts.candidates ?? []) lines.push(c.startsWith('a=') ? c : `a=${c}`);
    lines.push('a=end-of-candidates');
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Puts new remote credentials into a remote description (the answer a client
 * holds), so a client can apply the server's restart answer with
 * setRemoteDescription. Replaces every ice-ufrag/ice-pwd line.
 */
export function withIceCredentials(sdp: string, creds: IceCredentials): string {
  return sdp
    .replace(/^a=ice-ufrag:.*$/gm, `a=ice-ufrag:${creds.ufrag}`)
    .replace(/^a=ice-pwd:.*$/gm, `a=ice-pwd:${creds.pwd}`);
}

/** Reads the (first) ICE credentials out of a full SDP description. */
export function iceCredentialsOf(sdp: string): IceCredentials | undefined {
  const ufrag = /^a=ice-ufrag:(.+?)\r?$/m.exec(sdp)?.[1];
  const pwd = /^a=ice-pwd:(.+?)\r?$/m.exec(sdp)?.[1];
  return ufrag && pwd ? { ufrag, pwd } : undefined;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
