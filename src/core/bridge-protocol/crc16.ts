/**
 * CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor): the checksum of
 * every bridge protocol line. The bridge firmware does it bitwise in a few lines of C
 * (`crc16Bitwise` below is that definition); here a 256-entry table built from it does one
 * lookup per byte instead of eight shifts, since every line in and out of the station is
 * checksummed (a 255-byte STORE DATA line is about 530 characters).
 */
export function crc16Bitwise(data: Uint8Array | string): number {
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

/** TABLE[b]: the CRC register after shifting the byte b through a zero register. */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let b = 0; b < 256; b++) {
    let crc = b << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[b] = crc;
  }
  return t;
})();

export function crc16CcittFalse(data: Uint8Array | string): number {
  let crc = 0xffff;
  const n = data.length;
  if (typeof data === 'string') {
    for (let i = 0; i < n; i++) crc = ((crc << 8) & 0xff00) ^ TABLE[((crc >> 8) ^ data.charCodeAt(i)) & 0xff]!;
  } else {
    for (let i = 0; i < n; i++) crc = ((crc << 8) & 0xff00) ^ TABLE[((crc >> 8) ^ data[i]!) & 0xff]!;
  }
  return crc;
}

const UPPER_HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/** The CRC as it appears on the wire: four upper-case hex digits. */
export function crc16Hex(data: Uint8Array | string): string {
  const c = crc16CcittFalse(data);
  return UPPER_HEX[c >> 8]! + UPPER_HEX[c & 0xff]!;
}
