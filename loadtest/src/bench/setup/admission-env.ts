/**
 * Transceiver environment that turns setup admission control off, for the
 * burst comparison (admission on is the transceiver's default).
 */
export const ADMISSION_OFF_ENV: Record<string, string> = { PARLEY_SETUP_CONCURRENCY: '0' };
