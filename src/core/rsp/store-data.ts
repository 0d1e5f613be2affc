/**
 * STORE DATA framing of ES10 calls (GlobalPlatform STORE DATA as profiled by SGP.22 v2.x
 * §5.7, ES10 transport): one ES10 payload (a BER-TLV request, or one BPP load call) is cut
 * into blocks of at most `blockSize` bytes, each sent as
 *
 *   CLA E2 P1 P2 Lc data   [Le=00 optional]
 *
 * with P1 = 11 (more blocks follow) or 91 (last block), P2 = block number from 00 for every
 * payload, CLA = 80..83 for logical channels 0..3 and C0..CF for channels 4..19 (the
 * GlobalPlatform proprietary forms of the ISO 7816-4 first and further interindustry classes,
 * without secure messaging).
 *
 * The card side (simulator) reassembles with StoreDataAssembler, which rejects anything out of
 * order with a typed error carrying the status word to answer.
 */
import { RspEncodeError, StoreDataError } from './errors.ts';

export const INS_STORE_DATA = 0xe2;
export const P1_MORE_BLOCKS = 0x11;
export const P1_LAST_BLOCK = 0x91;
export const MAX_BLOCK_SIZE = 255;
/** P2 is one byte, so one payload spans at most 256 blocks. */
export const MAX_BLOCKS = 256;

/** CLA of a STORE DATA on logical channel 0..19. */
export function storeDataCla(channel: number): number {
  if (!Number.isInteger(channel) || channel < 0 || channel > 19) {
    throw new RspEncodeError(`logical channel must be 0..19, got ${channel}`);
  }
  return channel <= 3 ? 0x80 | channel : 0xc0 | (channel - 4);
}

/** Logical channel of a proprietary-class CLA without secure messaging or chaining, else undefined. */
export function channelOfCla(cla: number): number | undefined {
  if (cla >= 0x80 && cla <= 0x83) return cla & 0x03;
  if (cla >= 0xc0 && cla <= 0xcf) return (cla & 0x0f) + 4;
  return undefined;
}

export interface StoreDataOptions {
  /** Logical channel 0..19 (default 0). */
  readonly channel?: number;
  /** Data bytes per APDU, 1..255 (default 255). Some chips and modems need less. */
  readonly blockSize?: number;
  /** Append Le = 00 to the last block (case 4, for T=1 readers). Default false (case 3). */
  readonly le?: boolean;
}

/** The STORE DATA APDUs of one ES10 payload. */
export function storeDataApdus(payload: Uint8Array, opts: StoreDataOptions = {}): Uint8Array[] {
  const cla = storeDataCla(opts.channel ?? 0);
  const size = opts.blockSize ?? MAX_BLOCK_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_BLOCK_SIZE) {
    throw new RspEncodeError(`STORE DATA block size must be 1..${MAX_BLOCK_SIZE}, got ${size}`);
  }
  if (payload.length === 0) throw new RspEncodeError('STORE DATA payload is empty');
  const n = Math.ceil(payload.length / size);
  if (n > MAX_BLOCKS) {
    throw new RspEncodeError(`payload of ${payload.length} bytes needs ${n} STORE DATA blocks of ${size}; at most ${MAX_BLOCKS} are possible`);
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const data = payload.subarray(i * size, Math.min(payload.length, (i + 1) * size));
    const last = i === n - 1;
    const withLe = last && opts.le === true;
    const apdu = new Uint8Array(5 + data.length + (withLe ? 1 : 0));
    apdu[0] = cla;
    apdu[1] = INS_STORE_DATA;
    apdu[2] = last ? P1_LAST_BLOCK : P1_MORE_BLOCKS;
    apdu[3] = i;
    apdu[4] = data.length;
    apdu.set(data, 5);
    out.push(apdu); // a trailing Le byte, when asked for, is already 00
  }
  return out;
}

export interface StoreDataBlock {
  readonly cla: number;
  readonly channel: number;
  readonly p1: number;
  readonly blockNumber: number;
  readonly last: boolean;
  readonly data: Uint8Array;
  /** Le byte when the APDU was case 4. */
  readonly le: number | undefined;
}

/** Parses one short STORE DATA command APDU; throws StoreDataError with the SW to answer. */
export function parseStoreDataApdu(apdu: Uint8Array): StoreDataBlock {
  if (apdu.length < 5) throw new StoreDataError('STORE_DATA_BAD_APDU', `STORE DATA APDU of ${apdu.length} bytes has no data`, 0x6700);
  const cla = apdu[0]!;
  const ins = apdu[1]!;
  const p1 = apdu[2]!;
  const p2 = apdu[3]!;
  const lc = apdu[4]!;
  if (ins !== INS_STORE_DATA) {
    throw new StoreDataError('STORE_DATA_BAD_INS', `INS ${ins.toString(16).padStart(2, '0')} is not STORE DATA (E2)`, 0x6d00);
  }
  const channel = channelOfCla(cla);
  if (channel === undefined) {
    throw new StoreDataError('STORE_DATA_BAD_CLA', `CLA ${cla.toString(16).padStart(2, '0')} is not a STORE DATA class (80..83, C0..CF)`, 0x6e00);
  }
  // Lc = 00 would announce an extended length; ES10 STORE DATA uses short APDUs only.
  if (lc === 0 || (apdu.length !== 5 + lc && apdu.length !== 6 + lc)) {
    throw new StoreDataError('STORE_DATA_BAD_APDU', `Lc ${lc} does not match an APDU of ${apdu.length} bytes`, 0x6700);
  }
  if (p1 !== P1_MORE_BLOCKS && p1 !== P1_LAST_BLOCK) {
    throw new StoreDataError('STORE_DATA_BAD_P1', `P1 ${p1.toString(16).padStart(2, '0')} is neither 11 (more) nor 91 (last)`, 0x6a86);
  }
  return {
    cla,
    channel,
    p1,
    blockNumber: p2,
    last: p1 === P1_LAST_BLOCK,
    data: apdu.subarray(5, 5 + lc),
    le: apdu.length === 6 + lc ? apdu[5 + lc] : undefined,
  };
}

export interface StoreDataAssemblerOptions {
  /** Largest payload accepted (default 256 blocks of 255 bytes). */
  readonly maxPayload?: number;
}

/**
 * Card-side reassembly of one logical channel's STORE DATA stream. Feed every STORE DATA APDU
 * to push(); it returns the completed payload on the last block, undefined before. Any error
 * discards the partial payload, so the next call must start again at block 00.
 */
export class StoreDataAssembler {
  private readonly maxPayload: number;
  private parts: Uint8Array[] = [];
  private size = 0;
  private chan: number | undefined;

  constructor(opts: StoreDataAssemblerOptions = {}) {
    this.maxPayload = opts.maxPayload ?? MAX_BLOCKS * MAX_BLOCK_SIZE;
  }

  /** True while blocks of an unfinished payload are held. */
  get inProgress(): boolean {
    return this.parts.length > 0;
  }

  /** Logical channel of the payload in progress. */
  get channel(): number | undefined {
    return this.chan;
  }

  reset(): void {
    this.parts = [];
    this.size = 0;
    this.chan = undefined;
  }

  push(apdu: Uint8Array): Uint8Array | undefined {
    let block: StoreDataBlock;
    try {
      block = parseStoreDataApdu(apdu);
    } catch (e) {
      this.reset();
      throw e;
    }
    return this.pushBlock(block);
  }

  pushBlock(block: StoreDataBlock): Uint8Array | undefined {
    const expected = this.parts.length;
    if (expected > 0 && block.channel !== this.chan) {
      const was = this.chan;
      this.reset();
      throw new StoreDataError('STORE_DATA_CHANNEL_CHANGED', `block ${block.blockNumber} arrived on channel ${block.channel}, payload started on ${was}`, 0x6a86);
    }
    if (block.blockNumber !== expected) {
      this.reset();
      throw new StoreDataError(
        'STORE_DATA_BLOCK_ORDER',
        `STORE DATA block number ${block.blockNumber} where ${expected} was expected`,
        0x6a86,
        { expected, got: block.blockNumber },
      );
    }
    if (this.size + block.data.length > this.maxPayload) {
      const n = this.size + block.data.length;
      this.reset();
      throw new StoreDataError('STORE_DATA_TOO_LARGE', `STORE DATA payload exceeds ${this.maxPayload} bytes (${n} so far)`, 0x6a84);
    }
    this.chan = block.channel;
    this.parts.push(block.data.slice());
    this.size += block.data.length;
    if (!block.last) return undefined;
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    this.reset();
    return out;
  }
}
