/**
 * One card slot of a bridge: power, activation (cold reset, ATR, PPS to the fastest Fi/Di both
 * card and bridge run), TPDUs, and an APDU channel on top (T0ApduChannel does 61xx / 6Cxx, or
 * hands the whole APDU to the bridge's APDU verb when INFO advertises it: one host round trip
 * instead of one per TPDU; and a sequence of APDUs to the APDUS verb when INFO has BATCH=).
 * Logical channels live above this (the FPA client sets CLA bits); CLA passes through as is.
 */
import { TA1_DEFAULT, buildPps, fiDiFromTa1, parseAtr, type Atr } from '../../core/bridge-protocol/iso7816.ts';
import type { CardReply, SlotStatus, VccClass } from '../../core/bridge-protocol/verbs.ts';
import type { ApduResponse } from '../../core/apdu.ts';
import { T0ApduChannel, type BatchLimits, type TpduLink } from '../card/t0-apdu.ts';
import type { BridgeDriver } from './bridge-driver.ts';
import { BridgeError } from './errors.ts';
import { choosePpsTa1 } from './negotiate.ts';
import { etuSeconds } from './timeouts.ts';

/** ISO 7816-3: reset, ATR and PPS run at 1..5 MHz; the clock may go up only after PPS. */
const ACTIVATION_MAX_HZ = 5_000_000;

export interface ActivateOptions {
  /** Switch the supply on at this class first (remembered for a re-activation after a failed PPS). */
  vcc?: VccClass;
  /**
   * Card clock wanted for the session. Reset, ATR and PPS run at min(clockHz, 5 MHz); after
   * the Fi/Di is settled the clock is raised towards clockHz, up to what that Fi and the bridge
   * allow. Default: the bridge's FDEF for everything.
   */
  clockHz?: number;
  /** Negotiate a faster Fi/Di with PPS (config loading.pps). Default true. */
  pps?: boolean;
}

/** How the Fi/Di in force came about. */
export type Negotiation =
  /** PPS accepted at the chosen Fi/Di. */
  | 'pps'
  /** The card answered PPS without PPS1: defaults. */
  | 'pps-declined'
  /** PPS failed (mute or malformed answer): a new cold reset, then the defaults. */
  | 'pps-failed'
  /** TA2 present: the card runs TA1's Fi/Di from the ATR on, no PPS. */
  | 'specific'
  /** No PPS (disabled, or nothing faster than the defaults both sides allow). */
  | 'default';

export interface Activation {
  atr: Uint8Array;
  parsed: Atr;
  /** Fi/Di in force as a TA1-style byte. */
  ta1: number;
  fi: number;
  di: number;
  clockHz: number;
  etuSeconds: number;
  /** TA1 asked for with PPS, when PPS was tried. */
  ppsTa1?: number;
  negotiation: Negotiation;
}

export interface SlotLinkStats {
  /** TPDU requests sent (host-side T=0). */
  tpdus: number;
  /** APDU requests sent (each runs one or more TPDUs at the bridge). */
  apdus: number;
  /** APDUS requests sent, and the APDUs they ran (PROTOCOL.md §4a). */
  batches: number;
  batchedApdus: number;
  /** Card-contact time reported by the bridge, summed over this activation's TPDUs and APDUs, µs. */
  cardMicros: number;
}

export class SlotLink implements TpduLink {
  private current: { activation: Activation; generation: number } | undefined;
  private vcc: VccClass | undefined;
  private apduChannel: T0ApduChannel | undefined;
  readonly stats: SlotLinkStats = { tpdus: 0, apdus: 0, batches: 0, batchedApdus: 0, cardMicros: 0 };

  constructor(
    readonly driver: BridgeDriver,
    readonly slot: number,
  ) {}

  /** The activation in force, or undefined (never activated, or lost since: reconnect, removal, fault, card failure). */
  get activation(): Activation | undefined {
    const c = this.current;
    return c && c.generation === this.driver.slotGeneration(this.slot) ? c.activation : undefined;
  }

  /** APDUs of any case over T=0 (GET RESPONSE for 61xx, repeat with the right Le for 6Cxx). */
  get channel(): T0ApduChannel {
    this.apduChannel ??= new T0ApduChannel(this);
    return this.apduChannel;
  }

  apdu(apdu: Uint8Array): Promise<ApduResponse> {
    return this.channel.transmit(apdu);
  }

  status(): Promise<SlotStatus> {
    return this.driver.status(this.slot);
  }

  /** Supply on at a class (A 5 V, B 3 V, C 1.8 V); a no-op when already on at that class. */
  async power(vcc: VccClass): Promise<void> {
    await this.driver.power(this.slot, vcc);
    this.vcc = vcc;
  }

  /** ISO deactivation; also clears a slot FAULT. */
  async powerOff(): Promise<void> {
    this.current = undefined;
    await this.driver.power(this.slot, 'OFF');
  }

  /** Cold reset, ATR, Fi/Di negotiation and clock. The slot must be powered (or pass `vcc`). */
  async activate(opts: ActivateOptions = {}): Promise<Activation> {
    this.current = undefined;
    if (opts.vcc) await this.power(opts.vcc);
    else if (!this.vcc) {
      // Powered by someone else: learn the class now, a failed PPS needs it to power up again.
      const vcc = (await this.status()).vcc;
      if (vcc !== 'OFF') this.vcc = vcc;
    }
    const info = this.driver.info;
    if (!info) throw new BridgeError('BRIDGE_DISCONNECTED', `bridge ${this.driver.path} is not connected`, { port: this.driver.path, slot: this.slot });
    if (opts.clockHz !== undefined && !(opts.clockHz >= info.fminHz)) {
      throw new BridgeError('BRIDGE_ARG', `clock ${opts.clockHz} Hz is below the bridge minimum ${info.fminHz} Hz`, { port: this.driver.path, slot: this.slot });
    }
    const resetHz = Math.min(opts.clockHz ?? this.driver.linkParams(this.slot).clockHz, ACTIVATION_MAX_HZ);
    if (resetHz !== this.driver.linkParams(this.slot).clockHz) await this.driver.clock(this.slot, resetHz);

    let atr = await this.coldReset();
    const needT0Pps = atr.protocols[0] !== 0; // first offered protocol is the default one
    let negotiation: Negotiation = 'default';
    let ppsTa1: number | undefined;
    if (atr.specificMode) {
      negotiation = 'specific';
    } else if (opts.pps !== false || needT0Pps) {
      const target = opts.pps === false ? TA1_DEFAULT : choosePpsTa1(atr.ta1, info.ta1);
      if (target !== TA1_DEFAULT || needT0Pps) {
        ppsTa1 = target;
        const got = await this.tryPps(target);
        if (got === 'failed') {
          // ISO 7816-3 §9.3: after a failed PPS the card needs a new reset; continue at the defaults.
          await this.repower();
          atr = await this.coldReset();
          negotiation = 'pps-failed';
        } else {
          negotiation = got === target ? 'pps' : got === 'untouched' ? 'default' : 'pps-declined';
        }
      }
    }

    const link = this.driver.linkParams(this.slot);
    const ta1 = taOf(link.fi, link.di, atr, ppsTa1);
    const wantHz = opts.clockHz;
    if (wantHz !== undefined && wantHz > link.clockHz) {
      const top = Math.min(wantHz, fiDiFromTa1(ta1).fmaxHz, info.fmaxHz);
      if (top > link.clockHz) await this.driver.clock(this.slot, top);
    }
    const final = this.driver.linkParams(this.slot);
    const activation: Activation = {
      atr: atr.bytes,
      parsed: atr,
      ta1,
      fi: final.fi,
      di: final.di,
      clockHz: final.clockHz,
      etuSeconds: etuSeconds(final.fi, final.di, final.clockHz),
      ...(ppsTa1 !== undefined ? { ppsTa1 } : {}),
      negotiation,
    };
    this.current = { activation, generation: this.driver.slotGeneration(this.slot) };
    this.stats.tpdus = 0;
    this.stats.apdus = 0;
    this.stats.batches = 0;
    this.stats.batchedApdus = 0;
    this.stats.cardMicros = 0;
    return activation;
  }

  /** One T=0 TPDU (TpduLink): response data then SW1 SW2. */
  async exchange(tpdu: Uint8Array): Promise<Uint8Array> {
    return (await this.exchangeTimed(tpdu)).data;
  }

  /** One T=0 TPDU with the card-contact time the bridge measured. */
  async exchangeTimed(tpdu: Uint8Array): Promise<CardReply> {
    this.requireActive('TPDU');
    const r = await this.driver.tpdu(this.slot, tpdu);
    this.stats.tpdus++;
    this.stats.cardMicros += r.micros;
    return r;
  }

  /** TpduLink: the bridge in force advertised the APDU verb (INFO APDU=1). */
  canExchangeApdu(): boolean {
    return this.driver.info?.apdu === true;
  }

  /** TpduLink: one whole short APDU run by the bridge (61xx / 6Cxx followed up there). */
  async exchangeApdu(apdu: Uint8Array): Promise<Uint8Array> {
    this.requireActive('APDU');
    const r = await this.driver.apdu(this.slot, apdu);
    this.stats.apdus++;
    this.stats.cardMicros += r.micros;
    return r.data;
  }

  /** TpduLink: the APDUS limits of the bridge in force (INFO BATCH= and LINE), undefined without the verb. */
  batchLimits(): BatchLimits | undefined {
    const info = this.driver.info;
    return info?.batch !== undefined && info.batch > 0 ? { maxApdus: info.batch, maxLine: info.maxLine } : undefined;
  }

  /** TpduLink: APDUs run in order by the bridge until one answers more than a bare 9000. */
  async exchangeBatch(apdus: readonly Uint8Array[]): Promise<{ count: number; data: Uint8Array }> {
    this.requireActive('APDUS');
    const r = await this.driver.apdus(this.slot, apdus);
    this.stats.batches++;
    this.stats.batchedApdus += r.count;
    this.stats.cardMicros += r.micros;
    return { count: r.count, data: r.data };
  }

  private requireActive(verb: string): void {
    // While the bridge is away the driver's BRIDGE_DISCONNECTED is the clearer answer.
    if (!this.activation && this.driver.connected) {
      throw new BridgeError('BRIDGE_SLOT_INACTIVE', `slot ${this.slot} of bridge ${this.driver.path} is not activated (never, or lost since by a reconnect, card removal, fault or card failure)`, {
        port: this.driver.path,
        slot: this.slot,
        verb,
      }, { hint: 'power and activate the slot again' });
    }
  }

  private async coldReset(): Promise<Atr> {
    const r = await this.driver.reset(this.slot, 'COLD');
    // The driver already parsed it to track the slot's parameters; this cannot fail after that.
    return parseAtr(r.data);
  }

  /** The Fi/Di byte in force after PPS, 'untouched' when the bridge refused before the card saw it, 'failed' when the card failed it. */
  private async tryPps(ta1: number): Promise<number | 'untouched' | 'failed'> {
    try {
      await this.driver.pps(this.slot, buildPps(ta1));
    } catch (e) {
      if (!(e instanceof BridgeError)) throw e;
      if (e.wire === 'MUTE' || e.wire === 'PROTO') return 'failed';
      if (e.wire === 'UNSUPPORTED' || e.wire === 'ARG' || e.wire === 'STATE') return 'untouched';
      throw e;
    }
    const l = this.driver.linkParams(this.slot);
    return ta1 === TA1_DEFAULT || (fiDiFromTa1(ta1).fi === l.fi && fiDiFromTa1(ta1).di === l.di) ? ta1 : TA1_DEFAULT;
  }

  /** Power the slot again after the bridge deactivated it (failed PPS). */
  private async repower(): Promise<void> {
    const vcc = this.vcc;
    if (!vcc) {
      throw new BridgeError('BRIDGE_ARG', `slot ${this.slot} of bridge ${this.driver.path}: supply class unknown for the re-activation after a failed PPS`, { port: this.driver.path, slot: this.slot }, {
        hint: 'power the slot with power(class) or activate({ vcc })',
      });
    }
    await this.power(vcc);
  }
}

/** The TA1-style byte naming the Fi/Di in force. */
function taOf(fi: number, di: number, atr: Atr, ppsTa1: number | undefined): number {
  for (const t of [ppsTa1, atr.ta1, TA1_DEFAULT]) {
    if (t === undefined) continue;
    const f = fiDiFromTa1(t);
    if (f.fi === fi && f.di === di) return t;
  }
  return TA1_DEFAULT;
}
