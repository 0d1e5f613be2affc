/**
 * BSP (BPP protection protocol, formerly SCP03t; SGP.22 §2.5.3-2.5.4, §2.6.4) with AES-128:
 * session key derivation, and protection / verification of the 86, 87 and 88 segments of a
 * Bound Profile Package.
 *
 * This module decrypts. Only the simulated eUICC and the simulated SM-DPf may import it; the
 * station never does (it must not be able to read a profile).
 *
 * State: one MAC chaining value and one block counter for the whole BPP. The counter starts at
 * 1 and advances for every segment, MAC-only (88) ones included. ReplaceSessionKeys swaps in
 * PPK-ENC/PPK-MAC with the delivered initial MCV and restarts the counter at 1: a Protected
 * Profile Package made once with PPKs cannot know how many segments preceded it (pySim,
 * sysmocom's BSP code and a third-party SM-DP+ trace agree; see test/binding/bsp.test.ts).
 *
 * AES and CMAC run on node:crypto (aes.ts), byte for byte what @noble/ciphers gives (the
 * tests keep it as the reference).
 */
import { AesCmac, aesCbcDecrypt, aesCbcEncrypt, aesEcbEncrypt } from './aes.ts';
import { x963Kdf } from '../core/crypto/kdf.ts';
import { IfppError } from '../core/errors.ts';
import { bytesEqualCt, concatBytes, uintBytes } from '../core/bytes.ts';
import { encodeHeader, readTlv } from '../core/tlv/ber-tlv.ts';

/** Largest protected TLV we produce: tag, length, data and MAC (SGP.22 §2.5.3). */
export const BSP_MAX_SEGMENT = 1020;
/** MAC bytes carried in each segment (the first half of the AES-CMAC). */
export const BSP_MAC_LENGTH = 8;
/** Plaintext bytes per encrypted segment: 1020 - tag(1) - length(3) - MAC(8) = 1008, less the mandatory pad byte. */
export const BSP_MAX_ENCRYPTED_PLAINTEXT = 1007;
/** Data bytes per MAC-only segment: nothing is padded. */
export const BSP_MAX_MAC_ONLY_PLAINTEXT = 1008;
/** CRT keyType for AES (GlobalPlatform) and the only key length this implementation supports. */
export const BSP_KEY_TYPE_AES = 0x88;
export const BSP_KEY_LENGTH_AES128 = 0x10;

const BLOCK = 16;

export type BspErrorCode =
  | 'BSP_MAC_MISMATCH' // wrong keys, tampered data, or segments out of order
  | 'BSP_BAD_PADDING' // MAC fine but the plaintext does not end in 80 00..
  | 'BSP_BAD_SEGMENT' // not a single TLV with the expected tag and a plausible length
  | 'BSP_BAD_PARAMETERS'; // unusable keys, CRT values, host id or EID

export class BspError extends IfppError {
  declare readonly code: BspErrorCode;

  constructor(code: BspErrorCode, message: string, opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, opts);
  }
}

export interface BspKeys {
  readonly sEnc: Uint8Array;
  readonly sMac: Uint8Array;
  readonly initialMcv: Uint8Array;
}

export interface BspDerivationParams {
  /** CRT 84: 1..16 bytes chosen by the SM-DP+. */
  readonly hostId: Uint8Array;
  /** 16-byte EID of the target eUICC. */
  readonly eid: Uint8Array;
  /** CRT 80, default 0x88 (AES). */
  readonly keyType?: number;
  /** CRT 81, default 0x10 (16 bytes). */
  readonly keyLength?: number;
}

/** Shared info of the BSP KDF: keyType | keyLen | len(hostId) | hostId | len(EID) | EID. */
export function bspSharedInfo(params: BspDerivationParams): Uint8Array {
  const keyType = params.keyType ?? BSP_KEY_TYPE_AES;
  const keyLength = params.keyLength ?? BSP_KEY_LENGTH_AES128;
  if (keyType !== BSP_KEY_TYPE_AES || keyLength !== BSP_KEY_LENGTH_AES128) {
    throw new BspError('BSP_BAD_PARAMETERS', `unsupported CRT keyType ${hex(keyType)} / keyLen ${hex(keyLength)}`, {
      hint: 'only AES-128 (keyType 88, keyLen 10) is supported',
    });
  }
  if (params.hostId.length < 1 || params.hostId.length > 16) {
    throw new BspError('BSP_BAD_PARAMETERS', `hostId of ${params.hostId.length} bytes (must be 1..16)`);
  }
  if (params.eid.length !== 16) throw new BspError('BSP_BAD_PARAMETERS', `EID of ${params.eid.length} bytes (must be 16)`);
  return concatBytes(
    Uint8Array.of(keyType, keyLength, params.hostId.length),
    params.hostId,
    Uint8Array.of(params.eid.length),
    params.eid,
  );
}

/** Session keys from the ECKA shared secret Z: 48 bytes of X9.63 = initial MCV | S-ENC | S-MAC. */
export function deriveBspKeys(z: Uint8Array, params: BspDerivationParams): BspKeys {
  const out = x963Kdf(z, bspSharedInfo(params), 3 * BLOCK);
  return { initialMcv: out.slice(0, 16), sEnc: out.slice(16, 32), sMac: out.slice(32, 48) };
}

interface SegmentParts {
  /** Tag and length bytes exactly as received (they are MACed as such). */
  readonly header: Uint8Array;
  /** Value without the MAC. */
  readonly body: Uint8Array;
  readonly mac: Uint8Array;
}

/** One BSP channel. Not reusable across BPPs; one instance per direction of use. */
export class BspSession {
  #sEnc: Uint8Array;
  #mac: AesCmac;
  #mcv: Uint8Array;
  #counter = 1;

  constructor(keys: BspKeys) {
    checkKeys(keys.sEnc, keys.sMac, keys.initialMcv);
    this.#sEnc = keys.sEnc.slice();
    this.#mac = new AesCmac(keys.sMac);
    this.#mcv = keys.initialMcv.slice();
  }

  static fromSharedSecret(z: Uint8Array, params: BspDerivationParams): BspSession {
    return new BspSession(deriveBspKeys(z, params));
  }

  /** Block counter the next segment will use. */
  get blockCounter(): number {
    return this.#counter;
  }

  /** Current MAC chaining value (a copy). */
  get macChainingValue(): Uint8Array {
    return this.#mcv.slice();
  }

  /**
   * ReplaceSessionKeys (BF26): later segments (the 86s) use PPK-ENC / PPK-MAC, chain from the
   * delivered initial MCV, and count from 1 again.
   */
  replaceSessionKeys(ppkEnc: Uint8Array, ppkMac: Uint8Array, initialMcv: Uint8Array): void {
    checkKeys(ppkEnc, ppkMac, initialMcv);
    this.#sEnc = ppkEnc.slice();
    this.#mac = new AesCmac(ppkMac);
    this.#mcv = initialMcv.slice();
    this.#counter = 1;
  }

  /** Encrypts and MACs `plaintext` into one or more segments of at most 1020 bytes. */
  protect(tag: number, plaintext: Uint8Array): Uint8Array[] {
    checkTag(tag);
    return chunks(plaintext, BSP_MAX_ENCRYPTED_PLAINTEXT).map((chunk) => {
      const ciphertext = aesCbcEncrypt(this.#sEnc, this.#icv(this.#counter), pad(chunk));
      return this.#seal(tag, ciphertext);
    });
  }

  /** MACs `plaintext` (no padding, no encryption) into one or more segments of at most 1020 bytes. */
  macOnly(tag: number, plaintext: Uint8Array): Uint8Array[] {
    checkTag(tag);
    return chunks(plaintext, BSP_MAX_MAC_ONLY_PLAINTEXT).map((chunk) => this.#seal(tag, chunk));
  }

  /**
   * Verifies (constant-time) and decrypts one encrypted segment. Segments longer than 1020
   * bytes are accepted: some SM-DP+ implementations put 1008 plaintext bytes in one and emit
   * 1036. On failure the session state is left unchanged.
   */
  unprotect(segment: Uint8Array, expectedTag: number): Uint8Array {
    const parts = splitSegment(segment, expectedTag);
    if (parts.body.length < BLOCK || parts.body.length % BLOCK !== 0) {
      throw new BspError('BSP_BAD_SEGMENT', `encrypted segment carries ${parts.body.length} bytes, not a positive multiple of 16`, {
        details: { tag: hex(expectedTag), length: parts.body.length },
      });
    }
    const fullMac = this.#verify(parts, expectedTag);
    const padded = aesCbcDecrypt(this.#sEnc, this.#icv(this.#counter), parts.body);
    const plaintext = unpad(padded, expectedTag);
    this.#mcv = fullMac;
    this.#counter++;
    return plaintext;
  }

  /** Verifies one MAC-only segment and returns its data. On failure the state is left unchanged. */
  verifyMacOnly(segment: Uint8Array, expectedTag: number): Uint8Array {
    const parts = splitSegment(segment, expectedTag);
    const fullMac = this.#verify(parts, expectedTag);
    this.#mcv = fullMac;
    this.#counter++;
    return parts.body.slice();
  }

  /** tag | length | body | MAC[0..8]; advances chain and counter. */
  #seal(tag: number, body: Uint8Array): Uint8Array {
    const header = encodeHeader(tag, body.length + BSP_MAC_LENGTH);
    const fullMac = this.#mac.mac(concatBytes(this.#mcv, header, body));
    this.#mcv = fullMac;
    this.#counter++;
    return concatBytes(header, body, fullMac.subarray(0, BSP_MAC_LENGTH));
  }

  /** Returns the full CMAC to chain on if the segment's MAC matches; throws otherwise. */
  #verify(parts: SegmentParts, tag: number): Uint8Array {
    const fullMac = this.#mac.mac(concatBytes(this.#mcv, parts.header, parts.body));
    if (!bytesEqualCt(fullMac.subarray(0, BSP_MAC_LENGTH), parts.mac)) {
      throw new BspError('BSP_MAC_MISMATCH', `MAC of segment ${hex(tag)} #${this.#counter} does not verify`, {
        hint: 'wrong session keys (EID, host id or one-time key), altered data, or segments out of order',
        details: { tag: hex(tag), blockCounter: this.#counter },
      });
    }
    return fullMac;
  }

  #icv(counter: number): Uint8Array {
    return aesEcbEncrypt(this.#sEnc, uintBytes(counter, BLOCK));
  }
}

function splitSegment(segment: Uint8Array, expectedTag: number): SegmentParts {
  checkTag(expectedTag);
  let t;
  try {
    t = readTlv(segment, 0);
  } catch (e) {
    throw new BspError('BSP_BAD_SEGMENT', `segment is not a TLV: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (t.tag !== expectedTag) {
    throw new BspError('BSP_BAD_SEGMENT', `expected a ${hex(expectedTag)} segment, found tag ${hex(t.tag)}`, {
      details: { expectedTag: hex(expectedTag), tag: hex(t.tag) },
    });
  }
  if (t.raw.length !== segment.length) {
    throw new BspError('BSP_BAD_SEGMENT', `${segment.length - t.raw.length} bytes after the ${hex(expectedTag)} segment`);
  }
  if (t.value.length < BSP_MAC_LENGTH) {
    throw new BspError('BSP_BAD_SEGMENT', `${hex(expectedTag)} segment of ${t.value.length} bytes is too short for its MAC`);
  }
  const macAt = t.value.length - BSP_MAC_LENGTH;
  return { header: t.header, body: t.value.subarray(0, macAt), mac: t.value.subarray(macAt) };
}

/** 80 then 00s to the next multiple of 16; the 80 is always added. */
function pad(data: Uint8Array): Uint8Array {
  const out = new Uint8Array((Math.floor(data.length / BLOCK) + 1) * BLOCK);
  out.set(data, 0);
  out[data.length] = 0x80;
  return out;
}

/** Strips 80 00.. (1 to 16 bytes). Runs only after the MAC verified, so it is no padding oracle. */
function unpad(padded: Uint8Array, tag: number): Uint8Array {
  let i = padded.length - 1;
  while (i >= 0 && padded[i] === 0) i--;
  if (i < 0 || padded[i] !== 0x80 || padded.length - i > BLOCK) {
    throw new BspError('BSP_BAD_PADDING', `decrypted ${hex(tag)} segment does not end with 80 00.. padding`, {
      hint: 'the sender used other padding or other keys with a matching MAC key',
    });
  }
  return padded.slice(0, i);
}

/** Splits into pieces of at most `size`; empty input still yields one (empty) piece. */
function chunks(data: Uint8Array, size: number): Uint8Array[] {
  if (data.length === 0) return [data];
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

function checkKeys(enc: Uint8Array, mac: Uint8Array, mcv: Uint8Array): void {
  if (enc.length !== 16 || mac.length !== 16 || mcv.length !== 16) {
    throw new BspError('BSP_BAD_PARAMETERS', `AES-128 keys and MCV must be 16 bytes (got ${enc.length}/${mac.length}/${mcv.length})`);
  }
}

/** BSP segments use one-byte tags (86, 87, 88). */
function checkTag(tag: number): void {
  if (!Number.isInteger(tag) || tag < 1 || tag > 0xff || (tag & 0x1f) === 0x1f) {
    throw new BspError('BSP_BAD_PARAMETERS', `BSP segment tag must be a one-byte tag, got ${tag}`);
  }
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
