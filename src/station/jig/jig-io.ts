/**
 * The jig's pins by role, on the Firmata board that connect-board.ts brought up through
 * johnny-five. Inputs are watched with firmata-io's digitalRead (port reporting) and filtered
 * per role (input-filter.ts); outputs are written as plain digital levels with activeLow
 * applied, so the board always shows 0/1 and the safe state is "every output inactive".
 *
 * Why not johnny-five's components: Button/Switch debounce through one shared trailing
 * trigger (a short press vanishes, see input-filter.ts), a held Button runs an interval no one
 * can stop from outside, Pin in INPUT mode polls forever, and Led picks PWM mode on PWM pins.
 *
 * Firmata details handled here:
 * - Setup order. Outputs are latched inactive before they become outputs (an active-low
 *   output must not pass through LOW), and every input is configured before any port
 *   reports, then a PIN_STATE query acts as a barrier: the board handles commands in order,
 *   so when its answer arrives every report caused by the setup (e.g. the brief LOW of a pin
 *   whose pull-up is not on yet) has arrived too. Those set the initial levels; only changes
 *   after the barrier become events. That keeps setup transients from tripping the e-stop.
 * - Pull-ups use PULLUP mode where the firmware offers it (StandardFirmata 2.5 ignores port
 *   writes to such pins), else INPUT plus a written 1, as johnny-five does.
 * - firmata-io writes a whole 8-pin port for every digitalWrite and fills the bits of input
 *   pins with their last reading; StandardFirmata turns a 1 on an INPUT pin into its pull-up.
 *   Before each write the input bits are set to what each input's pull-up should be.
 * - SYSTEM_RESET keeps output latches, so the safe state is written pin by pin.
 */
import { realClock, type JigClock } from './clock.ts';
import { EventEmitter } from 'node:events';
import type firmataIo from 'firmata-io';
import type { JigBoardConnection } from '../../transport/jig/connect-board.ts';
import { JigError } from '../hardware/jig-errors.ts';
import { InputFilter, type FilterPolicy } from './input-filter.ts';
import { SAFETY_INPUTS, bindingName, type InputBinding, type InputRole, type IoPlan, type OutputBinding, type OutputRole } from './io-plan.ts';

export interface JigInputEvent {
  role: InputRole;
  slot?: string;
  /** The named condition holds: pressed, closed, present, guard open, e-stop pressed. */
  active: boolean;
  /** performance.now() when the new level was first seen (before debouncing). */
  at: number;
}

export interface JigIoOptions {
  /** Stable time for start buttons, presence and the clamp sensor (default 20 ms). */
  debounceMs?: number;
  /** E-stop and guard trip at once; they count as released after this stable time (default 100 ms). */
  safetyReleaseMs?: number;
  /** Half period of blinking outputs (default 300 ms). */
  blinkMs?: number;
  /** The board must answer the setup barrier within this (default 2000 ms). */
  setupTimeoutMs?: number;
  /** Time of input changes (default: performance.now). */
  clock?: JigClock;
}

export interface JigIoEvents {
  input: [JigInputEvent];
}

/** Firmata pin modes the jig uses. */
export const PULLUP_MODE = 0x0b;
export const INPUT_MODE = 0x00;
export const OUTPUT_MODE = 0x01;

/**
 * Why a configured pin cannot serve on the connected board (missing, or not a digital input /
 * output there), or undefined when it can. Shared by the station (which refuses to start) and
 * `ifpp probe` (which lists every such pin).
 */
export function pinProblem(conn: Pick<JigBoardConnection, 'io' | 'pinCount'>, b: InputBinding | OutputBinding, what: 'input' | 'output'): { message: string; hint: string } | undefined {
  const rec = conn.io.pins[b.pin.pin];
  if (!rec) {
    return {
      message: `${bindingName(b)} is wired to pin ${b.pin.label}, which this ${conn.pinCount}-pin board does not have`,
      hint: 'check the board model in the config against the board that is plugged in',
    };
  }
  if (!rec.supportedModes.includes(what === 'input' ? INPUT_MODE : OUTPUT_MODE)) {
    return { message: `${bindingName(b)}: pin ${b.pin.label} cannot be a digital ${what} on this board`, hint: 'use another pin (serial pins 0/1 and analog-only pins cannot be used)' };
  }
  return undefined;
}

interface InputRec {
  binding: InputBinding;
  filter: InputFilter;
  listener: (level: number) => void;
}

interface OutputRec {
  binding: OutputBinding;
  /** What the station asked for (blinking: the current phase). */
  on: boolean;
  blinking: boolean;
}

const key = (role: string, slot?: string) => (slot === undefined ? role : `${role}|${slot}`);

export class JigIo extends EventEmitter<JigIoEvents> {
  private readonly inputs = new Map<string, InputRec>();
  private readonly outputs = new Map<string, OutputRec>();
  /** Per port: bits of input pins that must be written 1 (fallback pull-up) / 0 (no pull-up). */
  private readonly keepHigh = new Map<number, number>();
  private readonly keepLow = new Map<number, number>();
  private blinkTimer: ReturnType<typeof setInterval> | undefined;
  private blinkPhase = true;
  private armed = false;
  private disposed = false;

  private constructor(
    private readonly conn: JigBoardConnection,
    private readonly opts: Required<JigIoOptions>,
  ) {
    super();
  }

  /** Sets every pin of the plan up (outputs inactive first) and starts watching the inputs. */
  static async attach(conn: JigBoardConnection, plan: IoPlan, options: JigIoOptions = {}): Promise<JigIo> {
    const io = new JigIo(conn, {
      debounceMs: options.debounceMs ?? 20,
      safetyReleaseMs: options.safetyReleaseMs ?? 100,
      blinkMs: options.blinkMs ?? 300,
      setupTimeoutMs: options.setupTimeoutMs ?? 2000,
      clock: options.clock ?? realClock,
    });
    try {
      io.checkPins(plan);
      io.setUpOutputs(plan.outputs);
      io.setUpInputs(plan.inputs);
      await io.barrier(plan.inputs);
    } catch (e) {
      io.dispose();
      throw e;
    }
    io.armed = true;
    return io;
  }

  // ---- inputs -------------------------------------------------------------------------------

  hasInput(role: InputRole, slot?: string): boolean {
    return this.inputs.has(key(role, slot));
  }

  /** Filtered state; undefined when the role has no pin or the board never reported it. */
  isActive(role: InputRole, slot?: string): boolean | undefined {
    return this.inputs.get(key(role, slot))?.filter.active;
  }

  // ---- outputs ------------------------------------------------------------------------------

  hasOutput(role: OutputRole, slot?: string): boolean {
    return this.outputs.has(key(role, slot));
  }

  /** What the station last asked of the output (false when there is no such output). */
  isOn(role: OutputRole, slot?: string): boolean {
    return this.outputs.get(key(role, slot))?.on ?? false;
  }

  isBlinking(role: OutputRole, slot?: string): boolean {
    return this.outputs.get(key(role, slot))?.blinking ?? false;
  }

  /** Drives the output (stops its blinking). No-op when the role has no pin. */
  set(role: OutputRole, slot: string | undefined, on: boolean): void {
    const rec = this.outputs.get(key(role, slot));
    if (!rec) return;
    if (rec.blinking) this.stopBlink(rec);
    if (rec.on === on) return;
    rec.on = on;
    this.drive(rec);
  }

  /** Blinks the output; all blinking outputs share one timer and blink in step. */
  blink(role: OutputRole, slot: string | undefined): void {
    const rec = this.outputs.get(key(role, slot));
    if (!rec || rec.blinking || this.disposed) return;
    if (!this.blinkTimer) {
      this.blinkPhase = true;
      this.blinkTimer = setInterval(() => this.blinkTick(), this.opts.blinkMs);
      this.blinkTimer.unref();
    }
    rec.blinking = true;
    rec.on = this.blinkPhase;
    this.drive(rec);
  }

  /**
   * Every output inactive, slot power first (see ioPlan), blinking stopped. Written even
   * where the station believes the pin already is inactive: after a reconnect the board's
   * latches may hold anything.
   */
  safeState(): void {
    for (const rec of this.outputs.values()) {
      if (rec.blinking) this.stopBlink(rec);
      rec.on = false;
      this.drive(rec);
    }
  }

  /** Writes the given outputs inactive (in the plan's order), leaving the others alone. */
  allOff(roles: readonly OutputRole[]): void {
    for (const rec of this.outputs.values()) {
      if (!roles.includes(rec.binding.role)) continue;
      if (rec.blinking) this.stopBlink(rec);
      rec.on = false;
      this.drive(rec);
    }
  }

  /** Stops timers and listeners; writes nothing (call safeState() first). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.blinkTimer);
    this.blinkTimer = undefined;
    for (const rec of this.inputs.values()) {
      rec.filter.cancel();
      this.fio.removeListener(`digital-read-${rec.binding.pin.pin}`, rec.listener);
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  private get fio(): firmataIo.Firmata {
    return this.conn.io;
  }

  private checkPins(plan: IoPlan): void {
    const check = (b: InputBinding | OutputBinding, what: 'input' | 'output') => {
      const p = pinProblem(this.conn, b, what);
      if (p) throw new JigError('JIG_PIN_UNSUPPORTED', p.message, { hint: p.hint, details: { role: b.role, slot: b.slot, pin: b.pin.pin, supportedModes: this.fio.pins[b.pin.pin]?.supportedModes } });
    };
    for (const b of plan.outputs) check(b, 'output');
    for (const b of plan.inputs) check(b, 'input');
  }

  private setUpOutputs(bindings: readonly OutputBinding[]): void {
    for (const b of bindings) {
      const rec: OutputRec = { binding: b, on: false, blinking: false };
      this.outputs.set(key(b.role, b.slot), rec);
      // Pre-set every output's inactive level in firmata-io's port image, so that the first
      // port write does not drive a not-yet-initialised neighbour active.
      this.setPortBit(b.pin.pin, this.levelOf(rec));
    }
    for (const rec of this.outputs.values()) {
      const pin = rec.binding.pin.pin;
      this.writeLevel(pin, this.levelOf(rec)); // latch first: the mode switch then keeps it
      this.fio.pinMode(pin, OUTPUT_MODE);
      this.writeLevel(pin, this.levelOf(rec));
    }
  }

  private setUpInputs(bindings: readonly InputBinding[]): void {
    for (const b of bindings) {
      const { pin, pullup, activeLow } = b.pin;
      const port = pin >> 3;
      const bit = 1 << (pin & 7);
      const native = this.fio.pins[pin]!.supportedModes.includes(PULLUP_MODE);
      if (pullup && native) {
        this.fio.pinMode(pin, PULLUP_MODE);
      } else {
        this.fio.pinMode(pin, INPUT_MODE);
        const masks = pullup ? this.keepHigh : this.keepLow;
        masks.set(port, (masks.get(port) ?? 0) | bit);
        if (pullup) this.writeLevel(pin, 1);
      }
      const policy: FilterPolicy = SAFETY_INPUTS.has(b.role) ? { kind: 'safety', releaseMs: this.opts.safetyReleaseMs } : { kind: 'debounce', debounceMs: this.opts.debounceMs };
      const filter = new InputFilter({
        now: () => this.opts.clock.now(),
        policy,
        activeLow,
        onChange: (active, at) => this.emit('input', { role: b.role, ...(b.slot !== undefined ? { slot: b.slot } : {}), active, at }),
      });
      const listener = (level: number) => {
        if (this.disposed) return;
        if (this.armed) filter.feed(level);
        else filter.prime(level);
      };
      this.inputs.set(key(b.role, b.slot), { binding: b, filter, listener });
    }
    // Only now that every input pin has its mode and pull-up: start the reports.
    for (const rec of this.inputs.values()) this.fio.digitalRead(rec.binding.pin.pin, rec.listener);
  }

  private barrier(bindings: readonly InputBinding[]): Promise<void> {
    const last = bindings.at(-1);
    if (!last) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fio.removeAllListeners(`pin-state-${last.pin.pin}`);
        reject(
          new JigError('JIG_BOARD_NOT_RESPONDING', `the jig board did not confirm the pin setup within ${this.opts.setupTimeoutMs} ms`, {
            hint: 'the board answers the handshake but not pin queries: flash StandardFirmata 2.5 or later',
          }),
        );
      }, this.opts.setupTimeoutMs);
      this.fio.queryPinState(last.pin.pin, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private blinkTick(): void {
    this.blinkPhase = !this.blinkPhase;
    for (const rec of this.outputs.values()) {
      if (!rec.blinking) continue;
      rec.on = this.blinkPhase;
      this.drive(rec);
    }
  }

  private stopBlink(rec: OutputRec): void {
    rec.blinking = false;
    if ([...this.outputs.values()].some((r) => r.blinking)) return;
    clearInterval(this.blinkTimer);
    this.blinkTimer = undefined;
  }

  private levelOf(rec: OutputRec): 0 | 1 {
    return rec.on !== rec.binding.pin.activeLow ? 1 : 0;
  }

  private drive(rec: OutputRec): void {
    this.writeLevel(rec.binding.pin.pin, this.levelOf(rec));
  }

  private writeLevel(pin: number, level: 0 | 1): void {
    if (this.disposed || !this.conn.isOpen) return;
    const port = pin >> 3;
    const high = this.keepHigh.get(port) ?? 0;
    const low = this.keepLow.get(port) ?? 0;
    if (high || low) this.fio.ports[port] = ((this.fio.ports[port] ?? 0) & ~low) | high;
    this.fio.digitalWrite(pin, level);
  }

  private setPortBit(pin: number, level: 0 | 1): void {
    const port = pin >> 3;
    const bit = 1 << (pin & 7);
    const pinRec = this.fio.pins[pin];
    if (pinRec) pinRec.value = level;
    this.fio.ports[port] = level ? (this.fio.ports[port] ?? 0) | bit : (this.fio.ports[port] ?? 0) & ~bit;
  }
}
