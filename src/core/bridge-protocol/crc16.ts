/**
 * CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor): the checksum of
 * every bridge protocol line. Bitwise on purpose: the bridge firmware does the same in a few
 * lines of C without a table, and lines are short.
 */
export function crc16CcittFalse(data: Uint8Array | string): number {
  let crc = 0xffff;
  const n = data.length;
  for (let i = 0; i < n; i++) {
    // Lines are ASCII, so a string's char codes are its bytes.
    const b = typeof data === 'string' ? data.charCodeAt(i) & 0xff : data[i]!;
    crc ^= b << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The CRC as it appears on the wire: four upper-case hex digits. */
export function crc16Hex(data: Uint8Array | string): string {
  return crc16CcittFalse(data).toString(16).toUpperCase().padStart(4, '0');
}
