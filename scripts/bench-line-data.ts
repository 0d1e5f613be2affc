/** Synthetic inventory rows for the line benchmark: EID #n bound to two one-time keys. */
export function benchEid(n: number): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = 0x89;
  new DataView(b.buffer).setUint32(12, n);
  return b;
}

export function benchOtpk(n: number, k: number): Uint8Array {
  const b = new Uint8Array(65);
  b[0] = 0x04;
  new DataView(b.buffer).setUint32(1, n);
  b[5] = k;
  return b;
}
