/**
 * Named settings for the transceiver's use of werift, in one place (as pion's
 * SettingEngine does): what werift is asked to do and what it is kept from
 * doing. Everything that reaches into werift lives in this folder.
 */
export type DtlsRole = 'server' | 'client';

export interface LitePeerSettings {
  /** Private address the transceiver's one UDP socket is bound to (host candidate). */
  bindAddress: string;
  /** The transceiver's one UDP port (the host candidate's port; the answer names the relay instead). */
  port: number;
  /** Our DTLS role (see core/src/session/dtls-role.ts for why transceivers prefer server). */
  dtlsRole: DtlsRole;
  /**
   * DTLS-SRTP protection profile ids (shared/src/srtp/profiles.ts) in our order of preference; as DTLS
   * server we pick the first the client offers. See srtp-engine.ts for why
   * the order depends on which SRTP engine this machine has.
   */
  srtpProfiles: readonly number[];
}
