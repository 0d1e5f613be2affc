/**
 * APDUs over T=0 (ISO 7816-3 §12.2, 7816-4 §5.3): the bridge carries TPDUs; this turns an APDU
 * of any case into the TPDUs T=0 needs, fetches response data announced with 61xx through GET
 * RESPONSE, and repeats a command with the length a card asks for with 6Cxx. A link that can
 * run a whole APDU at the far end (the bridge's APDU verb, hardware/PROTOCOL.md §4) gets the
 * APDU in one exchange instead; a 61xx it still answers (it stops at 256 bytes) is followed up
 * here as usual. A link that runs a sequence of APDUs at the far end (the APDUS verb, §4a) gets
 * as many of a sequence as fit one request (transmitBatch).
 */
import { runApduSequence, type ApduResponse, type ApduSequenceResult } from '../../core/apdu.ts';
import { IfppError } from '../../core/errors.ts';
import { concatBytes, toHex } from '../../core/bytes.ts';
import { getResponseCla, t0CommandTpdu } from '../../core/bridge-protocol/iso7816.ts';

export class ApduError extends IfppError {}

/** Sends one TPDU and returns what the card answered: response data then SW1 SW2. */
export interface TpduLink {
  exchange(tpdu: Uint8Array): Promise<Uint8Array>;
  /** Whether exchangeApdu may be used now (asked per APDU: the bridge may change on a reconnect). */
  canExchangeApdu?(): boolean;
  /**
   * Runs one whole short APDU at the far end, with the same 61xx / 6Cxx handling as transmit();
   * returns response data then SW1 SW2, where a final 61xx means more data waits for GET RESPONSE.
   */
  exchangeApdu?(apdu: Uint8Array): Promise<Uint8Array>;
  /** How many APDUs (and how long a request line) one exchangeBatch may carry now; undefined = no batches. */
  batchLimits?(): BatchLimits | undefined;
  /**
   * Runs APDUs in order at the far end (the bridge's APDUS verb), stopping after the first
   * answer that is not a bare 9000; returns how many ran and the last one's response data
   * then SW1 SW2 (a final 61xx: more data waits for GET RESPONSE).
   */
  exchangeBatch?(apdus: readonly Uint8Array[]): Promise<{ count: number; data: Uint8Array }>;
}

export interface BatchLimits {
  maxApdus: number;
  /** Longest request line in bytes, `\n` included (INFO LINE). */
  maxLine: number;
}

/** Bytes of an APDUS request line: "FFFF F APDUS", " <hex>" per APDU, " *CRC\n" (a 4-digit id assumed). */
const BATCH_LINE_FIXED = 12 + 7;

/** How many of `apdus` from `from` on fit one batch request. */
export function batchFit(apdus: readonly Uint8Array[], from: number, limits: BatchLimits): number {
  let n = 0;
  let bytes = BATCH_LINE_FIXED;
  while (from + n < apdus.length && n < limits.maxApdus) {
    bytes += 1 + 2 * apdus[from + n]!.length;
    if (bytes > limits.maxLine) break;
    n++;
  }
  return Math.max(1, n);
}

/** How many GET RESPONSE rounds we follow before calling the card broken (64 kB of data). */
const MAX_CHAINED = 256;

export class T0ApduChannel {
  constructor(private readonly link: TpduLink) {}

  async transmit(apdu: Uint8Array): Promise<ApduResponse> {
    checkShape(apdu);
    const header = apdu.subarray(0, 4);
    let r: Uint8Array;
    let sw: number;
    if (this.link.exchangeApdu && this.link.canExchangeApdu?.()) {
      r = await this.link.exchangeApdu(apdu);
      if (r.length < 2) throw new ApduError('APDU_NO_STATUS', `card answered ${toHex(header)} without a status word`);
      sw = this.swOf(r);
    } else {
      r = await this.exchangeChecked(t0CommandTpdu(apdu));
      sw = this.swOf(r);
      if (sw >> 8 === 0x6c && apdu.length === 5) {
        // Wrong Le: the card tells us the right one; repeat the command with it.
        r = await this.exchangeChecked(concatBytes(header, Uint8Array.of(sw & 0xff)));
        sw = this.swOf(r);
      }
    }
    return this.followUp(apdu, r);
  }

  /**
   * Runs APDUs in order, stopping after the first answer that carries data or a status other
   * than 9000 (that answer complete: 61xx followed up). With a link that runs batches (the
   * bridge's APDUS verb) this is ONE host exchange, as many APDUs as fit its limits: the result
   * may count fewer than given with a bare 9000, and the caller sends the rest (so it can report
   * progress and heed an e-stop between exchanges). Without batches, one APDU per exchange
   * until the rule stops it.
   */
  async transmitBatch(apdus: readonly Uint8Array[]): Promise<ApduSequenceResult> {
    for (const a of apdus) checkShape(a);
    const limits = this.link.exchangeBatch ? this.link.batchLimits?.() : undefined;
    if (!limits || apdus.length === 0) return runApduSequence((a) => this.transmit(a), apdus);
    const n = batchFit(apdus, 0, limits);
    const r = await this.link.exchangeBatch!(apdus.slice(0, n));
    if (r.data.length < 2) throw new ApduError('APDU_NO_STATUS', `card answered ${toHex(apdus[0]!.subarray(0, 4))} without a status word`);
    if (!(r.count >= 1 && r.count <= n)) throw new ApduError('APDU_BATCH_COUNT', `the bridge says ${r.count} of ${n} APDUs ran`);
    return { count: r.count, response: await this.followUp(apdus[r.count - 1]!, r.data) };
  }

  /** Whether transmitBatch runs several APDUs per host exchange now (the bridge in force has APDUS). */
  batches(): boolean {
    return this.link.exchangeBatch !== undefined && this.link.batchLimits?.() !== undefined;
  }

  /** The answer so far (data then SW) completed: GET RESPONSE while the card says 61xx. */
  private async followUp(apdu: Uint8Array, r: Uint8Array): Promise<ApduResponse> {
    let sw = this.swOf(r);
    const parts: Uint8Array[] = [r.subarray(0, r.length - 2)];
    for (let n = 0; sw >> 8 === 0x61; n++) {
      if (n >= MAX_CHAINED) throw new ApduError('APDU_RESPONSE_TOO_LONG', 'card keeps announcing more response data (61xx)');
      const gr = Uint8Array.of(getResponseCla(apdu[0]!), 0xc0, 0x00, 0x00, sw & 0xff);
      let g = await this.exchangeChecked(gr);
      let gsw = this.swOf(g);
      if (gsw >> 8 === 0x6c) {
        gr[4] = gsw & 0xff;
        g = await this.exchangeChecked(gr);
        gsw = this.swOf(g);
      }
      parts.push(g.subarray(0, g.length - 2));
      sw = gsw;
    }
    return { data: concatBytes(...parts), sw };
  }

  private async exchangeChecked(tpdu: Uint8Array): Promise<Uint8Array> {
    const r = await this.link.exchange(tpdu);
    if (r.length < 2) throw new ApduError('APDU_NO_STATUS', `card answered ${toHex(tpdu.subarray(0, 5))} without a status word`);
    return r;
  }

  private swOf(r: Uint8Array): number {
    return (r[r.length - 2]! << 8) | r[r.length - 1]!;
  }
}

function checkShape(apdu: Uint8Array): void {
  if (apdu.length < 4) throw new ApduError('APDU_MALFORMED', `APDU of ${apdu.length} bytes is too short`);
  if (apdu.length > 5) {
    const lc = apdu[4]!;
    if (lc === 0) throw new ApduError('APDU_MALFORMED', 'extended-length APDUs are not supported under T=0');
    if (apdu.length !== 5 + lc && apdu.length !== 6 + lc) throw new ApduError('APDU_MALFORMED', `Lc ${lc} does not match the APDU length ${apdu.length}`);
  }
}
