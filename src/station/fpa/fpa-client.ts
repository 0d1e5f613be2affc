/**
 * The Factory Profile Assistant's side of ES10f: talks to one eUICC through an APDU channel.
 * Selects the ISD-R, reads the EID and the factory info, prepares a factory load and pushes a
 * BPP segment by segment exactly as the primer (§2 "Loading") prescribes, stopping at an early
 * BF37. It never sees a key or a clear-text profile.
 */
import { concatBytes, toHex } from '../../core/bytes.ts';
import { IfppError, isIfppError } from '../../core/errors.ts';
import { bppLoadPlan, parseBpp, type BppCall } from '../../core/rsp/bpp.ts';
import { decodeEuiccInfo2, decodeGetEidResponse, encodeGetEidRequest, encodeGetEuiccInfo2Request, decodeProfileInfoListResponse, encodeProfileInfoListRequest } from '../../core/rsp/es10.ts';
import type { FactoryInfo, FactoryResultName, PrepareFactoryLoadRequest } from '../../core/rsp/factory.ts';
import { decodePir, type Pir } from '../../core/rsp/pir.ts';
import { storeDataApdus } from '../../core/rsp/store-data.ts';
import { classifyStatusWord } from '../../core/rsp/status-word.ts';
import { runApduSequence, swHex, type ApduResponse, type ApduSequenceResult } from '../../core/apdu.ts';
import { projectEuiccDialect, type EuiccDialect } from './dialect.ts';

export class FpaError extends IfppError {}

export interface ApduTransmitter {
  transmit(apdu: Uint8Array): Promise<ApduResponse>;
  /**
   * Optional: runs APDUs in order, stopping after the first answer that carries data or a
   * status other than 9000 (a bridge with the APDUS verb: as many as one exchange carries; the
   * client sends the rest). Without it the client applies the same rule one transmit() at a time.
   */
  transmitBatch?(apdus: readonly Uint8Array[]): Promise<ApduSequenceResult>;
  /** Whether transmitBatch carries several APDUs per host exchange now; without it, one each. */
  batches?(): boolean;
}

export interface FpaClientOptions {
  dialect?: EuiccDialect;
  /** STORE DATA block size (1..255; capped by the dialect). */
  blockSize?: number;
  /** 0 = basic channel; otherwise a logical channel is opened with MANAGE CHANNEL. */
  useLogicalChannel?: boolean;
  /** Called for every APDU exchanged (for the event stream's APDU summaries). */
  onApdu?: (summary: { command: string; sw: number; bytesOut: number; bytesIn: number }) => void;
}

export interface LoadProgress {
  bytesSent: number;
  bytesTotal: number;
  callsSent: number;
  callsTotal: number;
}

export interface LoadHooks {
  /** Awaited right before the BF23 call goes out: the last moment the key is still unburnt. */
  beforeSecureChannel?: () => Promise<void>;
  onProgress?: (p: LoadProgress) => void;
  /** Checked before every load call: an e-stop stops the push between two segments. */
  signal?: AbortSignal;
}

export interface LoadOutcome {
  pir: Pir;
  /** The PIR arrived before the last call: the chip stopped the load. */
  early: boolean;
  /** Whether the BF23 call was sent (the one-time key is consumed from then on). */
  bf23Sent: boolean;
  callsSent: number;
  bytesSent: number;
  /** Warning status words (62xx/63xx) the chip answered after BF23, with the call they came on. */
  warnings: string[];
}

/**
 * Before BF23 nothing is spent, so a warning is not trusted: the step fails with
 * FPA_SW_WARNING and the attempt can be retried with the key intact. From BF23 on the key is
 * consumed whatever happens, and only the chip's signed result can say what it did: a warning
 * is noted and the load goes on to the PIR.
 */
type WarningPolicy = 'refuse';

export class FpaClient {
  readonly dialect: EuiccDialect;
  private channel = 0;
  private readonly blockSize: number;

  constructor(
    private readonly link: ApduTransmitter,
    private readonly opts: FpaClientOptions = {},
  ) {
    this.dialect = opts.dialect ?? projectEuiccDialect;
    this.blockSize = Math.max(1, Math.min(opts.blockSize ?? 255, this.dialect.maxBlockSize));
  }

  private async send(apdu: Uint8Array, what: string): Promise<ApduResponse> {
    const r = await this.link.transmit(apdu);
    this.opts.onApdu?.({ command: what, sw: r.sw, bytesOut: apdu.length, bytesIn: r.data.length + 2 });
    return r;
  }

  /** APDUs in order until one answers more than a bare 9000 (ApduTransmitter.transmitBatch). */
  private async sendSequence(apdus: readonly Uint8Array[], what: string): Promise<ApduSequenceResult> {
    if (!this.link.transmitBatch) return runApduSequence((a) => this.send(a, what), apdus);
    const r = await this.link.transmitBatch(apdus);
    for (let i = 0; i < r.count; i++) {
      const last = i === r.count - 1;
      this.opts.onApdu?.({ command: what, sw: last ? r.response.sw : 0x9000, bytesOut: apdus[i]!.length, bytesIn: last ? r.response.data.length + 2 : 2 });
    }
    return r;
  }

  /** Throws on an error status; a warning is refused (before BF23) or handed to the caller. */
  private judge(r: ApduResponse, what: string, onWarning: WarningPolicy | ((sw: number, block: number) => void), block: number): void {
    const kind = classifyStatusWord(r.sw);
    if (kind === 'error') throw this.swError(`${what} (block ${block})`, r.sw);
    if (kind !== 'warning') return;
    if (onWarning === 'refuse') {
      throw new FpaError('FPA_SW_WARNING', `${what} (block ${block}) ended with warning ${swHex(r.sw)}`, {
        details: { sw: swHex(r.sw) },
        hint: 'nothing was spent (before the secure channel): the slot may be retried; a chip that keeps warning is set aside',
      });
    }
    onWarning(r.sw, block);
  }

  /** Opens a logical channel if asked, then selects the ISD-R on it. */
  async selectIsdR(): Promise<void> {
    if (this.opts.useLogicalChannel) {
      const r = await this.send(Uint8Array.of(0x00, 0x70, 0x00, 0x00, 0x01), 'MANAGE CHANNEL open');
      if (classifyStatusWord(r.sw) !== 'success' || r.data.length !== 1) throw this.swError('MANAGE CHANNEL', r.sw, 'the chip refused a logical channel; set loading.logicalChannel to 0');
      this.channel = r.data[0]!;
    }
    const aid = this.dialect.isdRAid;
    const cla = this.channel < 4 ? this.channel : 0x40 | (this.channel - 4);
    const r = await this.send(concatBytes(Uint8Array.of(cla, 0xa4, 0x04, 0x00, aid.length), aid, Uint8Array.of(0x00)), 'SELECT ISD-R');
    if (classifyStatusWord(r.sw) !== 'success') throw this.swError('SELECT ISD-R', r.sw, r.sw === 0x6a82 ? 'this chip has no ISD-R with that AID: wrong part, or not an eUICC' : undefined);
  }

  /** Closes the logical channel opened by selectIsdR (no-op on the basic channel). */
  async close(): Promise<void> {
    if (this.channel === 0) return;
    await this.send(Uint8Array.of(0x00, 0x70, 0x80, this.channel), 'MANAGE CHANNEL close');
    this.channel = 0;
  }

  /**
   * One ES10 request: STORE DATA blocks, response data of the last block. The blocks go out as
   * one sequence (one host exchange per batch on a bridge with APDUS); a block answering data
   * before the last one (e.g. an early BF37) ends the call.
   */
  async es10(payload: Uint8Array, what: string, onWarning: WarningPolicy | ((sw: number, block: number) => void) = 'refuse'): Promise<Uint8Array> {
    const apdus = storeDataApdus(payload, { channel: this.channel, blockSize: this.blockSize, le: this.dialect.storeDataLe });
    let done = 0;
    for (;;) {
      const { count, response } = await this.sendSequence(apdus.slice(done), what);
      done += count;
      this.judge(response, what, onWarning, done - 1);
      // A chip may answer before the last block only to report a failure (e.g. early BF37).
      if (done === apdus.length || response.data.length > 0) return response.data;
    }
  }

  /** The chip's EID; with `verifyCheckDigits` false a damaged EID is still returned (eidPolicy). */
  async getEid(verifyCheckDigits = true): Promise<string> {
    return this.decode('GetEID', () => this.es10(encodeGetEidRequest(), 'GetEID'), (b) => decodeGetEidResponse(b, { verify: verifyCheckDigits }));
  }

  async getEuiccInfo2() {
    return this.decode('GetEUICCInfo2', () => this.es10(encodeGetEuiccInfo2Request(), 'GetEUICCInfo2'), decodeEuiccInfo2);
  }

  async getFactoryInfo(): Promise<FactoryInfo> {
    const f = this.dialect.factory;
    return this.decode('GetFactoryInfo', () => this.es10(f.encodeGetFactoryInfoRequest(), 'GetFactoryInfo'), (b) => f.decodeGetFactoryInfoResponse(b));
  }

  async prepareFactoryLoad(req: PrepareFactoryLoadRequest): Promise<FactoryResultName | number> {
    const f = this.dialect.factory;
    const r = await this.decode('PrepareFactoryLoad', () => this.es10(f.encodePrepareFactoryLoadRequest(req), 'PrepareFactoryLoad'), (b) => f.decodePrepareFactoryLoadResponse(b));
    return r.name ?? r.code;
  }

  async deleteOneTimeKeys(): Promise<{ result: FactoryResultName | number; deleted?: number }> {
    const f = this.dialect.factory;
    const r = await this.decode('DeleteOneTimeKeys', () => this.es10(f.encodeDeleteOneTimeKeysRequest(), 'DeleteOneTimeKeys'), (b) => f.decodeDeleteOneTimeKeysResponse(b));
    return { result: r.result.name ?? r.result.code, ...(r.deletedCount !== undefined ? { deleted: r.deletedCount } : {}) };
  }

  async closeFpaServices(): Promise<FactoryResultName | number> {
    const f = this.dialect.factory;
    const r = await this.decode('CloseFpaServices', () => this.es10(f.encodeCloseFpaServicesRequest(), 'CloseFpaServices'), (b) => f.decodeCloseFpaServicesResponse(b));
    return r.name ?? r.code;
  }

  async listProfiles() {
    return this.decode('GetProfilesInfo', () => this.es10(encodeProfileInfoListRequest(), 'GetProfilesInfo'), decodeProfileInfoListResponse);
  }

  /**
   * Pushes a BPP. Its load calls go out as one sequence of STORE DATA blocks (one host
   * exchange per batch on a bridge with APDUS, PROTOCOL.md §4a), BF23 first, after
   * beforeSecureChannel; a call's last block answers 9000 without data, so the sequence runs on
   * into the next call. A non-empty answer before the last block of the last call is the chip's
   * early BF37 and ends the load. The abort signal is checked before every host exchange
   * (with APDUS that may be inside a call: the station powers the slots off at an e-stop anyway).
   */
  async loadBpp(bpp: Uint8Array, hooks: LoadHooks = {}): Promise<LoadOutcome> {
    let plan: BppCall[];
    try {
      plan = bppLoadPlan(parseBpp(bpp));
    } catch (e) {
      if (!isIfppError(e)) throw e;
      throw new FpaError('FPA_BPP_MALFORMED', `the BPP is malformed: ${e.message}`, { hint: 'the store should have rejected it at import; re-import the batch' });
    }
    if (plan.length === 0) throw new FpaError('FPA_EMPTY_BPP', 'the BPP has no load calls');
    const bytesTotal = plan.reduce((n, c) => n + c.bytes.length, 0);
    // Every block of every call, with the call it belongs to.
    const apdus: Uint8Array[] = [];
    const callOf: number[] = [];
    const blockOf: number[] = [];
    for (let c = 0; c < plan.length; c++) {
      const blocks = storeDataApdus(plan[c]!.bytes, { channel: this.channel, blockSize: this.blockSize, le: this.dialect.storeDataLe });
      blocks.forEach((b, i) => {
        apdus.push(b);
        callOf.push(c);
        blockOf.push(i);
      });
    }
    let bytesSent = 0;
    let callsDone = 0;
    let bf23Sent = false;
    const warnings: string[] = [];
    const whatOf = (c: number) => `LoadBoundProfilePackage ${plan[c]!.kind}`;
    let done = 0;
    while (done < apdus.length) {
      const first = callOf[done]!;
      // An e-stop ends the load before the next host exchange (the station cuts the slots' power anyway).
      if (hooks.signal?.aborted) {
        throw new FpaError('FPA_ABORTED', `load stopped before call ${first + 1} of ${plan.length}: ${String(hooks.signal.reason ?? 'abort')}`);
      }
      // The journal rule: nothing of BF23 leaves before beforeSecureChannel has returned, and a
      // request never carries blocks from before and after that point. A link without batches
      // gets one call per sequence, as before (progress and the e-stop check after each call).
      let end = apdus.length;
      const nextBf23 = plan.findIndex((c, i) => i > first && c.kind === 'bf23');
      if (nextBf23 > 0) end = callOf.indexOf(nextBf23);
      if (!this.link.batches?.()) end = Math.min(end, callOf.indexOf(first + 1) < 0 ? apdus.length : callOf.indexOf(first + 1));
      if (plan[first]!.kind === 'bf23' && blockOf[done] === 0) {
        await hooks.beforeSecureChannel?.();
        bf23Sent = true;
      }
      const { count, response } = await this.sendSequence(apdus.slice(done, end), whatOf(first));
      const at = done + count - 1;
      done += count;
      const call = callOf[at]!;
      const callEnded = done === apdus.length || callOf[done] !== call;
      this.judge(response, whatOf(call), bf23Sent ? (sw, block) => warnings.push(`${whatOf(call)} call ${call + 1} block ${block}: ${swHex(sw)}`) : 'refuse', blockOf[at]!);
      const answered = response.data.length > 0;
      // Calls whose last block has run (and the one a chip answered early) count as sent.
      const through = callEnded || answered ? call + 1 : call;
      for (; callsDone < through; callsDone++) {
        bytesSent += plan[callsDone]!.bytes.length;
        hooks.onProgress?.({ bytesSent, bytesTotal, callsSent: callsDone + 1, callsTotal: plan.length });
      }
      const isLast = done === apdus.length;
      if (answered || isLast) {
        if (!answered) {
          throw new FpaError('FPA_NO_PIR', 'the chip accepted the whole BPP but sent no ProfileInstallationResult', {
            hint: 'the unit is in an unknown state; its key is consumed: check the chip and report it',
          });
        }
        const pir = await this.decode('ProfileInstallationResult', async () => response.data, decodePir);
        return { pir, early: !isLast, bf23Sent, callsSent: callsDone, bytesSent, warnings };
      }
    }
    throw new FpaError('FPA_EMPTY_BPP', 'the BPP has no load calls');
  }

  private async decode<T>(what: string, get: () => Promise<Uint8Array>, parse: (b: Uint8Array) => T): Promise<T> {
    const bytes = await get();
    try {
      return parse(bytes);
    } catch (e) {
      if (!isIfppError(e)) throw e;
      throw new FpaError('FPA_BAD_RESPONSE', `${what}: the chip's answer is malformed: ${e.message}`, {
        details: { response: toHex(bytes.subarray(0, 64)) },
        hint: 'wrong dialect for this chip family, or a damaged chip',
      });
    }
  }

  private swError(what: string, sw: number, hint?: string): FpaError {
    return new FpaError('FPA_SW_ERROR', `${what} failed with status ${swHex(sw)}`, { details: { sw: swHex(sw) }, ...(hint ? { hint } : {}) });
  }
}
