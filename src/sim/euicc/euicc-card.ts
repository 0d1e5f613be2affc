/**
 * The simulated eUICC as a SimCard (src/sim/card/card-model.ts): what the bridge simulator
 * drives. This layer is the contact side of the chip: ATR and PPS, the T=0 TPDU rules
 * (61xx / GET RESPONSE / 6Cxx through T0Responder), CLA decoding with logical channels (basic
 * 0–3 and further 4–19, interindustry and GlobalPlatform proprietary classes), SELECT of the
 * ISD-R, MANAGE CHANNEL, STORE DATA reassembly per channel; the complete ES10 payloads go to
 * EuiccChip. Faults (mute, removal mid-load, slow NVM, out of memory, PPS) come from a mutable
 * EuiccFaults object.
 *
 * Status words (ISO 7816-4): 6E00 class not supported, 6D00 instruction not supported (also
 * STORE DATA while the ISD-R is not selected on that channel), 6881 logical channel not
 * open, 6882 secure messaging not supported, 6884 command chaining not supported, 6700 wrong
 * length, 6A82 application not found, 6A86 wrong P1/P2 (also a STORE DATA block out of order),
 * 6A81 no logical channel free, 6C01 MANAGE CHANNEL asked with Le other than 1.
 */
import { CardMuteError, T0Responder, type CardResetKind, type SimCard, type TpduResult } from '../card/card-model.ts';
import { channelOfCla, StoreDataAssembler } from '../../core/rsp/store-data.ts';
import { StoreDataError } from '../../core/rsp/errors.ts';
import { tlv } from '../../core/tlv/ber-tlv.ts';
import type { FactoryDialect } from '../../core/rsp/factory.ts';
import type { ReelChip } from '../eum/formats.ts';
import { atrCapabilities, buildEuiccAtr, ppsAnswer, type AtrCapabilities, type EuiccAtrOptions } from './atr.ts';
import { EuiccChip, type PreinstalledProfile } from './chip.ts';
import type { ChipState, ChipStateStore } from './chip-state.ts';
import { EuiccConfigError } from './errors.ts';
import { faultsFrom, type EuiccFaults } from './faults.ts';
import { chipIdentityFromReel, type ReelHeaderLike } from './identity.ts';
import { ISDR_AID, profileByIccid } from './profiles.ts';
import { timingWith, type EuiccTiming } from './timing.ts';

export interface SimulatedEuiccOptions {
  /** The chip's personalisation (secrets included) from a reel. */
  readonly chip: ReelChip;
  /** Reel header: curve and the CI certificate the chip trusts. */
  readonly header: ReelHeaderLike;
  /** Further trusted CI certificates (DER). */
  readonly extraCiCertificates?: readonly Uint8Array[];
  /** ATR content (ignored when the reel record carries its own ATR). */
  readonly atr?: EuiccAtrOptions;
  /** Clock cycles from RST high to the ATR (default 400). */
  readonly atrDelayClocks?: number;
  /** Logical channels including the basic one, 1..20 (default 4). */
  readonly logicalChannels?: number;
  /** The chip's notion of time for certificate validity (default: the host clock). */
  readonly now?: Date | string | (() => Date);
  /** NVM available for profiles, bytes (default: freeNvm of the reel's EUICCInfo2, else 1 000 000). */
  readonly nvmCapacity?: number;
  /** notificationAddress of PIRs when the profile metadata names none. */
  readonly notificationAddress?: string;
  readonly timing?: Partial<EuiccTiming>;
  readonly faults?: Partial<EuiccFaults>;
  /** Persistent state to continue from (same chip re-inserted in the same process). */
  readonly state?: ChipState;
  /** Where the state is loaded from and saved to. */
  readonly store?: ChipStateStore;
  /** Profiles present from personalisation (added when their ICCID is not on the chip yet). */
  readonly preinstalled?: readonly PreinstalledProfile[];
  readonly dialect?: FactoryDialect;
  /** Called when a removal fault fires (see EuiccFaults.removeAtLoadCall). */
  readonly onRemoval?: () => void;
}

interface Channel {
  isdr: boolean;
  readonly assembler: StoreDataAssembler;
}

interface Reply {
  response: Uint8Array;
  earlySw?: boolean;
  /** Chip work beyond the per-APDU cost. */
  seconds: number;
}

const INS_SELECT = 0xa4;
const INS_MANAGE_CHANNEL = 0x70;
const INS_STORE_DATA = 0xe2;

function startsWith(whole: Uint8Array, prefix: Uint8Array): boolean {
  return prefix.length <= whole.length && prefix.every((b, i) => whole[i] === b);
}

function swBytes(v: number): Uint8Array {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}

type ClassInfo = { channel: number; proprietary: boolean } | { sw: number };

/** ISO 7816-4 §5.4.1 classes, plus the GlobalPlatform proprietary forms (80–83, C0–CF). */
function decodeCla(cla: number): ClassInfo {
  const prop = channelOfCla(cla);
  if (prop !== undefined) return { channel: prop, proprietary: true };
  if (cla <= 0x1f) {
    if (cla & 0x10) return { sw: 0x6884 };
    if (cla & 0x0c) return { sw: 0x6882 };
    return { channel: cla & 0x03, proprietary: false };
  }
  if (cla >= 0x40 && cla <= 0x7f) {
    if (cla & 0x10) return { sw: 0x6884 };
    if (cla & 0x20) return { sw: 0x6882 };
    return { channel: 4 + (cla & 0x0f), proprietary: false };
  }
  return { sw: 0x6e00 };
}

export class SimulatedEuicc implements SimCard {
  readonly chip: EuiccChip;
  /** Fault switches: change them at any time. */
  readonly faults: EuiccFaults;
  readonly atrDelayClocks: number;
  /** Runs when a removal fault fires; a test or bridge pulls the card from its slot here. */
  onRemoval: (() => void) | undefined;
  private timing: EuiccTiming;
  private readonly atrBytes: Uint8Array;
  private readonly cap: AtrCapabilities;
  private readonly maxChannels: number;
  private readonly responder = new T0Responder();
  private channels: (Channel | undefined)[] = [];
  /** Silent until the next power-off (hang, or pulled from the slot). */
  private silentUntilPowerOff = false;

  constructor(opts: SimulatedEuiccOptions) {
    const identity = chipIdentityFromReel(opts.chip, opts.header, opts.extraCiCertificates);
    this.faults = faultsFrom(opts.faults);
    this.timing = timingWith(opts.timing);
    this.atrDelayClocks = opts.atrDelayClocks ?? 400;
    this.maxChannels = opts.logicalChannels ?? 4;
    if (!Number.isInteger(this.maxChannels) || this.maxChannels < 1 || this.maxChannels > 20) {
      throw new EuiccConfigError('EUICC_BAD_CHANNELS', `logicalChannels must be 1..20, got ${opts.logicalChannels}`);
    }
    this.atrBytes = identity.atr ?? buildEuiccAtr(opts.atr);
    try {
      this.cap = atrCapabilities(this.atrBytes);
    } catch (e) {
      throw new EuiccConfigError('EUICC_BAD_ATR', `ATR of chip ${identity.eid} does not parse: ${(e as Error).message}`, { cause: e });
    }
    const now = opts.now;
    if ((typeof now === 'string' || now instanceof Date) && Number.isNaN(new Date(now).getTime())) {
      throw new EuiccConfigError('EUICC_BAD_NOW', `now ${String(now)} is not a date`);
    }
    this.chip = new EuiccChip({
      identity,
      ...(opts.state ? { state: opts.state } : {}),
      ...(opts.store ? { store: opts.store } : {}),
      ...(opts.dialect ? { dialect: opts.dialect } : {}),
      ...(now !== undefined ? { now: typeof now === 'function' ? now : () => new Date(now) } : {}),
      ...(opts.nvmCapacity !== undefined ? { nvmCapacity: opts.nvmCapacity } : {}),
      ...(opts.notificationAddress !== undefined ? { notificationAddress: opts.notificationAddress } : {}),
      timing: this.timing,
      faults: this.faults,
    });
    for (const p of opts.preinstalled ?? []) if (!profileByIccid(this.chip.state, p.iccid)) this.chip.preinstall(p);
    this.onRemoval = opts.onRemoval;
    this.resetSession();
  }

  get eid(): string {
    return this.chip.identity.eid;
  }

  /** Changes the processing-time model (e.g. a slow chip) from now on. */
  setTiming(over: Partial<EuiccTiming>): void {
    // The chip holds the same object: update in place.
    Object.assign(this.timing, timingWith({ ...this.timing, ...over }));
  }

  // ---- SimCard ----

  atr(_kind: CardResetKind): Uint8Array {
    if (this.silent()) throw new CardMuteError('eUICC does not answer the reset');
    this.resetSession();
    return this.atrBytes.slice();
  }

  pps(request: Uint8Array): Uint8Array | null {
    if (this.silent()) return null;
    return ppsAnswer(this.cap, request, this.faults.pps);
  }

  async transmitTpdu(tpdu: Uint8Array): Promise<TpduResult> {
    if (this.silent()) throw new CardMuteError('eUICC does not answer');
    const r = this.command(tpdu);
    const t = this.timing;
    const bytes = Math.max(0, tpdu.length - 5) + Math.max(0, r.response.length - 2);
    return {
      response: r.response,
      processingSeconds: t.apduSeconds + t.perByteSeconds * bytes + r.seconds,
      ...(r.earlySw ? { earlySw: true } : {}),
    };
  }

  powerOff(): void {
    this.silentUntilPowerOff = false;
    if (this.faults.mute === 'untilPowerOff') this.faults.mute = false;
    this.resetSession();
  }

  // ---- session ----

  private silent(): boolean {
    return this.silentUntilPowerOff || this.faults.mute !== false;
  }

  private resetSession(): void {
    this.responder.reset();
    this.channels = [{ isdr: false, assembler: new StoreDataAssembler() }];
    this.chip.resetSession();
  }

  // ---- commands ----

  private command(tpdu: Uint8Array): Reply {
    if (tpdu.length < 5) return this.early(0x6700, false);
    const [cla, ins, p1, p2, p3] = tpdu as unknown as [number, number, number, number, number];
    const body = tpdu.subarray(5);
    if (body.length !== 0 && body.length !== p3) return this.early(0x6700, false);
    const gr = this.responder.getResponse(tpdu);
    if (gr) return { response: gr, seconds: 0 };
    const hasData = body.length > 0;
    if ((ins & 0xf0) === 0x60 || (ins & 0xf0) === 0x90) return this.early(0x6d00, hasData);
    const cls = decodeCla(cla);
    if ('sw' in cls) return this.early(cls.sw, hasData);
    const ch = this.channels[cls.channel];
    if (!ch) return this.early(0x6881, hasData);
    if (!cls.proprietary && ins === INS_SELECT) return this.select(tpdu, ch, p1, p2, body);
    if (!cls.proprietary && ins === INS_MANAGE_CHANNEL) return this.manageChannel(tpdu, cls.channel, p1, p2, p3, body);
    if (cls.proprietary && ins === INS_STORE_DATA) {
      if (!ch.isdr) return this.early(0x6d00, hasData);
      return this.storeData(tpdu, ch);
    }
    return this.early(0x6d00, hasData);
  }

  /** SW right after the header: the command data (if any) never crosses the contact. */
  private early(sw: number, earlySw: boolean): Reply {
    this.responder.reset();
    return { response: swBytes(sw), ...(earlySw ? { earlySw } : {}), seconds: 0 };
  }

  private answer(tpdu: Uint8Array, data: Uint8Array, sw: number, seconds = 0): Reply {
    return { response: this.responder.respond(tpdu, data, sw), seconds };
  }

  private select(tpdu: Uint8Array, ch: Channel, p1: number, p2: number, aid: Uint8Array): Reply {
    const none = new Uint8Array(0);
    // This chip models no file system: selection by file id or path finds nothing.
    if (p1 !== 0x04) return this.answer(tpdu, none, [0x00, 0x01, 0x02, 0x08, 0x09].includes(p1) ? 0x6a82 : 0x6a86);
    if (p2 !== 0x00 && p2 !== 0x04 && p2 !== 0x0c) return this.answer(tpdu, none, 0x6a86);
    if (aid.length === 0) return this.answer(tpdu, none, 0x6700);
    // A partial DF name (at least the RID) selects the ISD-R too (ISO 7816-4 §8.3).
    if (aid.length < 5 || !startsWith(ISDR_AID, aid)) return this.answer(tpdu, none, 0x6a82);
    ch.isdr = true;
    ch.assembler.reset();
    if (p2 === 0x0c) return this.answer(tpdu, none, 0x9000);
    // FCI: AID, and the proprietary template with the largest command data field (255).
    const fci = tlv(0x6f, tlv(0x84, ISDR_AID), tlv(0xa5, tlv(0x9f65, Uint8Array.of(0xff))));
    return this.answer(tpdu, fci, 0x9000);
  }

  private manageChannel(tpdu: Uint8Array, from: number, p1: number, p2: number, p3: number, body: Uint8Array): Reply {
    const none = new Uint8Array(0);
    if (body.length > 0) return this.answer(tpdu, none, 0x6700);
    if (p1 === 0x00) {
      if (p2 === 0x00) {
        // Case 2 with Le = 1: a wrong Le is refused before anything is opened, so the resend
        // with the right Le does not open a second channel.
        if (p3 !== 1) return this.answer(tpdu, none, 0x6c01);
        const n = this.channels.findIndex((c, i) => i > 0 && c === undefined);
        const free = n > 0 ? n : this.channels.length < this.maxChannels ? this.channels.length : -1;
        if (free < 0) return this.answer(tpdu, none, 0x6a81);
        this.channels[free] = { isdr: false, assembler: new StoreDataAssembler() };
        return this.answer(tpdu, Uint8Array.of(free), 0x9000);
      }
      if (p2 >= this.maxChannels || this.channels[p2]) return this.answer(tpdu, none, 0x6a86);
      while (this.channels.length < p2) this.channels.push(undefined);
      this.channels[p2] = { isdr: false, assembler: new StoreDataAssembler() };
      return this.answer(tpdu, none, 0x9000);
    }
    if (p1 === 0x80) {
      const target = p2 === 0 ? from : p2;
      if (target === 0 || !this.channels[target]) return this.answer(tpdu, none, 0x6a86);
      this.channels[target] = undefined;
      return this.answer(tpdu, none, 0x9000);
    }
    return this.answer(tpdu, none, 0x6a86);
  }

  private storeData(tpdu: Uint8Array, ch: Channel): Reply {
    let payload: Uint8Array | undefined;
    try {
      payload = ch.assembler.push(tpdu);
    } catch (e) {
      if (e instanceof StoreDataError) return this.answer(tpdu, new Uint8Array(0), e.sw);
      throw e;
    }
    if (!payload) return this.answer(tpdu, new Uint8Array(0), 0x9000);
    const n = this.chip.loadCallNumber(payload);
    if (n !== undefined && n === this.faults.removeAtLoadCall) {
      this.faults.removeAtLoadCall = undefined; // one-shot
      this.silentUntilPowerOff = true;
      this.onRemoval?.();
      throw new CardMuteError(`eUICC removed at BPP load call ${n}`);
    }
    if (n !== undefined && n === this.faults.muteAtLoadCall) {
      this.faults.muteAtLoadCall = undefined; // one-shot
      this.silentUntilPowerOff = true;
      throw new CardMuteError(`eUICC went mute at BPP load call ${n}`);
    }
    const sw = this.statusWordFor(payload, n);
    // An error status word (not 9xxx, 62xx, 63xx) means the chip refused: nothing is carried out.
    if (sw !== undefined && sw >> 8 !== 0x62 && sw >> 8 !== 0x63 && sw >> 12 !== 0x9) return this.answer(tpdu, new Uint8Array(0), sw);
    const a = this.chip.es10(payload);
    return this.answer(tpdu, a.data, a.sw === 0x9000 && sw !== undefined ? sw : a.sw, a.seconds);
  }

  /** What a statusWords fault rule says this request answers instead of 9000, if any. */
  private statusWordFor(payload: Uint8Array, loadCall: number | undefined): number | undefined {
    const tag = (payload[0]! & 0x1f) === 0x1f ? (payload[0]! << 8) | payload[1]! : payload[0]!;
    const rule = this.faults.statusWords?.find((r) => (r.loadCall !== undefined ? r.loadCall === loadCall : r.tag !== undefined ? r.tag === tag : true));
    return rule?.sw;
  }
}
