/**
 * An in-process jig: the station's Jig interface with operator actions instead of pins (press
 * start, e-stop, insert and pull units), keeping the interlocks the station relies on: a trip
 * powers every slot off and latches until reset with the e-stop released; a panel jig powers
 * slots only while clamped; a socket only while its unit is present. The Firmata path (pins,
 * debouncing, two-hand timing) is covered against the virtual board over a pty.
 */
import { EventEmitter } from 'node:events';
import type { StationKind } from '../../station/config/schema.ts';
import type { ClampState, Jig, JigAbort, JigEvents, JigStatus, SlotLedMode, TowerMode, WaitOptions } from '../../station/hardware/jig.ts';
import { JigError } from '../../station/hardware/jig-errors.ts';

export interface SimJigOptions {
  kind: StationKind;
  /** Enabled slot ids. */
  slots: readonly string[];
  /** Sockets have presence inputs (socket programmer). Default: kind === 'socket-programmer'. */
  presenceInputs?: boolean;
}

export class SimJig extends EventEmitter<JigEvents> implements Jig {
  readonly hasBoard = true;
  readonly kind: StationKind;
  readonly leds = new Map<string, SlotLedMode>();
  readonly powered = new Set<string>();
  private readonly presenceInputs: boolean;
  private readonly present = new Map<string, boolean>();
  private tower: TowerMode = 'off';
  private clampState: ClampState = 'open';
  private started = false;
  private estop = false;
  private lost = false;
  private tripped: JigAbort | undefined;
  private startWait: { resolve: () => void; reject: (e: JigError) => void; promise: Promise<void> } | undefined;
  private closed = false;

  constructor(opts: SimJigOptions) {
    super();
    this.kind = opts.kind;
    this.presenceInputs = opts.presenceInputs ?? opts.kind === 'socket-programmer';
    for (const s of opts.slots) this.present.set(s, false);
  }

  // ---- the operator ------------------------------------------------------------------------

  /** Both start buttons, together. Refused (start-refused) while tripped. */
  pressStart(): void {
    if (!this.startWait) return;
    const r = this.refusal();
    if (r) {
      this.emit('start-refused', r);
      return;
    }
    this.started = true;
    const w = this.startWait;
    this.startWait = undefined;
    w.resolve();
  }

  /** Resolves once the station waits for a start (so a test presses at the right moment). */
  async waitingForStart(): Promise<void> {
    while (!this.startWait) await new Promise((r) => this.once('prompt', r));
  }

  pressEstop(): void {
    this.estop = true;
    this.trip(new JigError('JIG_ESTOP', 'E-stop pressed: every slot was switched off', { hint: 'release the e-stop, then reset the station' }), 'estop');
  }

  /** The board goes away (USB unplugged): a trip like the e-stop, then 'lost'. */
  loseBoard(): void {
    this.lost = true;
    const error = new JigError('JIG_BOARD_LOST', 'Jig board lost: sim board unplugged', { hint: 'check the USB cable and the board power; the station picks the board up again when it is back' });
    this.trip(error, 'board-lost');
    const w = this.startWait;
    this.startWait = undefined;
    w?.reject(error);
    this.emit('lost', error);
  }

  /** The board is back (re-plugged): the trip stays latched until reset, as after an e-stop. */
  boardBack(): void {
    if (!this.lost) return;
    this.lost = false;
    this.emit('board-back');
    if (this.tripped && !this.estop) this.emit('safety-clear');
  }

  releaseEstop(): void {
    this.estop = false;
    if (this.tripped && !this.lost) this.emit('safety-clear');
  }

  /** A unit goes into a socket (presence input). */
  insert(slot: string): void {
    this.present.set(slot, true);
    this.emit('slot-present', { slot });
  }

  /** A unit comes out: its power goes off at once. */
  remove(slot: string): void {
    this.present.set(slot, false);
    this.powered.delete(slot);
    this.emit('slot-removed', { slot });
  }

  // ---- Jig ---------------------------------------------------------------------------------

  waitForStart(options: WaitOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(new JigError('JIG_CLOSED', 'the jig was closed'));
    if (!this.startWait) {
      let resolve!: () => void;
      let reject!: (e: JigError) => void;
      const promise = new Promise<void>((a, b) => ((resolve = a), (reject = b)));
      this.startWait = { resolve, reject, promise };
      this.emit('prompt', 'Press both start buttons');
    }
    const w = this.startWait;
    const signal = options.signal;
    if (signal) {
      const cancel = () => {
        if (this.startWait !== w) return;
        this.startWait = undefined;
        w.reject(new JigError('JIG_CANCELLED', 'the wait for a start was cancelled'));
      };
      if (signal.aborted) cancel();
      else signal.addEventListener('abort', cancel, { once: true });
    }
    return w.promise;
  }

  async clamp(): Promise<void> {
    const r = this.refusal();
    if (r) throw r;
    if (this.kind === 'panel-jig' && !this.started) throw new JigError('JIG_NOT_READY', 'the clamp closes only after a two-hand start');
    this.clampState = 'closed';
  }

  async release(): Promise<void> {
    this.started = false;
    this.powered.clear();
    this.clampState = 'open';
  }

  resetAfterAbort(): void {
    if (this.lost) throw new JigError('JIG_BOARD_LOST', 'Reset refused: the jig board is not connected', { hint: 'plug the board back in' });
    if (this.estop) throw new JigError('JIG_ESTOP', 'Reset refused: the e-stop is still pressed', { hint: 'release the e-stop' });
    if (!this.tripped) return;
    this.tripped = undefined;
    this.tower = 'idle';
  }

  setSlotPower(slot: string, on: boolean): void {
    if (!on) {
      this.powered.delete(slot);
      return;
    }
    const r = this.refusal();
    if (r) throw r;
    if (this.kind === 'panel-jig' && this.clampState !== 'closed') throw new JigError('JIG_NOT_READY', `slot ${slot} cannot be powered: the clamp is not closed`);
    if (this.presenceInputs && this.present.get(slot) !== true) throw new JigError('JIG_NOT_READY', `slot ${slot} cannot be powered: no device in the socket`);
    this.powered.add(slot);
  }

  async pulseReset(): Promise<void> {}

  presence(slot: string): boolean | undefined {
    return this.presenceInputs ? this.present.get(slot) === true : undefined;
  }

  setSlotLeds(slot: string, mode: SlotLedMode): void {
    this.leds.set(slot, mode);
  }

  setTower(mode: TowerMode): void {
    if (!this.tripped) this.tower = mode;
  }

  silence(): void {}

  status(): JigStatus {
    return {
      kind: this.kind,
      hasBoard: true,
      aborted: this.tripped,
      estopPressed: this.estop,
      guardOpen: undefined,
      clamp: this.clampState,
      started: this.started,
      tower: this.tower,
      prompt: null,
      lost: this.lost,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.powered.clear();
    this.clampState = 'open';
    const w = this.startWait;
    this.startWait = undefined;
    w?.reject(new JigError('JIG_CLOSED', 'the jig was closed'));
  }

  private refusal(): JigError | undefined {
    if (this.closed) return new JigError('JIG_CLOSED', 'the jig was closed');
    if (this.lost) return new JigError('JIG_BOARD_LOST', 'Start refused: the jig board is not connected');
    if (this.estop) return new JigError('JIG_ESTOP', 'Start refused: the e-stop is pressed');
    if (this.tripped) return new JigError('JIG_NOT_READY', `Start refused: the station was stopped (${this.tripped.error.message}) and not reset yet`, { hint: 'reset the station to continue' });
    return undefined;
  }

  private trip(error: JigError, reason: JigAbort['reason']): void {
    if (this.tripped) return;
    this.powered.clear();
    this.clampState = 'open';
    this.started = false;
    this.tower = 'fault';
    this.tripped = { reason, error };
    this.emit('abort', this.tripped);
  }
}
