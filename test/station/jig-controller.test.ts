/**
 * The jig controller with real johnny-five + firmata-io + serialport against the virtual
 * Firmata board on a pty, wired as the example configs in fixtures-config/ say.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startPtyBoard, type PtyBoard } from '../../src/sim/jig/pty-board.ts';
import { PinMode } from '../../src/sim/jig/firmata-wire.ts';
import { JigBoardError } from '../../src/transport/jig/connect-board.ts';
import { validateStationConfig } from '../../src/station/config/validate.ts';
import type { StationConfig } from '../../src/station/config/schema.ts';
import { JigController, type JigAbort, type JigControllerOptions } from '../../src/station/jig/jig-controller.ts';
import type { JigClock } from '../../src/station/jig/clock.ts';
import { NoJig } from '../../src/station/hardware/no-jig.ts';
import { openStationHardware } from '../../src/station/hardware/open-hardware.ts';
import { JigError } from '../../src/station/hardware/jig-errors.ts';
import { PROMPTS } from '../../src/station/jig/prompts.ts';
import programmer16 from '../../fixtures-config/sim-programmer-16.ts';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures-config');

// fixtures-config/sim-jig-8.json
const CLAMP = 2;
const CLAMP_CLOSED = 3; // activeLow, pull-up
const START_L = 4; // activeLow, pull-up
const START_R = 5;
const ESTOP = 6; // pull-up, active high: a normally closed contact to ground opens when pressed
const GUARD = 7; // pull-up, active high: lid switch to ground opens with the lid
const RED = 8;
const AMBER = 9;
const GREEN = 10;
const BUZZER = 11;
const POWER = [22, 23, 24, 25, 26, 27, 28, 29];
const RESET = [54, 55, 56, 57, 58, 59, 60, 61];
const PASS = [38, 39, 40, 41, 42, 43, 44, 45];
const FAIL = [46, 47, 48, 49, 50, 51, 52, 53];
const JIG_SLOTS = ['A1', 'A2', 'A3', 'A4', 'B1', 'B2', 'B3', 'B4'];

const WINDOW_MS = 100;

/**
 * The jig's clock for these tests: real timers (the board's wire is real), plus skip(ms), which
 * moves the clock ahead at once and fires what fell due. Time spans under test (the two-hand
 * window, a reset pulse) are skipped, not slept.
 */
class SkipClock implements JigClock {
  private offset = 0;
  private readonly timers = new Set<{ at: number; fn: () => void; real: ReturnType<typeof setTimeout> }>();
  now(): number {
    return performance.now() + this.offset;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const t = { at: this.now() + ms, fn, real: setTimeout(() => this.fire(t), ms) };
    this.timers.add(t);
    return t;
  }
  clearTimeout(h: unknown): void {
    const t = h as { real: ReturnType<typeof setTimeout> };
    clearTimeout(t.real);
    this.timers.delete(t as never);
  }
  skip(ms: number): void {
    this.offset += ms;
    for (const t of [...this.timers]) if (t.at <= this.now()) this.fire(t);
  }
  private fire(t: { fn: () => void; real: ReturnType<typeof setTimeout> }): void {
    if (!this.timers.delete(t as never)) return;
    clearTimeout(t.real);
    t.fn();
  }
}

const clock = new SkipClock();

const OPTIONS: JigControllerOptions = {
  connect: { queryDelayMs: 20, timeoutMs: 5000, heartbeatMs: 100 },
  debounceMs: 5,
  safetyReleaseMs: 20,
  blinkMs: 40,
  clock,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** First `name` event whose payload passes `match`; rejects after `ms` so failures read well. */
function next<T>(emitter: NodeJS.EventEmitter, name: string, match: (v: T) => boolean = () => true, ms = 3000): Promise<T> {
  return new Promise((res, rej) => {
    const on = (v: T) => {
      if (!match(v)) return;
      clearTimeout(t);
      emitter.off(name, on);
      res(v);
    };
    const t = setTimeout(() => {
      emitter.off(name, on);
      rej(new Error(`no matching '${name}' within ${ms} ms`));
    }, ms);
    emitter.on(name, on);
  });
}

function validated(raw: Record<string, any>, port: string): StationConfig {
  const r = validateStationConfig({ ...raw, board: { ...raw.board, port } }, { file: 'test', dir: FIXTURES });
  expect(r.problems).toEqual([]);
  return r.config!;
}

function panelJigConfig(port: string, edit: (raw: Record<string, any>) => void = () => {}): StationConfig {
  const raw = JSON.parse(readFileSync(join(FIXTURES, 'sim-jig-8.json'), 'utf8'));
  raw.board.startButtons.windowMs = WINDOW_MS;
  raw.board.clamp.closeTimeoutMs = 300;
  edit(raw);
  return validated(raw, port);
}

interface Rig {
  pb: PtyBoard;
  jig: JigController;
}

const open: Rig[] = [];

afterEach(async () => {
  for (const r of open.splice(0)) {
    await r.jig.close();
    await r.pb.close();
  }
});

/** A panel jig on a fresh virtual board: e-stop loop closed, lid closed, clamp sensor following the valve. */
async function panelJig(opts: { follow?: boolean; estopPressed?: boolean; edit?: (raw: Record<string, any>) => void } = {}): Promise<Rig & { board: PtyBoard['board'] }> {
  const pb = await startPtyBoard({ links: opts.follow === false ? [] : [{ output: CLAMP, input: CLAMP_CLOSED, delayMs: 30, invert: true }] });
  if (opts.follow === false) pb.board.setInput(CLAMP_CLOSED, 1); // clamp open
  if (!opts.estopPressed) pb.board.setInput(ESTOP, 0);
  pb.board.setInput(GUARD, 0);
  const jig = await JigController.open(panelJigConfig(pb.path, opts.edit), OPTIONS);
  const rig = { pb, jig, board: pb.board };
  open.push(rig);
  return rig;
}

/** Presses (or releases) a start button and waits until the controller has seen it. */
async function hand(rig: Rig, pin: number, pressed: boolean): Promise<void> {
  const role = pin === START_L ? 'start-left' : 'start-right';
  const seen = next<{ role: string; active: boolean }>(rig.jig, 'input', (e) => e.role === role && e.active === pressed);
  rig.pb.board.setInput(pin, pressed ? 0 : null);
  await seen;
}

async function twoHandStart(rig: Rig): Promise<void> {
  const started = rig.jig.waitForStart();
  rig.pb.board.setInput(START_L, 0);
  rig.pb.board.setInput(START_R, 0);
  await started;
  await hand(rig, START_L, false);
  await hand(rig, START_R, false);
}

/** Waits until the virtual board's outputs satisfy `cond` (writes cross the pty a moment later). */
async function untilBoard(board: PtyBoard['board'], cond: () => boolean): Promise<void> {
  while (!cond()) await next(board, 'output');
}

/** Resolves true if `p` settled while `during` ran, false if it is still pending afterwards. */
async function settledDuring(p: Promise<unknown>, during: () => Promise<void>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await during();
  await sleep(0);
  return settled;
}

describe('panel jig: two-hand start', () => {
  it('starts on both buttons pressed together and prompts the operator while waiting', async () => {
    const rig = await panelJig();
    expect(rig.jig.currentPrompt).toBeNull();
    const prompts: (string | null)[] = [];
    rig.jig.on('prompt', (p) => prompts.push(p));
    const started = rig.jig.waitForStart();
    expect(prompts).toEqual([PROMPTS.loadAndStart]);
    rig.board.setInput(START_L, 0);
    rig.board.setInput(START_R, 0);
    await started;
    expect(rig.jig.status()).toMatchObject({ started: true, aborted: undefined, estopPressed: false, guardOpen: false, clamp: 'open' });
    expect(prompts.at(-1)).toBeNull();
  });

  it('does not start on one hand alone, whichever hand and however long it is held', async () => {
    const rig = await panelJig();
    const started = rig.jig.waitForStart();
    const settled = await settledDuring(started, async () => {
      await hand(rig, START_L, true);
      clock.skip(WINDOW_MS * 3);
      await hand(rig, START_L, false);
      await hand(rig, START_R, true);
      clock.skip(WINDOW_MS * 3);
      await hand(rig, START_R, false);
    });
    expect(settled).toBe(false);
    expect(rig.jig.status().started).toBe(false);
    rig.board.setInput(START_L, 0);
    rig.board.setInput(START_R, 0);
    await started; // and the wait is still live
  });

  it('refuses presses further apart than the window, and needs both released before the next try', async () => {
    const rig = await panelJig();
    const started = rig.jig.waitForStart();
    const refusals: JigError[] = [];
    rig.jig.on('start-refused', (e) => refusals.push(e));
    const settled = await settledDuring(started, async () => {
      await hand(rig, START_L, true);
      clock.skip(WINDOW_MS * 3);
      const refused = next<JigError>(rig.jig, 'start-refused');
      rig.board.setInput(START_R, 0);
      const err = await refused;
      expect(err).toBeInstanceOf(JigError);
      expect(err.code).toBe('JIG_START_NOT_SIMULTANEOUS');
      expect(err.hint).toMatch(/together/);
      expect(rig.jig.currentPrompt).toBe(PROMPTS.releaseStart);
      // Lifting one hand and pressing it again (the other still held) is no new attempt.
      await hand(rig, START_L, false);
      await hand(rig, START_L, true);
      clock.skip(WINDOW_MS);
    });
    expect(settled).toBe(false);
    expect(refusals).toHaveLength(1);
    await hand(rig, START_L, false);
    await hand(rig, START_R, false);
    expect(rig.jig.currentPrompt).toBe(PROMPTS.loadAndStart);
    rig.board.setInput(START_R, 0);
    rig.board.setInput(START_L, 0);
    await started;
  });

  it('refuses a start while the e-stop is pressed or the lid is open, with the reason', async () => {
    const rig = await panelJig();
    const started = rig.jig.waitForStart();
    const refused: JigError[] = [];
    rig.jig.on('start-refused', (e) => refused.push(e));

    // E-stop pressed while idle: a trip (latched) even though nothing runs.
    const abort = next<JigAbort>(rig.jig, 'abort');
    rig.board.setInput(ESTOP, null); // contact opens: the pull-up pulls the pin high
    expect((await abort).reason).toBe('estop');
    expect(rig.jig.currentPrompt).toBe('Release the e-stop');
    const settled = await settledDuring(started, async () => {
      const r = next<JigError>(rig.jig, 'start-refused');
      rig.board.setInput(START_L, 0);
      rig.board.setInput(START_R, 0);
      expect((await r).code).toBe('JIG_ESTOP');
      await hand(rig, START_L, false);
      await hand(rig, START_R, false);

      expect(() => rig.jig.resetAfterAbort()).toThrow(expect.objectContaining({ code: 'JIG_ESTOP' }));
      const clear = next(rig.jig, 'safety-clear');
      rig.board.setInput(ESTOP, 0);
      await clear;
      expect(rig.jig.currentPrompt).toBe(PROMPTS.reset);
      // Released but not reset: still refused.
      const r2 = next<JigError>(rig.jig, 'start-refused');
      rig.board.setInput(START_L, 0);
      rig.board.setInput(START_R, 0);
      expect((await r2).code).toBe('JIG_NOT_READY');
      await hand(rig, START_L, false);
      await hand(rig, START_R, false);
      rig.jig.resetAfterAbort();
      await rig.board.waitForOutput(RED, 0);
      await rig.board.waitForOutput(BUZZER, 0);
      await rig.board.waitForOutput(GREEN, 1);

      // Lid open while idle: no trip (the operator loads through it), but no start either.
      const lid = next(rig.jig, 'input', (e: { role: string; active: boolean }) => e.role === 'guard' && e.active);
      rig.board.setInput(GUARD, 1);
      await lid;
      expect(rig.jig.status().aborted).toBeUndefined();
      expect(rig.jig.currentPrompt).toBe('Close the lid');
      const r3 = next<JigError>(rig.jig, 'start-refused');
      rig.board.setInput(START_L, 0);
      rig.board.setInput(START_R, 0);
      const e3 = await r3;
      expect(e3.code).toBe('JIG_GUARD_OPEN');
      expect(e3.message).toMatch(/lid is open/);
      await hand(rig, START_L, false);
      await hand(rig, START_R, false);
    });
    expect(settled).toBe(false);
    expect(refused.map((e) => e.code)).toEqual(['JIG_ESTOP', 'JIG_NOT_READY', 'JIG_GUARD_OPEN']);
    rig.board.setInput(GUARD, 0);
    await next(rig.jig, 'input', (e: { role: string; active: boolean }) => e.role === 'guard' && !e.active);
    rig.board.setInput(START_L, 0);
    rig.board.setInput(START_R, 0);
    await started;
  });

  it('latches an e-stop found pressed at start-up until it is released and reset', async () => {
    const rig = await panelJig({ estopPressed: true });
    expect(rig.jig.status().aborted?.reason).toBe('estop');
    await rig.board.waitForOutput(RED, 1);
    expect(rig.jig.currentPrompt).toBe('Release the e-stop');
    const clear = next(rig.jig, 'safety-clear');
    rig.board.setInput(ESTOP, 0);
    await clear;
    rig.jig.resetAfterAbort();
    expect(rig.jig.status().aborted).toBeUndefined();
    await twoHandStart(rig);
  });

  it('can be cancelled with an AbortSignal', async () => {
    const rig = await panelJig();
    const ac = new AbortController();
    const started = rig.jig.waitForStart({ signal: ac.signal });
    ac.abort();
    await expect(started).rejects.toMatchObject({ code: 'JIG_CANCELLED' });
    expect(rig.jig.currentPrompt).toBeNull();
  });
});

describe('panel jig: clamp and slots', () => {
  it('closes the clamp on its sensor, powers slots only when clamped, and releases', async () => {
    const rig = await panelJig();
    await expect(rig.jig.clamp()).rejects.toMatchObject({ code: 'JIG_NOT_READY' }); // no start yet
    await twoHandStart(rig);
    expect(() => rig.jig.setSlotPower('A1', true)).toThrow(expect.objectContaining({ code: 'JIG_NOT_READY' }));
    await rig.jig.clamp();
    expect(rig.board.getOutput(CLAMP)).toBe(1);
    expect(rig.board.readInput(CLAMP_CLOSED)).toBe(0);
    expect(rig.jig.status().clamp).toBe('closed');

    for (const s of JIG_SLOTS) rig.jig.setSlotPower(s, true);
    for (const p of POWER) await rig.board.waitForOutput(p, 1);
    // The pulse lasts a minute of the jig's clock: skipped, not waited for.
    const pulse = rig.jig.pulseReset('B4', 60_000);
    await untilBoard(rig.board, () => rig.board.writes(RESET[7]).length === 2);
    clock.skip(60_000);
    await pulse;
    await untilBoard(rig.board, () => rig.board.writes(RESET[7]).length === 3);
    expect(rig.board.writes(RESET[7]).map((w) => w.value)).toEqual([0, 1, 0]); // setup, pulse
    expect(() => rig.jig.setSlotPower('Z9', true)).toThrow(expect.objectContaining({ code: 'JIG_UNKNOWN_SLOT' }));

    await rig.jig.release();
    expect(rig.board.readInput(CLAMP_CLOSED)).toBe(1); // release() waited for the sensor
    for (const p of POWER) expect(rig.board.getOutput(p)).toBe(0);
    expect(rig.board.getOutput(CLAMP)).toBe(0);
    expect(rig.jig.status()).toMatchObject({ clamp: 'open', started: false });
    // Power writes reached the board before the clamp opened.
    const lastPowerOff = Math.max(...POWER.map((p) => rig.board.writes(p).at(-1)!.seq));
    expect(lastPowerOff).toBeLessThan(rig.board.writes(CLAMP).at(-1)!.seq);
  });

  it('gives up with CLAMP_TIMEOUT and opens the clamp when the sensor never confirms', async () => {
    const rig = await panelJig({ follow: false });
    await twoHandStart(rig);
    const err = await rig.jig.clamp().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JigError);
    expect((err as JigError).code).toBe('CLAMP_TIMEOUT');
    expect((err as JigError).hint).toMatch(/air pressure/);
    await rig.board.waitForOutput(CLAMP, 0);
    expect(rig.board.writes(CLAMP).map((w) => w.value)).toEqual([1, 0]);
    expect(rig.jig.currentPrompt).toBe(PROMPTS.clampTimeout);
    expect(rig.jig.status()).toMatchObject({ clamp: 'open', started: false, tower: 'attention' });
    // A new attempt needs a new start.
    await expect(rig.jig.clamp()).rejects.toMatchObject({ code: 'JIG_NOT_READY' });
  });

  it('refuses to move a clamp whose sensor already reads closed', async () => {
    const rig = await panelJig({ follow: false });
    await twoHandStart(rig);
    const seen = next(rig.jig, 'input', (e: { role: string; active: boolean }) => e.role === 'clamp-closed' && e.active);
    rig.board.setInput(CLAMP_CLOSED, 0);
    await seen;
    await expect(rig.jig.clamp()).rejects.toMatchObject({ code: 'CLAMP_SENSOR_FAULT' });
    expect(rig.board.writes(CLAMP)).toEqual([]); // never moved
  });

  it('e-stop during a run: abort at once, every slot unpowered, clamp open, tower red with buzzer', async () => {
    const rig = await panelJig();
    await twoHandStart(rig);
    await rig.jig.clamp();
    rig.jig.setTower('running');
    for (const s of JIG_SLOTS) {
      rig.jig.setSlotPower(s, true);
      rig.jig.setSlotLeds(s, 'busy');
    }
    rig.jig.setSlotLeds('A1', 'pass');
    for (const p of POWER) await rig.board.waitForOutput(p, 1);
    await rig.board.waitForOutput(PASS[1]!, 0); // busy LEDs blink
    await rig.board.waitForOutput(PASS[1]!, 1);

    const aborts: JigAbort[] = [];
    rig.jig.on('abort', (a) => aborts.push(a));
    rig.board.clearHistory();
    rig.board.setInput(ESTOP, null);
    await next(rig.jig, 'abort');
    expect(aborts).toHaveLength(1);
    const [a] = aborts;
    expect(a!.reason).toBe('estop');
    expect(a!.error.code).toBe('JIG_ESTOP');
    for (const p of POWER) await rig.board.waitForOutput(p, 0);
    await rig.board.waitForOutput(CLAMP, 0);
    await rig.board.waitForOutput(RED, 1);
    await rig.board.waitForOutput(BUZZER, 1);
    await rig.board.waitForOutput(AMBER, 0);
    await rig.board.waitForOutput(GREEN, 0);
    const seq = (pin: number) => rig.board.writes(pin).at(-1)!.seq;
    expect(Math.max(...POWER.map(seq))).toBeLessThan(seq(CLAMP));
    expect(rig.jig.status()).toMatchObject({ clamp: 'open', started: false, tower: 'fault' });
    expect(rig.board.getOutput(PASS[0]!)).toBe(1); // a finished unit keeps its result
    await rig.board.waitForOutput(PASS[1]!, 0); // busy blinking stopped
    const blinkWrites = rig.board.writes(PASS[1]!).length;

    // The contact chatters: still one abort; everything stays refused until reset.
    rig.board.setInput(ESTOP, 0);
    rig.board.setInput(ESTOP, 1);
    expect(() => rig.jig.setSlotPower('A1', true)).toThrow(expect.objectContaining({ code: 'JIG_ESTOP' }));
    await expect(rig.jig.clamp()).rejects.toMatchObject({ code: 'JIG_ESTOP' });
    rig.jig.setTower('idle'); // ignored while tripped
    await sleep(150);
    expect(aborts).toHaveLength(1);
    expect(rig.board.writes(PASS[1]!)).toHaveLength(blinkWrites);
    expect(rig.board.getOutput(RED)).toBe(1);

    const clear = next(rig.jig, 'safety-clear');
    rig.board.setInput(ESTOP, 0);
    await clear;
    rig.jig.silence();
    await rig.board.waitForOutput(BUZZER, 0);
    rig.jig.resetAfterAbort();
    await rig.board.waitForOutput(RED, 0);
    await rig.board.waitForOutput(GREEN, 1);
    await twoHandStart(rig);
  });

  it('lid opened during a run aborts; a clamp that opens by itself aborts too', async () => {
    const rig = await panelJig();
    await twoHandStart(rig);
    await rig.jig.clamp();
    rig.jig.setSlotPower('A2', true);
    await rig.board.waitForOutput(POWER[1]!, 1);
    const abort = next<JigAbort>(rig.jig, 'abort');
    rig.board.setInput(GUARD, null);
    const a = await abort;
    expect(a.reason).toBe('guard');
    expect(a.error.code).toBe('JIG_GUARD_OPEN');
    await rig.board.waitForOutput(POWER[1]!, 0);
    await rig.board.waitForOutput(CLAMP, 0);
    await rig.board.waitForOutput(RED, 1);
    expect(rig.jig.currentPrompt).toBe('Close the lid');
    expect(() => rig.jig.resetAfterAbort()).toThrow(expect.objectContaining({ code: 'JIG_GUARD_OPEN' }));
    const clear = next(rig.jig, 'safety-clear');
    rig.board.setInput(GUARD, 0);
    await clear;
    rig.jig.resetAfterAbort();

    // Air lost mid-run: the sensor drops while the valve is still driven.
    await twoHandStart(rig);
    await rig.jig.clamp();
    rig.jig.setSlotPower('A3', true);
    await rig.board.waitForOutput(POWER[2]!, 1);
    const lost = next<JigAbort>(rig.jig, 'abort');
    rig.board.setInput(CLAMP_CLOSED, 1); // the follower only acts when the valve output changes
    const l = await lost;
    expect(l.reason).toBe('clamp-lost');
    expect(l.error.code).toBe('CLAMP_LOST');
    await rig.board.waitForOutput(POWER[2]!, 0);
    await rig.board.waitForOutput(CLAMP, 0);
  });

  it('drives slot LEDs and the tower light as asked', async () => {
    const rig = await panelJig();
    rig.jig.setSlotLeds('A1', 'pass');
    rig.jig.setSlotLeds('A2', 'fail');
    await rig.board.waitForOutput(PASS[0]!, 1);
    await rig.board.waitForOutput(FAIL[1]!, 1);
    expect(rig.board.getOutput(FAIL[0]!)).toBe(0);
    expect(rig.board.getOutput(PASS[1]!)).toBe(0);
    rig.jig.setSlotLeds('A1', 'busy');
    await rig.board.waitForOutput(PASS[0]!, 0);
    await rig.board.waitForOutput(PASS[0]!, 1);
    rig.jig.setSlotLeds('A1', 'off');
    rig.jig.setSlotLeds('A2', 'off');
    await rig.board.waitForOutput(PASS[0]!, 0);
    await rig.board.waitForOutput(FAIL[1]!, 0);
    // A skipped chip: both lamps steady together.
    rig.jig.setSlotLeds('A2', 'both');
    await rig.board.waitForOutput(PASS[1]!, 1);
    await rig.board.waitForOutput(FAIL[1]!, 1);
    rig.jig.setSlotLeds('A2', 'off');
    await rig.board.waitForOutput(PASS[1]!, 0);
    await rig.board.waitForOutput(FAIL[1]!, 0);

    const tower = (want: number[]) => untilBoard(rig.board, () => [RED, AMBER, GREEN, BUZZER].every((p, i) => rig.board.getOutput(p) === want[i]));
    rig.jig.setTower('idle');
    await tower([0, 0, 1, 0]);
    rig.jig.setTower('running');
    await tower([0, 1, 1, 0]);
    rig.jig.setTower('attention');
    await rig.board.waitForOutput(GREEN, 0);
    await rig.board.waitForOutput(AMBER, 0); // blinking
    await rig.board.waitForOutput(AMBER, 1);
    rig.jig.setTower('fault');
    await tower([1, 0, 0, 1]);
    rig.jig.setTower('off');
    await tower([0, 0, 0, 0]);
  });

  it('sets active-low outputs up without ever driving them active, and close() leaves every output inactive', async () => {
    const rig = await panelJig({
      edit: (raw) => {
        raw.board.towerLight.green = { pin: GREEN, activeLow: true };
        raw.slots[0].power = { pin: POWER[0], activeLow: true };
      },
    });
    expect(rig.board.writes(GREEN).map((w) => w.value)).toEqual([1]);
    expect(rig.board.writes(POWER[0]!).map((w) => w.value)).toEqual([1]);
    expect(rig.board.getMode(RESET[0]!)).toBe(PinMode.OUTPUT); // A0 as a digital output
    expect(rig.board.getMode(START_L)).toBe(PinMode.PULLUP);
    rig.jig.setTower('running');
    await twoHandStart(rig);
    await rig.jig.clamp();
    rig.jig.setSlotPower('A1', true);
    await rig.board.waitForOutput(POWER[0]!, 0);
    await rig.board.waitForOutput(GREEN, 0);
    await rig.jig.close();
    // The board gets the last bytes through the pty a moment after the port closed.
    await rig.board.waitForOutput(POWER[0]!, 1);
    await rig.board.waitForOutput(GREEN, 1);
    for (const p of [CLAMP, RED, AMBER, BUZZER, ...POWER.slice(1), ...RESET, ...PASS, ...FAIL]) await rig.board.waitForOutput(p, 0);
  });

  it('output writes do not switch on the pull-up of an input without one on the same port', async () => {
    // firmata-io sends whole ports and fills input bits with their last reading; StandardFirmata
    // turns a 1 on an INPUT pin into its pull-up. A floating guard input must still read closed.
    const GUARD_12 = 12; // port 1, with the tower light and the buzzer
    const rig = await panelJig({ edit: (raw) => (raw.board.guard = { type: 'lid', pin: GUARD_12 }) });
    const guardIs = (active: boolean) => next(rig.jig, 'input', (e: { role: string; active: boolean }) => e.role === 'guard' && e.active === active);
    const opened = guardIs(true);
    rig.board.setInput(GUARD_12, 1);
    await opened;
    rig.jig.setTower('running');
    await rig.board.waitForOutput(AMBER, 1);
    expect(rig.board.snapshot()[GUARD_12]).toMatchObject({ mode: PinMode.INPUT, pullup: false });
    const closed = guardIs(false);
    rig.board.setInput(GUARD_12, null);
    await closed;
  });

  it('reports an unplugged board as lost, with an abort for the units in flight', async () => {
    const rig = await panelJig();
    const started = rig.jig.waitForStart().catch((e: unknown) => e);
    const abort = next<JigAbort>(rig.jig, 'abort');
    const lost = next<JigBoardError>(rig.jig, 'lost');
    await rig.pb.close();
    const err = await lost;
    expect(err).toBeInstanceOf(JigBoardError);
    expect(err.code).toBe('JIG_BOARD_LOST');
    expect(err.message).toContain(rig.pb.path);
    expect(err.hint).toMatch(/USB cable/);
    const a = await abort;
    expect(a.reason).toBe('board-lost');
    expect(a.error.code).toBe('JIG_BOARD_LOST');
    expect(await started).toMatchObject({ code: 'JIG_BOARD_LOST' });
    await expect(rig.jig.waitForStart()).rejects.toMatchObject({ code: 'JIG_BOARD_LOST' });
    expect(() => rig.jig.resetAfterAbort()).toThrow(expect.objectContaining({ code: 'JIG_BOARD_LOST' }));
    expect(rig.jig.currentPrompt).toBe(PROMPTS.boardLost);
    expect(rig.jig.status().lost).toBe(true);
  });
});

describe('a board that comes back', () => {
  it('picks a re-plugged board up on the same port: board-back, safety-clear, reset, and the next two-hand start works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ifpp-jig-replug-'));
    const link = join(dir, 'jig');
    const plug = async () => {
      const pb = await startPtyBoard({ link, links: [{ output: CLAMP, input: CLAMP_CLOSED, delayMs: 30, invert: true }] });
      pb.board.setInput(ESTOP, 0);
      pb.board.setInput(GUARD, 0);
      return pb;
    };
    const first = await plug();
    const jig = await JigController.open(panelJigConfig(link), { ...OPTIONS, reconnectMs: 50 });
    const rig: Rig = { pb: first, jig };
    open.push(rig);
    const lost = next(jig, 'lost');
    await first.close();
    await lost;
    expect(jig.currentPrompt).toBe(PROMPTS.boardLost);
    // Plugged back in (a new board process behind the same link path).
    const back = next(jig, 'board-back', () => true, 10_000);
    const clear = next(jig, 'safety-clear', () => true, 10_000);
    rig.pb = await plug();
    await back;
    await clear;
    expect(jig.status()).toMatchObject({ lost: false, aborted: { reason: 'board-lost' } });
    jig.resetAfterAbort();
    expect(jig.status().aborted).toBeUndefined();
    await twoHandStart(rig);
    await jig.clamp();
    jig.setSlotPower('A1', true);
    await rig.pb.board.waitForOutput(POWER[0]!, 1);
    await jig.release();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('set-up failures', () => {
  it('names a pin the plugged-in board does not have, and lets the port go', async () => {
    const pb = await startPtyBoard({ digitalPins: 14, analogPins: 6 }); // an Uno where the config says Mega
    try {
      const err = await JigController.open(panelJigConfig(pb.path), OPTIONS).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JigError);
      expect((err as JigError).code).toBe('JIG_PIN_UNSUPPORTED');
      expect((err as JigError).message).toMatch(/pin \d+, which this 20-pin board does not have/);
      expect((err as JigError).hint).toMatch(/board model/);
      // The port was closed: a second controller can open it.
      const again = await JigController.open(panelJigConfig(pb.path, (raw) => {
        raw.board.model = 'uno';
        raw.board.clamp = { output: 2, closedSensor: { pin: 3, activeLow: true, pullup: true } };
        raw.board.towerLight = { red: 8 };
        delete raw.board.buzzer;
        raw.slots = raw.slots.slice(0, 1).map((s: Record<string, unknown>) => ({ ...s, power: 9, reset: 10, presence: undefined, passLed: undefined, failLed: undefined }));
        raw.bridges[0].slots = 1;
      }), OPTIONS);
      expect(again.hasBoard).toBe(true);
      await again.close();
    } finally {
      await pb.close();
    }
  });
});

describe('socket programmer', () => {
  // fixtures-config/sim-programmer-16.ts: e-stop 2, tower 3/4/5, buzzer 6, presence 22..37
  // (activeLow, pull-up), pass LEDs 38..53, fail LEDs A0..A15. Slots A1, A2 get power pins here.
  const PRESENCE_A1 = 22;
  const PRESENCE_B2 = 27;
  const POWER_A1 = 8;

  async function programmer(): Promise<Rig & { board: PtyBoard['board'] }> {
    const pb = await startPtyBoard();
    pb.board.setInput(2, 0);
    const raw = structuredClone(programmer16) as Record<string, any>;
    raw.slots[0].power = POWER_A1;
    const jig = await JigController.open(validated(raw, pb.path), OPTIONS);
    const rig = { pb, jig, board: pb.board };
    open.push(rig);
    return rig;
  }

  it('reports each socket on its own, powers only occupied sockets, and cuts power when a device is pulled', async () => {
    const rig = await programmer();
    expect(rig.jig.presence('A1')).toBe(false);
    await rig.jig.waitForStart(); // no start buttons: nothing to wait for
    await rig.jig.clamp(); // no clamp
    expect(() => rig.jig.setSlotPower('A1', true)).toThrow(expect.objectContaining({ code: 'JIG_NOT_READY' }));

    const events: string[] = [];
    rig.jig.on('slot-present', (e) => events.push(`+${e.slot}`));
    rig.jig.on('slot-removed', (e) => events.push(`-${e.slot}`));
    const a1 = next(rig.jig, 'slot-present', (e: { slot: string }) => e.slot === 'A1');
    rig.board.setInput(PRESENCE_A1, 0);
    await a1;
    const b2 = next(rig.jig, 'slot-present', (e: { slot: string }) => e.slot === 'B2');
    rig.board.setInput(PRESENCE_B2, 0);
    await b2;
    expect(rig.jig.presence('A1')).toBe(true);
    expect(rig.jig.presence('B2')).toBe(true);
    expect(rig.jig.presence('A2')).toBe(false);

    rig.jig.setSlotPower('A1', true);
    await rig.board.waitForOutput(POWER_A1, 1);
    rig.jig.setSlotLeds('B2', 'fail');
    await rig.board.waitForOutput(54 + 5, 1); // B2 is slot index 5: fail LED A5
    rig.jig.setSlotLeds('A1', 'pass');
    await rig.board.waitForOutput(38, 1);

    const gone = next(rig.jig, 'slot-removed', (e: { slot: string }) => e.slot === 'A1');
    rig.board.setInput(PRESENCE_A1, null);
    await gone;
    await rig.board.waitForOutput(POWER_A1, 0);
    expect(events).toEqual(['+A1', '+B2', '-A1']);
    expect(rig.jig.status().aborted).toBeUndefined(); // the other sockets go on
  });

  it('an e-stop aborts every socket at once', async () => {
    const rig = await programmer();
    const a1 = next(rig.jig, 'slot-present');
    rig.board.setInput(PRESENCE_A1, 0);
    await a1;
    rig.jig.setSlotPower('A1', true);
    await rig.board.waitForOutput(POWER_A1, 1);
    const abort = next<JigAbort>(rig.jig, 'abort');
    rig.board.setInput(2, null);
    expect((await abort).reason).toBe('estop');
    await rig.board.waitForOutput(POWER_A1, 0);
    await rig.board.waitForOutput(3, 1); // red
    await rig.board.waitForOutput(6, 1); // buzzer
  });
});

describe('NoJig (a station without a board)', () => {
  it('starts at once and drives nothing', async () => {
    const jig = new NoJig('socket-programmer');
    const events: string[] = [];
    jig.on('prompt', () => events.push('prompt'));
    await jig.waitForStart();
    await jig.clamp();
    jig.setSlotPower('A1', true);
    jig.setSlotLeds('A1', 'busy');
    jig.setTower('running');
    await jig.pulseReset('A1', 1);
    expect(jig.presence('A1')).toBeUndefined();
    jig.resetAfterAbort();
    await jig.release();
    await jig.close();
    expect(jig.status()).toMatchObject({ hasBoard: false, aborted: undefined, estopPressed: undefined });
    expect(events).toEqual([]);
  });

  it('is what the station gets for a config without a board; JigController refuses one', async () => {
    const cfg = { ...validated(structuredClone(programmer16) as Record<string, any>, '/dev/ifpp-unused'), board: undefined, bridges: [], slots: [] };
    await expect(JigController.open(cfg)).rejects.toMatchObject({ code: 'JIG_NO_BOARD' });
    const hw = await openStationHardware(cfg);
    expect(hw.jig).toBeInstanceOf(NoJig);
    expect(hw.jig.hasBoard).toBe(false);
    await hw.jig.waitForStart();
    await hw.close();
  });
});
