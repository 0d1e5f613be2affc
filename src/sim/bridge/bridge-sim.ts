/**
 * UART bridge simulator: one bridge serving 1..16 card slots over one pty, speaking the line
 * protocol of hardware/PROTOCOL.md. Requests to different slots run concurrently; one request
 * per slot may be outstanding. Each card operation is answered after its modeled
 * card-contact time (timing-model.ts) times `timeScale` (0 = at once, 1 = real time).
 * Fault injection: corrupt the next line, drop the next response, disconnect/reconnect the pty,
 * insert/remove cards, raise slot faults.
 */
import { EventEmitter } from 'node:events';
import { concatBytes } from '../../core/bytes.ts';
import { IfppError } from '../../core/errors.ts';
import { BridgeProtocolError, type WireErrorCode } from '../../core/bridge-protocol/errors.ts';
import { LineAssembler, MAX_LINE, MAX_SLOTS, formatErr, formatOk, parseRequest } from '../../core/bridge-protocol/frame.ts';
import { FD, DD, TA1_DEFAULT, WI_DEFAULT, fiDiFromTa1, getResponseCla, isValidTa1, t0CommandTpdu, parseAtr, parsePps, ppsOutcome } from '../../core/bridge-protocol/iso7816.ts';
import {
  MAX_APDU_GET_RESPONSES,
  MAX_APDU_RESPONSE_DATA,
  PROTOCOL_VERSION,
  decodeRequest,
  encodeEvent,
  encodeReply,
  type BridgeInfo,
  type BridgeRequest,
  type SlotState,
  type VccClass,
} from '../../core/bridge-protocol/verbs.ts';
import { PtyDevice } from '../pty/pty-device.ts';
import type { SimCard } from '../card/card-model.ts';
import { PacedLane, realClock, type Clock } from './scheduler.ts';
import { FrameLink, type FrameLinkDelay } from './frame-link.ts';
import {
  RST_LOW_CLOCKS,
  etuSeconds,
  exchangeEtu,
  muteResetSeconds,
  ppsMuteSeconds,
  ppsSeconds,
  resetSeconds,
  t0Runs,
  tpduTimeoutSeconds,
  tpduWireSeconds,
  type LinkParams,
  type Run,
} from './timing-model.ts';

export class BridgeSimError extends IfppError {}

export interface BridgeSimOptions {
  /** Number of slots, 1..16. */
  slots: number;
  /** Symlink kept pointing at the pty (stable path across reconnects). */
  link?: string;
  /** Multiplier on modeled times: 0 = answer at once, 1 = real time. Default 1. */
  timeScale?: number;
  /** Cards present at start, by slot (no CARD IN events for these). */
  cards?: readonly (SimCard | undefined)[];
  firmware?: string;
  fminHz?: number;
  fmaxHz?: number;
  /** Clock every slot starts with. */
  fdefHz?: number;
  classes?: string;
  /** TA1-style Fi/Di bytes the bridge can run (PPS to anything else gets ERR UNSUPPORTED). */
  supportedTa1?: Uint8Array;
  rstLowClocks?: number;
  /** Offer the APDU verb (INFO `APDU=1`). Default true; false answers it ERR VERB, like a bridge that predates it. */
  apduVerb?: boolean;
  /**
   * Offer the APDUS verb with at most this many APDUs per request (INFO `BATCH=n`, and `LINE`
   * raised to BATCH_LINE). Default DEFAULT_BATCH, as the reference firmware; 0 answers it
   * ERR VERB and keeps LINE=600, like a bridge that predates it.
   */
  batch?: number;
  /** Time source for pacing (tests inject a fake one). */
  clock?: Clock;
  /**
   * Host link model: 0 (default) = the pty as it is; F > 0 = a USB-like link that delivers
   * each line, in each direction, at the next F ms frame boundary (USB full speed: 1 ms
   * frames). Lines from the host are handled, and lines to the host written, only then
   * (frame-link.ts).
   */
  linkFrameMs?: number;
}

/** One card exchange as modeled: the numbers behind the `<us>` field of the reply. */
export interface ExchangeRecord {
  slot: number;
  id: number;
  verb: 'RESET' | 'PPS' | 'TPDU';
  fi: number;
  di: number;
  clockHz: number;
  guardN: number;
  etuSeconds: number;
  /** Character runs on the I/O line (RESET: the ATR only). */
  runs: Run[];
  wireSeconds: number;
  /** Card processing (TPDU), or RST-low plus ATR delay clocks (RESET). */
  extraSeconds: number;
  /** wireSeconds + extraSeconds: what the reply's duration field reports (in µs). */
  seconds: number;
}

interface Inflight {
  id: number;
  cancel: (() => void) | undefined;
}

interface Slot {
  index: number;
  card: SimCard | undefined;
  state: SlotState;
  vcc: VccClass | 'OFF';
  clockHz: number;
  ta1: number;
  guardN: number;
  wi: number;
  ppsAllowed: boolean;
  lastId: number;
  inflight: Inflight | undefined;
  /** Bumped whenever in-flight work must be abandoned (removal, fault, disconnect). */
  epoch: number;
  lane: PacedLane;
  last: ExchangeRecord | undefined;
}

/** What a card operation produced: the reply line and how long it took on the contact. */
interface Outcome {
  line: string;
  seconds: number;
  /** The card exchanges behind it (an APDU runs several TPDUs). */
  records?: ExchangeRecord[];
}

/** Card exchanges and time of the TPDUs an APDU (or an APDUS sequence) ran so far. */
interface ApduAccount {
  records: ExchangeRecord[];
  seconds: number;
  micros: number;
}

/** One TPDU run on the contact: the card's answer, or the failure that ended the activation. */
type TpduRun = { ok: true; response: Uint8Array; seconds: number; record: ExchangeRecord } | { ok: false; outcome: Outcome };

export interface BridgeSimEvents {
  exchange: [ExchangeRecord];
  /** A card implementation misbehaved (threw, broke T=0 rules); the slot was deactivated. */
  cardError: [number, unknown];
  /** Every line in (`rx`) and out (`tx`, after fault injection), for logs. */
  line: ['rx' | 'tx', string];
  disconnect: [];
  reconnect: [string];
}

/** APDUs per APDUS request and the request line limit that fits them (8 full STORE DATA blocks), as the reference firmware. */
export const DEFAULT_BATCH = 8;
export const BATCH_LINE = 4200;

const DEFAULT_TA1 = Uint8Array.from([0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x18, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97]);

export class BridgeSim extends EventEmitter<BridgeSimEvents> {
  readonly info: BridgeInfo;
  private readonly slots: Slot[];
  private readonly timeScale: number;
  private readonly clock: Clock;
  private readonly rstLowClocks: number;
  private pty: PtyDevice | undefined;
  private assembler!: LineAssembler;
  private corruptCount = 0;
  private dropCount = 0;
  private overrunNext = false;
  private closing = false;
  /** Frame link model (linkFrameMs > 0): what waits for the next frame boundary, each way. */
  private readonly frames: FrameLink | undefined;

  private constructor(
    private readonly opts: BridgeSimOptions,
    pty: PtyDevice,
  ) {
    super();
    this.timeScale = opts.timeScale ?? 1;
    this.clock = opts.clock ?? realClock;
    this.frames =
      (opts.linkFrameMs ?? 0) > 0
        ? new FrameLink(
            opts.linkFrameMs!,
            {
              fromHost: (d) => this.assembler.push(d),
              toHost: (lines) => this.pty?.write(lines),
            },
            this.clock,
          )
        : undefined;
    this.rstLowClocks = opts.rstLowClocks ?? RST_LOW_CLOCKS;
    this.info = {
      protocol: PROTOCOL_VERSION,
      firmware: opts.firmware ?? 'sim-0.1.0',
      slots: opts.slots,
      fminHz: opts.fminHz ?? 1_000_000,
      fmaxHz: opts.fmaxHz ?? 20_000_000,
      fdefHz: opts.fdefHz ?? 4_000_000,
      classes: opts.classes ?? 'ABC',
      ta1: opts.supportedTa1 ?? DEFAULT_TA1,
      maxLine: (opts.batch ?? DEFAULT_BATCH) > 0 ? BATCH_LINE : MAX_LINE,
      apdu: opts.apduVerb ?? true,
      ...((opts.batch ?? DEFAULT_BATCH) > 0 ? { batch: opts.batch ?? DEFAULT_BATCH } : {}),
    };
    this.slots = Array.from({ length: opts.slots }, (_, index) => {
      const card = opts.cards?.[index];
      return {
        index,
        card,
        state: card ? 'OFF' : 'EMPTY',
        vcc: 'OFF',
        clockHz: this.info.fdefHz,
        ta1: TA1_DEFAULT,
        guardN: 0,
        wi: WI_DEFAULT,
        ppsAllowed: false,
        lastId: 0,
        inflight: undefined,
        epoch: 0,
        lane: new PacedLane(this.clock),
        last: undefined,
      };
    });
    this.attach(pty);
  }

  /** Opens the pty and starts serving. */
  static async start(opts: BridgeSimOptions): Promise<BridgeSim> {
    if (!Number.isInteger(opts.slots) || opts.slots < 1 || opts.slots > MAX_SLOTS) {
      throw new BridgeSimError('BRIDGE_SIM_SLOTS', `slot count ${opts.slots} is not 1..${MAX_SLOTS}`);
    }
    if (opts.timeScale !== undefined && !(opts.timeScale >= 0)) throw new BridgeSimError('BRIDGE_SIM_SCALE', 'time scale must be >= 0');
    if (opts.batch !== undefined && !(Number.isInteger(opts.batch) && opts.batch >= 0 && opts.batch <= 16)) throw new BridgeSimError('BRIDGE_SIM_BATCH', `APDUS batch size ${opts.batch} is not 0..16`);
    for (const t of opts.supportedTa1 ?? []) if (!isValidTa1(t)) throw new BridgeSimError('BRIDGE_SIM_TA1', `supported TA1 0x${t.toString(16)} is reserved`);
    return new BridgeSim(opts, await PtyDevice.open(opts.link));
  }

  /** Device path the host opens (changes on reconnect unless a link is used). */
  get path(): string {
    if (!this.pty) throw new BridgeSimError('BRIDGE_SIM_DISCONNECTED', 'bridge is disconnected');
    return this.pty.path;
  }

  get link(): string | undefined {
    return this.opts.link;
  }

  get connected(): boolean {
    return this.pty !== undefined;
  }

  /** The last successful card exchange on a slot, with its modeled times. */
  lastExchange(slot: number): ExchangeRecord | undefined {
    return this.slot(slot).last;
  }

  card(slot: number): SimCard | undefined {
    return this.slot(slot).card;
  }

  slotState(slot: number): SlotState {
    return this.slot(slot).state;
  }

  // ---- fault injection and slot events ----

  /** Corrupts the next `n` lines the bridge sends (one character changed: the CRC no longer matches). */
  corruptNextLine(n = 1): void {
    this.corruptCount += n;
  }

  /** Drops the next `n` responses (events still go out); the request is executed. */
  dropNextResponse(n = 1): void {
    this.dropCount += n;
  }

  /**
   * The next line the host sends loses its bytes after the first, as in a bridge whose receive
   * buffer is full: it is not executed and answered `0 - ERR OVERRUN` (PROTOCOL.md §2).
   */
  overrunNextLine(): Promise<void> {
    this.overrunNext = true;
    return Promise.resolve();
  }

  insertCard(slot: number, card: SimCard): void {
    const s = this.slot(slot);
    if (s.card) throw new BridgeSimError('BRIDGE_SIM_OCCUPIED', `slot ${slot} already holds a card`);
    s.card = card;
    if (s.state === 'EMPTY') s.state = 'OFF';
    this.sendEvent(encodeEvent({ event: 'CARD', slot, present: true }));
  }

  /** Pulls the card: the slot is deactivated and a request in flight answers ERR NOCARD. */
  removeCard(slot: number): SimCard | undefined {
    const s = this.slot(slot);
    const card = s.card;
    if (!card) return undefined;
    this.deactivate(s);
    s.card = undefined;
    s.state = 'EMPTY';
    this.sendEvent(encodeEvent({ event: 'CARD', slot, present: false }));
    this.abort(s, 'NOCARD');
    return card;
  }

  /**
   * Raises a fault (e.g. OVERCURRENT): the slot is powered off and stays in FAULT until
   * POWER OFF; a request in flight answers ERR FAULT. `null` = bridge-wide: every powered slot.
   */
  injectFault(slot: number | null, code: string): void {
    const hit = slot === null ? this.slots.filter((s) => s.vcc !== 'OFF') : [this.slot(slot)];
    this.sendEvent(encodeEvent({ event: 'FAULT', slot, code }));
    for (const s of hit) {
      this.deactivate(s);
      s.state = 'FAULT';
      this.abort(s, 'FAULT');
    }
  }

  /**
   * Unplugs the bridge: the pty closes (the host sees the port vanish), the MCU loses power:
   * all slots go off, requests in flight are lost, STATUS last ids restart at 0. Cards stay.
   */
  async disconnect(): Promise<void> {
    const pty = this.pty;
    if (!pty) return;
    this.pty = undefined;
    for (const s of this.slots) {
      this.abort(s, null);
      this.deactivate(s);
      s.state = s.card ? 'OFF' : 'EMPTY';
      s.lastId = 0;
      s.clockHz = this.info.fdefHz;
    }
    this.corruptCount = 0;
    this.dropCount = 0;
    this.frames?.reset();
    await pty.close();
    this.emit('disconnect');
  }

  /** Plugs the bridge back in: a new pty, behind the same link path if one was given. */
  async reconnect(): Promise<string> {
    if (this.pty) return this.pty.path;
    this.attach(await PtyDevice.open(this.opts.link));
    this.emit('reconnect', this.pty!.path);
    return this.pty!.path;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.frames?.reset();
    for (const s of this.slots) {
      this.abort(s, null);
      this.deactivate(s);
    }
    const pty = this.pty;
    this.pty = undefined;
    if (pty) await pty.close();
  }

  // ---- line handling ----

  private attach(pty: PtyDevice): void {
    this.pty = pty;
    this.assembler = new LineAssembler(
      (line) => this.onLine(line),
      () => this.send(formatErr(0, null, 'LINE'), false),
      this.info.maxLine,
    );
    pty.on('data', (d) => {
      if (this.pty !== pty) return;
      if (this.frames) this.frames.fromHost(d);
      else this.assembler.push(d);
    });
    pty.on('close', () => {
      // The pty helper died on its own (not through disconnect()): same as an unplug.
      if (this.pty === pty && !this.closing) void this.disconnect();
    });
  }

  private onLine(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') return; // a bare newline resynchronises; nothing to answer
    if (this.overrunNext) {
      this.overrunNext = false;
      this.send(formatErr(0, null, 'OVERRUN'), true);
      return;
    }
    this.emit('line', 'rx', line);
    let req: BridgeRequest;
    let id: number;
    try {
      // parseRequest drops the one CR the protocol allows; `line` already lost it, so pass raw.
      const frame = parseRequest(raw, this.info.maxLine);
      id = frame.id;
      req = decodeRequest(frame);
    } catch (e) {
      if (e instanceof BridgeProtocolError) {
        this.send(formatErr(e.id ?? 0, e.slot ?? null, e.wire), true);
        return;
      }
      throw e;
    }
    if (req.verb === 'INFO') {
      this.send(formatOk(id, null, encodeReply('INFO', this.info)), true);
      return;
    }
    if ((req.verb === 'APDU' && !this.info.apdu) || (req.verb === 'APDUS' && this.info.batch === undefined)) {
      this.send(formatErr(id, req.slot, 'VERB'), true);
      return;
    }
    if (req.verb === 'APDUS' && req.apdus.length > this.info.batch!) {
      this.send(formatErr(id, req.slot, 'ARG'), true);
      return;
    }
    if (req.slot >= this.slots.length) {
      this.send(formatErr(id, req.slot, 'SLOT'), true);
      return;
    }
    const s = this.slots[req.slot]!;
    if (req.verb === 'STATUS') {
      this.send(
        formatOk(id, s.index, encodeReply('STATUS', { state: s.state, busy: s.inflight !== undefined, lastId: s.lastId, vcc: s.vcc, clockHz: s.clockHz, ta1: s.ta1 })),
        true,
      );
      return;
    }
    if (s.inflight) {
      // POWER OFF always deactivates: the host's way out of a request that does not end.
      if (req.verb !== 'POWER' || req.vcc !== 'OFF') {
        this.send(formatErr(id, s.index, 'BUSY'), true);
        return;
      }
      this.abort(s, 'STATE');
      this.deactivate(s);
    }
    this.begin(s, id, req);
  }

  private begin(s: Slot, id: number, req: BridgeRequest): void {
    const arrival = this.clock.now();
    const epoch = s.epoch;
    const inflight: Inflight = { id, cancel: undefined };
    s.inflight = inflight;
    this.execute(s, id, req).then(
      (out) => {
        if (s.epoch !== epoch || s.inflight !== inflight) return; // aborted meanwhile
        const fire = () => {
          if (s.inflight !== inflight) return;
          s.inflight = undefined;
          s.lastId = id;
          for (const record of out.records ?? []) {
            s.last = record;
            this.emit('exchange', record);
          }
          this.send(out.line, true);
        };
        const ms = out.seconds * this.timeScale * 1000;
        inflight.cancel = this.timeScale === 0 ? this.clock.schedule(fire, 0) : s.lane.run(arrival, ms, fire);
      },
      (e: unknown) => {
        // Only a bug in the simulator itself gets here; answer rather than hang the host.
        this.emit('cardError', s.index, e);
        if (s.inflight !== inflight) return;
        s.inflight = undefined;
        s.lastId = id;
        this.send(formatErr(id, s.index, 'PROTO'), true);
      },
    );
  }

  /** Ends a request in flight now: answers `code` (if any) and discards the work's result. */
  private abort(s: Slot, code: WireErrorCode | null): void {
    s.epoch++;
    const f = s.inflight;
    if (!f) return;
    f.cancel?.();
    s.inflight = undefined;
    s.lastId = f.id;
    if (code) this.send(formatErr(f.id, s.index, code), true);
  }

  private send(line: string, isResponse: boolean): void {
    if (!this.pty) return;
    if (isResponse && this.dropCount > 0) {
      this.dropCount--;
      return;
    }
    let out = line;
    if (this.corruptCount > 0) {
      this.corruptCount--;
      out = corrupt(line);
    }
    this.emit('line', 'tx', out.slice(0, -1));
    if (this.frames) this.frames.toHost(out);
    else this.pty.write(out);
  }

  /** Frame link model: delay added to lines, ms, summed each way (for the benchmark). */
  get linkDelay(): FrameLinkDelay {
    return this.frames?.delay ?? { inMs: 0, inLines: 0, outMs: 0, outLines: 0 };
  }

  private sendEvent(line: string): void {
    this.send(line, false);
  }

  private slot(i: number): Slot {
    const s = this.slots[i];
    if (!s) throw new BridgeSimError('BRIDGE_SIM_SLOT', `slot ${i} is not 0..${this.slots.length - 1}`);
    return s;
  }

  /** Deactivation sequence: card told, slot off, transmission parameters back to defaults. */
  private deactivate(s: Slot): void {
    if (s.vcc !== 'OFF' && s.card) s.card.powerOff();
    s.vcc = 'OFF';
    if (s.state === 'ON' || s.state === 'READY') s.state = 'OFF';
    s.ta1 = TA1_DEFAULT;
    s.guardN = 0;
    s.wi = WI_DEFAULT;
    s.ppsAllowed = false;
  }

  /** A card failure ends the activation (ISO: the reader deactivates); the host must POWER + RESET again. */
  private cardFailed(s: Slot, id: number, code: WireErrorCode, seconds: number, cause?: unknown): Outcome {
    if (cause !== undefined && !(cause instanceof IfppError && cause.code === 'CARD_MUTE')) this.emit('cardError', s.index, cause);
    this.deactivate(s);
    return { line: formatErr(id, s.index, code), seconds };
  }

  private linkParams(s: Slot): LinkParams {
    const { fi, di } = fiDiFromTa1(s.ta1);
    return { fi, di, clockHz: s.clockHz, guardN: s.guardN };
  }

  // ---- verbs ----

  private async execute(s: Slot, id: number, req: BridgeRequest): Promise<Outcome> {
    const err = (code: WireErrorCode): Outcome => ({ line: formatErr(id, s.index, code), seconds: 0 });
    switch (req.verb) {
      case 'POWER':
        return this.power(s, id, req.vcc, err);
      case 'CLOCK':
        if (s.state === 'FAULT') return err('FAULT');
        if (req.hz < this.info.fminHz || req.hz > this.info.fmaxHz) return err('UNSUPPORTED');
        s.clockHz = req.hz;
        return { line: formatOk(id, s.index, encodeReply('CLOCK', { hz: req.hz })), seconds: 0 };
      case 'RESET':
        return this.reset(s, id, req.kind, err);
      case 'PPS':
        return this.pps(s, id, req.pps, err);
      case 'TPDU':
        return this.tpdu(s, id, req.tpdu, err);
      case 'APDU':
        return this.apdu(s, id, req.apdu, err);
      case 'APDUS':
        return this.apdus(s, id, req.apdus, err);
      default:
        return err('VERB');
    }
  }

  private power(s: Slot, id: number, vcc: VccClass | 'OFF', err: (c: WireErrorCode) => Outcome): Outcome {
    const ok: Outcome = { line: formatOk(id, s.index, []), seconds: 0 };
    if (vcc === 'OFF') {
      this.deactivate(s);
      if (s.state === 'FAULT') s.state = s.card ? 'OFF' : 'EMPTY';
      return ok;
    }
    if (s.state === 'FAULT') return err('FAULT');
    if (!s.card) return err('NOCARD');
    if (s.vcc !== 'OFF') return s.vcc === vcc ? ok : err('STATE');
    if (!this.info.classes.includes(vcc)) return err('UNSUPPORTED');
    s.vcc = vcc;
    s.state = 'ON';
    return ok;
  }

  private reset(s: Slot, id: number, kind: 'COLD' | 'WARM', err: (c: WireErrorCode) => Outcome): Outcome {
    if (s.state === 'FAULT') return err('FAULT');
    const card = s.card;
    if (!card) return err('NOCARD');
    if (s.state === 'OFF' || (kind === 'WARM' && s.state !== 'READY')) return err('STATE');
    // A cold reset of an active card goes through deactivation first.
    if (kind === 'COLD' && s.state === 'READY') card.powerOff();
    s.ta1 = TA1_DEFAULT;
    s.guardN = 0;
    s.wi = WI_DEFAULT;
    s.ppsAllowed = false;
    s.state = 'ON';
    let bytes: Uint8Array;
    try {
      bytes = card.atr(kind === 'COLD' ? 'cold' : 'warm');
    } catch (e) {
      return this.cardFailed(s, id, 'MUTE', muteResetSeconds(s.clockHz, this.rstLowClocks), e);
    }
    const delay = card.atrDelayClocks ?? 400;
    const seconds = resetSeconds(bytes.length, s.clockHz, delay, this.rstLowClocks);
    let atr;
    try {
      atr = parseAtr(bytes);
    } catch (e) {
      return this.cardFailed(s, id, 'PROTO', seconds, e);
    }
    s.guardN = atr.guardN;
    s.wi = atr.wi;
    if (atr.specificMode) {
      // Specific mode: TA1 applies at once, no PPS.
      if (!this.info.ta1.includes(atr.ta1)) return this.cardFailed(s, id, 'UNSUPPORTED', seconds);
      s.ta1 = atr.ta1;
    } else {
      s.ppsAllowed = true;
    }
    s.state = 'READY';
    const runs: Run[] = [{ dir: 'fromCard', chars: bytes.length }];
    const wire = exchangeEtu(runs) * etuSeconds(FD, DD, s.clockHz);
    const record: ExchangeRecord = {
      slot: s.index,
      id,
      verb: 'RESET',
      fi: FD,
      di: DD,
      clockHz: s.clockHz,
      guardN: 0,
      etuSeconds: etuSeconds(FD, DD, s.clockHz),
      runs,
      wireSeconds: wire,
      extraSeconds: seconds - wire,
      seconds,
    };
    return { line: formatOk(id, s.index, encodeReply('RESET', { data: bytes, micros: seconds * 1e6 })), seconds, records: [record] };
  }

  private pps(s: Slot, id: number, request: Uint8Array, err: (c: WireErrorCode) => Outcome): Outcome {
    if (s.state === 'FAULT') return err('FAULT');
    const card = s.card;
    if (!card) return err('NOCARD');
    if (s.state !== 'READY' || !s.ppsAllowed) return err('STATE');
    let pps;
    try {
      pps = parsePps(request);
    } catch {
      return err('ARG');
    }
    // This bridge runs T=0 only; PPS2/PPS3 are not supported.
    if (pps.protocol !== 0 || pps.pps2 !== undefined || pps.pps3 !== undefined) return err('UNSUPPORTED');
    if (pps.pps1 !== undefined && !this.info.ta1.includes(pps.pps1)) return err('UNSUPPORTED');
    s.ppsAllowed = false;
    let answer: Uint8Array | null;
    try {
      answer = card.pps(request.slice());
    } catch (e) {
      return this.cardFailed(s, id, 'MUTE', ppsMuteSeconds(request.length, s.clockHz, s.guardN), e);
    }
    if (answer === null) return this.cardFailed(s, id, 'MUTE', ppsMuteSeconds(request.length, s.clockHz, s.guardN));
    const seconds = ppsSeconds(request.length, answer.length, s.clockHz, s.guardN);
    let outcome;
    try {
      outcome = ppsOutcome(request, answer);
    } catch (e) {
      return this.cardFailed(s, id, 'PROTO', seconds, e);
    }
    const record: ExchangeRecord = {
      slot: s.index,
      id,
      verb: 'PPS',
      fi: FD,
      di: DD,
      clockHz: s.clockHz,
      guardN: s.guardN,
      etuSeconds: etuSeconds(FD, DD, s.clockHz),
      runs: [
        { dir: 'toCard', chars: request.length },
        { dir: 'fromCard', chars: answer.length },
      ],
      wireSeconds: seconds,
      extraSeconds: 0,
      seconds,
    };
    s.ta1 = outcome.ta1;
    return { line: formatOk(id, s.index, encodeReply('PPS', { data: answer, micros: seconds * 1e6 })), seconds, records: [record] };
  }

  private async tpdu(s: Slot, id: number, tpdu: Uint8Array, err: (c: WireErrorCode) => Outcome): Promise<Outcome> {
    if (s.state === 'FAULT') return err('FAULT');
    if (!s.card) return err('NOCARD');
    if (s.state !== 'READY') return err('STATE');
    s.ppsAllowed = false;
    const run = await this.runTpdu(s, id, tpdu);
    if (!run.ok) return run.outcome;
    return { line: formatOk(id, s.index, encodeReply('TPDU', { data: run.response, micros: run.seconds * 1e6 })), seconds: run.seconds, records: [run.record] };
  }

  /** The APDU verb: one APDU at the bridge (runApdu); the duration is the sum of its TPDUs'. */
  private async apdu(s: Slot, id: number, apdu: Uint8Array, err: (c: WireErrorCode) => Outcome): Promise<Outcome> {
    if (s.state === 'FAULT') return err('FAULT');
    if (!s.card) return err('NOCARD');
    if (s.state !== 'READY') return err('STATE');
    s.ppsAllowed = false;
    const acc: ApduAccount = { records: [], seconds: 0, micros: 0 };
    const r = await this.runApdu(s, id, apdu, acc);
    if (!(r instanceof Uint8Array)) return r;
    return { line: formatOk(id, s.index, encodeReply('APDU', { data: r, micros: acc.micros })), seconds: acc.seconds, records: acc.records };
  }

  /**
   * The APDUS verb (PROTOCOL.md §4a): each APDU as the APDU verb runs it, in order, stopping
   * after the first answer that carries data or a status other than 9000.
   */
  private async apdus(s: Slot, id: number, apdus: readonly Uint8Array[], err: (c: WireErrorCode) => Outcome): Promise<Outcome> {
    if (s.state === 'FAULT') return err('FAULT');
    if (!s.card) return err('NOCARD');
    if (s.state !== 'READY') return err('STATE');
    s.ppsAllowed = false;
    const acc: ApduAccount = { records: [], seconds: 0, micros: 0 };
    let count = 0;
    let last: Uint8Array = Uint8Array.of(0x90, 0x00);
    for (const apdu of apdus) {
      // Let other slots' lines and the host's INFO/STATUS in between: a card model answers
      // without I/O, so the whole sequence would otherwise run as one task (PROTOCOL.md §3:
      // INFO and STATUS are answered at once, even while a slot is busy).
      if (count > 0) {
        const epoch = s.epoch;
        await new Promise<void>((res) => setImmediate(res));
        // Ended meanwhile (card pulled, fault, POWER OFF): never run the rest on whatever is in the slot now.
        if (s.epoch !== epoch) return err('NOCARD');
      }
      const r = await this.runApdu(s, id, apdu, acc);
      if (!(r instanceof Uint8Array)) return r;
      count++;
      last = r;
      if (r.length !== 2 || r[0] !== 0x90 || r[1] !== 0x00) break;
    }
    return { line: formatOk(id, s.index, encodeReply('APDUS', { count, data: last, micros: acc.micros })), seconds: acc.seconds, records: acc.records };
  }

  /**
   * One APDU at the bridge: the command as a T=0 TPDU, the case 2 repeat with P3 = xx after
   * 6Cxx, then GET RESPONSE (CLA on the command's logical channel) while the card answers 61xx,
   * repeated with P3 = xx after a 6Cxx, exactly as the host's T0ApduChannel does. Stops,
   * answering the 61xx, before the data would pass 256 bytes or after MAX_APDU_GET_RESPONSES
   * GET RESPONSEs. Adds each TPDU's time to `acc` (µs rounded per TPDU, as a TPDU answer
   * would be); returns data + SW, or the outcome of the card failure that ended it.
   */
  private async runApdu(s: Slot, id: number, apdu: Uint8Array, acc: ApduAccount): Promise<Uint8Array | Outcome> {
    let failed: Outcome | undefined;
    const run = async (tpdu: Uint8Array): Promise<Uint8Array | undefined> => {
      const r = await this.runTpdu(s, id, tpdu);
      if (!r.ok) {
        failed = { line: r.outcome.line, seconds: acc.seconds + r.outcome.seconds, records: acc.records };
        return undefined;
      }
      acc.records.push(r.record);
      acc.seconds += r.seconds;
      acc.micros += Math.round(r.seconds * 1e6);
      return r.response;
    };
    const swOf = (r: Uint8Array) => (r[r.length - 2]! << 8) | r[r.length - 1]!;
    const header = apdu.subarray(0, 4);
    let r = await run(t0CommandTpdu(apdu));
    if (!r) return failed!;
    let sw = swOf(r);
    if (sw >> 8 === 0x6c && apdu.length === 5) {
      r = await run(Uint8Array.of(...header, sw & 0xff));
      if (!r) return failed!;
      sw = swOf(r);
    }
    const parts: Uint8Array[] = [r.subarray(0, r.length - 2)];
    let total = parts[0]!.length;
    for (let n = 0; sw >> 8 === 0x61 && n < MAX_APDU_GET_RESPONSES; n++) {
      if (total + ((sw & 0xff) || 256) > MAX_APDU_RESPONSE_DATA) break;
      const gr = Uint8Array.of(getResponseCla(apdu[0]!), 0xc0, 0x00, 0x00, sw & 0xff);
      let g = await run(gr);
      if (!g) return failed!;
      let gsw = swOf(g);
      if (gsw >> 8 === 0x6c) {
        if (total + ((gsw & 0xff) || 256) > MAX_APDU_RESPONSE_DATA) {
          sw = 0x6100 | (gsw & 0xff); // the card still holds that many bytes: the host fetches them
          break;
        }
        gr[4] = gsw & 0xff;
        g = await run(gr);
        if (!g) return failed!;
        gsw = swOf(g);
      }
      parts.push(g.subarray(0, g.length - 2));
      total += g.length - 2;
      sw = gsw;
    }
    return concatBytes(...parts, Uint8Array.of(sw >> 8, sw & 0xff));
  }

  /** One TPDU on the contact (the slot is READY, the card present): the card's answer checked against T=0, and its modeled time. */
  private async runTpdu(s: Slot, id: number, tpdu: Uint8Array): Promise<TpduRun> {
    const card = s.card!;
    const link = this.linkParams(s);
    const timeout = tpduTimeoutSeconds(link, s.wi);
    let result;
    try {
      result = await card.transmitTpdu(tpdu.slice());
    } catch (e) {
      return { ok: false, outcome: this.cardFailed(s, id, 'TIMEOUT', timeout, e) };
    }
    const r = result.response;
    const commandData = tpdu.length - 5;
    const sw1 = r[r.length - 2];
    const dataLen = r.length - 2;
    const ne = tpdu[4] === 0 ? 256 : tpdu[4]!;
    const why =
      sw1 === undefined
        ? 'answered fewer than 2 bytes'
        : !((sw1 & 0xf0) === 0x90 || ((sw1 & 0xf0) === 0x60 && sw1 !== 0x60))
          ? `SW1 ${sw1.toString(16)} is not 6X/9X`
          : commandData > 0 && dataLen > 0
            ? 'returned data to a command with data (T=0 needs 61xx)'
            : commandData === 0 && dataLen > 0 && dataLen !== ne
              ? `returned ${dataLen} data bytes, P3 asked ${ne}`
              : !(result.processingSeconds >= 0)
                ? 'reported a negative processing time'
                : undefined;
    if (why) return { ok: false, outcome: this.cardFailed(s, id, 'PROTO', timeout, new BridgeSimError('BRIDGE_SIM_CARD_T0', `card in slot ${s.index} ${why}`)) };
    const shape = { commandData, responseData: dataLen, earlySw: result.earlySw === true };
    const runs = t0Runs(shape);
    const wire = tpduWireSeconds(shape, link);
    const seconds = wire + result.processingSeconds;
    const record: ExchangeRecord = {
      slot: s.index,
      id,
      verb: 'TPDU',
      fi: link.fi,
      di: link.di,
      clockHz: link.clockHz,
      guardN: link.guardN,
      etuSeconds: etuSeconds(link.fi, link.di, link.clockHz),
      runs,
      wireSeconds: wire,
      extraSeconds: result.processingSeconds,
      seconds,
    };
    return { ok: true, response: r, seconds, record };
  }
}

/** Changes one character of the line body (never the `\n`), so the CRC check fails. */
function corrupt(line: string): string {
  const star = line.lastIndexOf(' *');
  const i = Math.max(0, Math.floor(star / 2));
  const c = line[i];
  const swap = c === '0' ? '1' : '0';
  return line.slice(0, i) + swap + line.slice(i + 1);
}

