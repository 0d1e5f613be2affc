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
import { swHex, type ApduResponse } from '../../core/apdu.ts';
import { projectEuiccDialect, type EuiccDialect } from './dialect.ts';

export class FpaError extends IfppError {}

export interface ApduTransmitter {
  transmit(apdu: Uint8Array): Promise<ApduResponse>;
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

  /** One ES10 request: STORE DATA blocks, response data of the last block. */
  async es10(payload: Uint8Array, what: string, onWarning: WarningPolicy | ((sw: number, block: number) => void) = 'refuse'): Promise<Uint8Array> {
    const apdus = storeDataApdus(payload, { channel: this.channel, blockSize: this.blockSize, le: this.dialect.storeDataLe });
    let last: ApduResponse | undefined;
    for (let i = 0; i < apdus.length; i++) {
      last = await this.send(apdus[i]!, what);
      const kind = classifyStatusWord(last.sw);
      if (kind === 'error') throw this.swError(`${what} (block ${i})`, last.sw);
      if (kind === 'warning') {
        if (onWarning === 'refuse') {
          throw new FpaError('FPA_SW_WARNING', `${what} (block ${i}) ended with warning ${swHex(last.sw)}`, {
            details: { sw: swHex(last.sw) },
            hint: 'nothing was spent (before the secure channel): the slot may be retried; a chip that keeps warning is set aside',
          });
        }
        if (typeof onWarning === 'function') onWarning(last.sw, i);
      }
      if (i < apdus.length - 1 && last.data.length > 0) {
        // A chip may answer before the last block only to report a failure (e.g. early BF37).
        return last.data;
      }
    }
    return last!.data;
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
   * Pushes a BPP. Each load call is its own ES10 exchange; a non-empty answer before the last
   * call is the chip's early BF37 and ends the load.
   */
  async loadBpp(bpp: Uint8Array, hooks: LoadHooks = {}): Promise<LoadOutcome> {
    let plan: BppCall[];
    try {
      plan = bppLoadPlan(parseBpp(bpp));
    } catch (e) {
      if (!isIfppError(e)) throw e;
      throw new FpaError('FPA_BPP_MALFORMED', `the BPP is malformed: ${e.message}`, { hint: 'the store should have rejected it at import; re-import the batch' });
    }
    const bytesTotal = plan.reduce((n, c) => n + c.bytes.length, 0);
    let bytesSent = 0;
    let bf23Sent = false;
    const warnings: string[] = [];
    for (let i = 0; i < plan.length; i++) {
      const call = plan[i]!;
      if (hooks.signal?.aborted) {
        throw new FpaError('FPA_ABORTED', `load stopped before call ${i + 1} of ${plan.length}: ${String(hooks.signal.reason ?? 'abort')}`);
      }
      if (call.kind === 'bf23') {
        await hooks.beforeSecureChannel?.();
        bf23Sent = true;
      }
      const what = `LoadBoundProfilePackage ${call.kind}`;
      const answer = await this.es10(call.bytes, what, bf23Sent ? (sw, block) => warnings.push(`${what} call ${i + 1} block ${block}: ${swHex(sw)}`) : 'refuse');
      bytesSent += call.bytes.length;
      hooks.onProgress?.({ bytesSent, bytesTotal, callsSent: i + 1, callsTotal: plan.length });
      const isLast = i === plan.length - 1;
      if (answer.length > 0 || isLast) {
        if (answer.length === 0) {
          throw new FpaError('FPA_NO_PIR', 'the chip accepted the whole BPP but sent no ProfileInstallationResult', {
            hint: 'the unit is in an unknown state; its key is consumed: check the chip and report it',
          });
        }
        const pir = this.decode('ProfileInstallationResult', async () => answer, decodePir);
        return { pir: await pir, early: !isLast, bf23Sent, callsSent: i + 1, bytesSent, warnings };
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
