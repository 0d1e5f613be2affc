/**
 * The automatic operator of a simulated world: feeds chips from the reel into the jig and
 * starts the station's cycles, seeing only what a person at the station sees (lamps, the
 * clamp) and touching only what a person touches (DUTs, buttons). It never talks to the
 * station.
 *
 * Panel jig: loads a panel (each slot: old DUT out, next chip in, presence on), presses both
 * start buttons together and holds them, presses again when the clamp has not closed after a
 * while; when the clamp has closed and opened again the cycle is over: after a handling time
 * the panel is swapped. It stops after the last chip of the reel (or of this run) was fed and
 * its cycle ended, leaving the jig idle.
 * Socket programmer: when a socket's pass or fail lamp lights, the DUT is taken out after a
 * handling time (presence off) and the next chip goes in (presence on).
 *
 * Faults (rates per unit, decided from a seed and the chip's reel number, so a seed replays
 * the same faults whatever the timing): `muteCard` gives the chip a hang after BF23 (its
 * one-time key burns; the station should retry with a spare BPP), `removeMidLoad` pulls the
 * card during its cycle and puts it back a moment later (contact lost and regained).
 */
import { EventEmitter } from 'node:events';
import { activeLevel, idleLevel, type SlotWiring, type WiredPin, type Wiring } from './wiring.ts';

/** What the operator can do to and see of the hardware. */
/** A result lamp must stay lit this long to count (the station blinks the pass lamp while loading, every 300 ms). */
const STEADY_LAMP_MS = 700;
/** Even at time scale 0 a hand takes a DUT out and puts one in over some time; the jig's inputs
 *  are debounced (20 ms), so an instant swap would look like no change at all. */
const MIN_HANDLING_MS = 60;

export interface OperatorHardware {
  setInput(pin: number, level: 0 | 1): void;
  /** Value last driven on an output pin (PWM duty counts as on when > 0); undefined: never driven. */
  output(pin: number): number | undefined;
  onOutput(listener: (pin: number, value: number) => void): () => void;
  insertCard(slot: SlotWiring, eid: string, faults?: Record<string, unknown>): Promise<void>;
  removeCard(slot: SlotWiring): Promise<void>;
}

export interface OperatorFaults {
  /** Share of units whose card is pulled (and put back) during the cycle. */
  removeMidLoad?: number;
  /** Share of units whose chip hangs after BF23 (until powered off). */
  muteCard?: number;
}

export interface OperatorOptions {
  wiring: Wiring;
  /** EID of reel chip i. */
  eidAt(i: number): string;
  /** Reel chips next..end-1 are fed, in order. */
  next: number;
  end: number;
  /** Time to swap a panel or a DUT, ms (default 300). */
  handlingMs?: number;
  /** How long both start buttons are held, ms (default 200). */
  pressHoldMs?: number;
  /** Press start again when the clamp has not closed this long after a press, ms (default 3000). */
  repressMs?: number;
  /** Pause between pulling and re-seating a card (removeMidLoad), ms (default 100). */
  reseatMs?: number;
  /** Expected time of one unit, ms: when removeMidLoad strikes (default 1000). */
  unitMs?: number;
  seed?: number;
  faults?: OperatorFaults;
}

export interface OperatorEvents {
  /** One line for people. */
  log: [text: string];
  insert: [slot: string, eid: string];
  remove: [slot: string, eid: string];
  press: [];
  panel: [n: number, eids: string[]];
  cycle: [phase: 'start' | 'end', panel: number];
  fault: [kind: 'muteCard' | 'removeMidLoad', slot: string, eid: string];
  /** The reel position moved (persist it to continue there next time). */
  fed: [next: number];
  /** Everything was fed and finished; the jig is left idle. */
  done: [fed: number];
  /** A hardware action failed; the operator carries on. */
  problem: [text: string];
}

interface SlotRun {
  wiring: SlotWiring;
  eid: string | undefined;
  chip: number | undefined;
  /** Socket programmer: waiting for a result lamp / being swapped / left empty. */
  state: 'loaded' | 'handling' | 'empty';
  /** The chip put in before the hardware started carries a fault (reported once it is up). */
  /** Changes seen on this slot's result lamps (to tell a blinking lamp from a steady one). */
  lampSeq?: number;
  initialFault?: boolean;
  /** Bumped by every swap: a pending re-seat of an older DUT must not run into a newer one. */
  gen: number;
}

/** Deterministic [0, 1) from a seed and a chip number (mulberry32 step on a mixed key). */
export function chance(seed: number, chip: number, salt: number): number {
  let t = (seed ^ Math.imul(chip + 1, 0x9e3779b1) ^ Math.imul(salt, 0x85ebca6b)) >>> 0;
  t = (t + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

class Stopped extends Error {}

export class Operator extends EventEmitter<OperatorEvents> {
  private readonly hw: OperatorHardware;
  private readonly o: Required<Omit<OperatorOptions, 'faults' | 'wiring' | 'eidAt'>> & OperatorOptions;
  private readonly slots: SlotRun[];
  private cursor: number;
  private fed = 0;
  private stopped = false;
  private running = false;
  private finished = false;
  private clampCloses = 0;
  private readyLampOns = 0;
  private readonly waiters = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private unsubscribe: (() => void) | undefined;

  constructor(hw: OperatorHardware, o: OperatorOptions) {
    super();
    this.hw = hw;
    this.o = { handlingMs: 300, pressHoldMs: 200, repressMs: 3000, reseatMs: 100, unitMs: 1000, seed: 1, ...o };
    this.cursor = o.next;
    this.slots = o.wiring.slots.filter((s) => s.enabled).map((wiring) => ({ wiring, eid: undefined, chip: undefined, state: 'empty', gen: 0 }));
  }

  /** Reel position of the next chip to feed. */
  get next(): number {
    return this.cursor;
  }

  get unitsFed(): number {
    return this.fed;
  }

  get isDone(): boolean {
    return this.finished;
  }

  /**
   * The first panel (or the first DUT of every socket): which chip goes into which slot before
   * the hardware starts, with its fault switches. Call once, before placeInitial().
   */
  initialCards(): { slot: SlotWiring; eid: string; faults?: Record<string, unknown> }[] {
    const out: { slot: SlotWiring; eid: string; faults?: Record<string, unknown> }[] = [];
    for (const s of this.slots) {
      const take = this.takeChip();
      if (!take) break;
      s.eid = take.eid;
      s.chip = take.chip;
      s.state = 'loaded';
      s.initialFault = take.faults !== undefined;
      out.push({ slot: s.wiring, eid: take.eid, ...(take.faults ? { faults: take.faults } : {}) });
    }
    return out;
  }

  /** Once the hardware is up: idle levels on every input, presence on where a DUT sits. */
  placeInitial(): void {
    for (const { pin, level } of this.o.wiring.idleInputs) this.hw.setInput(pin, level);
    for (const s of this.slots) if (s.eid !== undefined) this.presence(s, true);
  }

  /** Starts the automatic feeding (returns at once; 'done' tells the end). */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    for (const s of this.slots) if (s.initialFault && s.eid !== undefined) this.emit('fault', 'muteCard', s.wiring.id, s.eid);
    this.unsubscribe = this.hw.onOutput((pin, value) => this.onOutput(pin, value));
    const body = this.o.wiring.kind === 'panel-jig' ? this.runPanels() : this.runSockets();
    body.catch((e: unknown) => {
      if (!(e instanceof Stopped)) this.emit('problem', `operator stopped: ${(e as Error).message}`);
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of [...this.waiters]) w();
  }

  // ---- reel ---------------------------------------------------------------------------

  private takeChip(): { chip: number; eid: string; faults?: Record<string, unknown> } | undefined {
    if (this.cursor >= this.o.end) return undefined;
    const chip = this.cursor++;
    this.fed++;
    this.emit('fed', this.cursor);
    const eid = this.o.eidAt(chip);
    const rate = this.o.faults?.muteCard ?? 0;
    if (rate > 0 && chance(this.o.seed, chip, 1) < rate) {
      // A hang at load call 2..5: after BF23 was accepted, so the one-time key is burnt.
      const call = 2 + Math.floor(chance(this.o.seed, chip, 2) * 4);
      return { chip, eid, faults: { muteAtLoadCall: call } };
    }
    return { chip, eid };
  }

  // ---- seeing and touching ----------------------------------------------------------------

  private isOn(p: WiredPin): boolean {
    const v = this.hw.output(p.pin);
    if (v === undefined) return false;
    return (v > 0 ? 1 : 0) === activeLevel(p);
  }

  private onOutput(pin: number, value: number): void {
    const clamp = this.o.wiring.clamp?.output;
    if (clamp && pin === clamp.pin && (value > 0 ? 1 : 0) === activeLevel(clamp)) this.clampCloses++;
    const ready = this.o.wiring.readyLamp;
    if (ready && pin === ready.pin && (value > 0 ? 1 : 0) === activeLevel(ready)) this.readyLampOns++;
    if (this.o.wiring.kind === 'socket-programmer') {
      for (const s of this.slots) {
        const lamp = [s.wiring.passLed, s.wiring.failLed].find((l) => l?.pin === pin);
        if (!lamp || s.state !== 'loaded') continue;
        const on = (value > 0 ? 1 : 0) === activeLevel(lamp);
        s.lampSeq = (s.lampSeq ?? 0) + 1;
        if (!on) continue;
        // A blinking pass lamp means "loading"; a result lamp stays lit. React only to a lamp
        // that has not changed for a while, as a person would.
        const seq = s.lampSeq;
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (this.stopped || s.state !== 'loaded' || s.lampSeq !== seq) return;
          s.state = 'handling';
          this.swapSocket(s).catch((e: unknown) => {
            if (!(e instanceof Stopped)) this.emit('problem', `slot ${s.wiring.id}: ${(e as Error).message}`);
          });
        }, STEADY_LAMP_MS);
        this.timers.add(t);
      }
    }
    for (const w of [...this.waiters]) w();
  }

  private presence(s: SlotRun, on: boolean): void {
    const p = s.wiring.presence;
    if (p) this.hw.setInput(p.pin, on ? activeLevel(p) : idleLevel(p));
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.reject(new Stopped());
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.waiters.delete(check);
        resolve();
      }, ms);
      const check = () => {
        if (!this.stopped) return;
        clearTimeout(t);
        this.timers.delete(t);
        this.waiters.delete(check);
        reject(new Stopped());
      };
      this.timers.add(t);
      this.waiters.add(check);
    });
  }

  /** Resolves true once `cond` holds (checked on every output change), false after `timeoutMs`. */
  private waitFor(cond: () => boolean, timeoutMs?: number): Promise<boolean> {
    if (this.stopped) return Promise.reject(new Stopped());
    if (cond()) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      let t: NodeJS.Timeout | undefined;
      const done = (v: boolean | Error) => {
        this.waiters.delete(check);
        if (t) {
          clearTimeout(t);
          this.timers.delete(t);
        }
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
      const check = () => {
        if (this.stopped) done(new Stopped());
        else if (cond()) done(true);
      };
      this.waiters.add(check);
      if (timeoutMs !== undefined) {
        t = setTimeout(() => done(false), timeoutMs);
        this.timers.add(t);
      }
    });
  }

  private async insert(s: SlotRun, chip: { chip: number; eid: string; faults?: Record<string, unknown> }): Promise<void> {
    try {
      await this.hw.insertCard(s.wiring, chip.eid, chip.faults);
      s.eid = chip.eid;
      s.chip = chip.chip;
      this.emit('insert', s.wiring.id, chip.eid);
      if (chip.faults) this.emit('fault', 'muteCard', s.wiring.id, chip.eid);
    } catch (e) {
      this.emit('problem', `slot ${s.wiring.id}: inserting ${chip.eid} failed: ${(e as Error).message}`);
    }
  }

  private async remove(s: SlotRun): Promise<void> {
    const eid = s.eid;
    if (eid === undefined) return;
    try {
      await this.hw.removeCard(s.wiring);
      this.emit('remove', s.wiring.id, eid);
    } catch (e) {
      this.emit('problem', `slot ${s.wiring.id}: removing ${eid} failed: ${(e as Error).message}`);
    }
    s.eid = undefined;
    s.chip = undefined;
  }

  /** removeMidLoad: decided per chip; pulls the card some time into its cycle and re-seats it. */
  private maybeGlitch(s: SlotRun, stillLoading: () => boolean): void {
    const rate = this.o.faults?.removeMidLoad ?? 0;
    const chip = s.chip;
    const eid = s.eid;
    if (rate <= 0 || chip === undefined || eid === undefined || chance(this.o.seed, chip, 3) >= rate) return;
    const at = Math.max(1, this.o.unitMs * (0.1 + 0.8 * chance(this.o.seed, chip, 4)));
    const gen = s.gen;
    void (async () => {
      await this.sleep(at);
      if (s.gen !== gen || s.eid !== eid || !stillLoading()) return;
      this.emit('fault', 'removeMidLoad', s.wiring.id, eid);
      const mine = ++s.gen;
      await this.remove(s);
      this.presence(s, false);
      await this.sleep(this.o.reseatMs);
      // The cycle may have ended and the slot been reloaded meanwhile: then this DUT is gone.
      if (s.gen !== mine) return;
      await this.insert(s, { chip, eid });
      if (s.gen === mine && s.eid === eid) this.presence(s, true);
    })().catch(() => undefined);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.emit('log', `all ${this.fed} units fed; the jig stays idle`);
    this.emit('done', this.fed);
  }

  // ---- panel jig ----------------------------------------------------------------------------

  private async press(): Promise<void> {
    const b = this.o.wiring.startButtons;
    if (!b) return;
    this.emit('press');
    this.hw.setInput(b.left.pin, activeLevel(b.left));
    // Both hands within the two-hand window, not quite at once.
    await this.sleep(Math.min(50, b.windowMs / 4));
    this.hw.setInput(b.right.pin, activeLevel(b.right));
    await this.sleep(this.o.pressHoldMs);
    this.hw.setInput(b.left.pin, idleLevel(b.left));
    this.hw.setInput(b.right.pin, idleLevel(b.right));
  }

  private clampClosed(): boolean {
    const c = this.o.wiring.clamp;
    return c !== undefined && this.isOn(c.output);
  }

  private async runPanels(): Promise<void> {
    let panel = 0;
    for (;;) {
      const loaded = this.slots.filter((s) => s.eid !== undefined);
      if (loaded.length === 0) break;
      panel++;
      this.emit('panel', panel, loaded.map((s) => s.eid!));
      this.emit('log', `panel ${panel}: ${loaded.length} DUT(s) loaded (${loaded.map((s) => s.wiring.id).join(' ')}); pressing start`);
      // Press until the clamp closes: the station may not be up yet, or was busy. Like a person,
      // press again when the green lamp comes on (the station is up and waiting), or after repressMs.
      for (;;) {
        const closes = this.clampCloses;
        const readies = this.readyLampOns;
        await this.press();
        await this.waitFor(() => this.clampCloses > closes || this.readyLampOns > readies, this.o.repressMs);
        if (this.clampCloses > closes) break;
      }
      this.emit('cycle', 'start', panel);
      for (const s of loaded) this.maybeGlitch(s, () => this.clampClosed());
      await this.waitFor(() => !this.clampClosed());
      this.emit('cycle', 'end', panel);
      if (this.cursor >= this.o.end) break;
      // Take the panel out, put the next one in.
      await this.sleep(Math.max(this.o.handlingMs / 2, MIN_HANDLING_MS));
      for (const s of this.slots) {
        s.gen++;
        this.presence(s, false);
        await this.remove(s);
      }
      await this.sleep(Math.max(this.o.handlingMs / 2, MIN_HANDLING_MS));
      for (const s of this.slots) {
        const chip = this.takeChip();
        if (!chip) break;
        await this.insert(s, chip);
        if (s.eid !== undefined) this.presence(s, true);
      }
    }
    this.finish();
  }

  // ---- socket programmer ----------------------------------------------------------------------

  private async runSockets(): Promise<void> {
    for (const s of this.slots) if (s.state === 'loaded') this.maybeGlitch(s, () => s.state === 'loaded');
    if (this.slots.every((s) => s.state === 'empty')) this.finish();
  }

  private async swapSocket(s: SlotRun): Promise<void> {
    s.gen++;
    await this.sleep(Math.max(this.o.handlingMs / 2, MIN_HANDLING_MS));
    this.presence(s, false);
    await this.remove(s);
    await this.sleep(Math.max(this.o.handlingMs / 2, MIN_HANDLING_MS));
    const chip = this.takeChip();
    if (chip) {
      await this.insert(s, chip);
      if (s.eid !== undefined) {
        this.presence(s, true);
        s.state = 'loaded';
        this.emit('log', `${s.wiring.id}: result lamp seen; DUT swapped for ${s.eid}`);
        this.maybeGlitch(s, () => s.state === 'loaded');
        return;
      }
    }
    s.state = 'empty';
    if (this.slots.every((x) => x.state === 'empty')) this.finish();
  }
}
