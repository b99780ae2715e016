/** Big-endian u32 access without DataView/readUInt32BE, whose range checks throw. Callers check bounds. */
export function readU32(buf: Uint8Array, at: number): number {
  return (
    (((buf[at] as number) << 24) |
      ((buf[at + 1] as number) << 16) |
      ((buf[at + 2] as number) << 8) |
      (buf[at + 3] as number)) >>>
    0
  );
}

export function writeU32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >>> 24) & 0xff;
  buf[at + 1] = (v >>> 16) & 0xff;
  buf[at + 2] = (v >>> 8) & 0xff;
  buf[at + 3] = v & 0xff;
}

/** Byte loop for short copies such as RTP headers, where subarray()+set() would cost a view object. */
export function copyBytes(
  src: Uint8Array,
  srcStart: number,
  dst: Uint8Array,
  dstStart: number,
  n: number,
): void {
  for (let i = 0; i < n; i++) dst[dstStart + i] = src[srcStart + i] as number;
}
