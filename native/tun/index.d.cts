export interface NativeTun {
  /** Attaches to (creating if needed) TUN interface `name` (IFF_TUN | IFF_NO_PI); returns a blocking fd. */
  openTun(name: string): number;
}
/** The binding, or undefined when it is not built / cannot load / PARLEY_NATIVE=0. */
export function loadNativeTun(): NativeTun | undefined;
/** Why loadNativeTun() returned undefined. */
export function nativeTunLoadError(): Error | undefined;
