/**
 * The jig's safety and sequencing logic, between the orchestrator and the pins (jig-io.ts).
 *
 * Rules it enforces, whatever the orchestrator asks:
 * - The e-stop trips at any time; the guard (lid / light curtain) trips while the jig is armed
 *   (a start was accepted, the clamp is driven, or any slot is powered). A trip drives every
 *   slot's power and reset inactive, opens the clamp, turns the tower red with the buzzer, and
 *   only then emits 'abort', once. The trip is latched: nothing starts, clamps or powers up
 *   until resetAfterAbort(), which needs the e-stop released and the guard closed. An e-stop
 *   found pressed at start-up is latched the same way (without an 'abort': nothing ran).
 * - The clamp closes only after a valid two-hand start (panel jig) and must be confirmed by its
 *   sensor within closeTimeoutMs; the sensor dropping while clamped trips like the e-stop
 *   (air lost: the pins lift off the running boards).
 * - Slot power needs the clamp confirmed (panel jig with a clamp) or the device present
 *   (socket with a presence input); a device pulled from a powered socket loses power at once.
 * - The board going away counts as a trip ('abort' with reason board-lost, then 'lost'): the
 *   station can no longer drive anything, so units in flight are interrupted. The controller
 *   then reopens the same port every `reconnectMs` until the board answers again (re-plugged,
 *   power-cycled, restarted), sets its pins up as at open (outputs inactive) and emits
 *   'board-back'. The trip stays latched: 'safety-clear' follows once the e-stop is released
 *   and the guard closed, and resetAfterAbort() then works as after any trip, so the station
 *   carries on without a restart.
 */
import { realClock, type JigClock } from './clock.ts';
import { EventEmitter } from 'node:events';
import type { AbortReason, ClampState, Jig, JigAbort, JigEvents, JigStatus, SlotLedMode, TowerMode, WaitOptions } from '../hardware/jig.ts';
import type { StationConfig, StationKind, GuardType } from '../config/schema.ts';
import { connectBoard, type ConnectBoardOptions, type JigBoardConnection, type JigBoardError } from '../../transport/jig/connect-board.ts';
import { JigError } from '../hardware/jig-errors.ts';
import { ioPlan } from './io-plan.ts';
import { JigIo, type JigInputEvent, type JigIoOptions } from './jig-io.ts';
import { PROMPTS, guardName, safetyPrompt } from './prompts.ts';
import { TwoHandStart, type TwoHandOutcome } from './two-hand.ts';

export type { AbortReason, ClampState, JigAbort, JigEvents as JigControllerEvents, JigSlotEvent, JigStatus, SlotLedMode, TowerMode, WaitOptions } from '../hardware/jig.ts';

export interface JigControllerOptions extends JigIoOptions {
  /** Connection tuning (the port and speed come from the config). */
  connect?: Partial<Omit<ConnectBoardOptions, 'path' | 'baudRate'>>;
  /** After the board is lost, try to reopen its port this often. Default 1000 ms; 0 = never (restart needed). */
  reconnectMs?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: JigError) => void;
}

export class JigController extends EventEmitter<JigEvents> implements Jig {
  private readonly slotIds: ReadonlySet<string> | undefined;
  private readonly guardType: GuardType | undefined;
  private readonly twoHand: TwoHandStart | undefined;
  private readonly closeTimeoutMs: number;
  private readonly clock: JigClock;

  private abortState: JigAbort | undefined;
  private safetyClearSent = false;
  private started = false;
  private clampState: ClampState = 'open';
  private clampFault: string | undefined;
  private readonly powered = new Set<string>();
  private readonly leds = new Map<string, SlotLedMode>();
  private tower: TowerMode = 'off';
  private prompt: string | null = null;
  private startWait: (Waiter & { promise: Promise<void> }) | undefined;
  private clampWait: Waiter | undefined;
  private releaseWait: Waiter | undefined;
  private lostError: JigBoardError | undefined;
  private closing: Promise<void> | undefined;
  private readonly onLost = (e: JigBoardError) => this.boardLost(e);
  private reconnectTimer: unknown;

  private constructor(
    readonly kind: StationKind,
    private readonly config: StationConfig | undefined,
    private conn: JigBoardConnection | undefined,
    private io: JigIo | undefined,
    private readonly options: JigControllerOptions = {},
    clock: JigClock = realClock,
  ) {
    super();
    this.clock = clock;
    const board = config?.board;
    this.slotIds = config ? new Set(config.slots.filter((s) => s.enabled).map((s) => s.id)) : undefined;
    this.guardType = board?.guard?.type;
    this.twoHand = board?.startButtons ? new TwoHandStart(board.startButtons.windowMs) : undefined;
    this.closeTimeoutMs = board?.clamp?.closeTimeoutMs ?? 0;
  }

  /**
   * Connects to the config's board, sets every pin up (outputs inactive) and starts watching
   * the inputs. A config without a board is refused (JIG_NO_BOARD): its station runs on NoJig.
   */
  static async open(config: StationConfig, options: JigControllerOptions = {}): Promise<JigController> {
    if (!config.board) throw new JigError('JIG_NO_BOARD', `station ${config.name} has no board in its configuration`, { hint: 'a station without a board runs on NoJig (see station/hardware/open-hardware.ts)' });
    const { conn, io } = await attachBoard(config, options);
    const jig = new JigController(config.kind, config, conn, io, options, options.clock);
    jig.init();
    return jig;
  }

  get hasBoard(): boolean {
    return this.io !== undefined;
  }

  get currentPrompt(): string | null {
    return this.prompt;
  }

  status(): JigStatus {
    return {
      kind: this.kind,
      hasBoard: this.hasBoard,
      aborted: this.abortState,
      estopPressed: this.io?.hasInput('estop') ? this.estopActive() : undefined,
      guardOpen: this.io?.hasInput('guard') ? this.guardOpen() : undefined,
      clamp: this.clampState,
      started: this.started,
      tower: this.tower,
      prompt: this.prompt,
      lost: this.lostError !== undefined,
    };
  }

  // ---- start --------------------------------------------------------------------------------

  /**
   * Resolves on a valid start: both start buttons pressed within windowMs of each other and
   * both still held, with the e-stop released, the guard closed and no trip pending. Presses
   * that do not qualify emit 'start-refused' and the wait goes on. Without start buttons it
   * resolves as soon as nothing stands in the way. Rejects when the board is lost, the
   * controller closes, or the signal fires (JIG_CANCELLED).
   */
  waitForStart(options: WaitOptions = {}): Promise<void> {
    const io = this.io;
    if (!io) return Promise.resolve();
    if (this.lostError) return Promise.reject(this.lostJigError());
    if (this.closing) return Promise.reject(closedError());
    if (this.startWait) return this.startWait.promise;
    this.clampFault = undefined;
    if (!this.twoHand && !this.refusal()) {
      this.started = true;
      this.updatePrompt();
      return Promise.resolve();
    }
    let waiter!: Waiter;
    const promise = new Promise<void>((resolve, reject) => (waiter = { resolve, reject }));
    const { signal } = options;
    const onCancel = () => this.settleStart(new JigError('JIG_CANCELLED', 'waiting for the start was cancelled'));
    this.startWait = {
      promise,
      resolve: () => {
        signal?.removeEventListener('abort', onCancel);
        waiter.resolve();
      },
      reject: (e) => {
        signal?.removeEventListener('abort', onCancel);
        waiter.reject(e);
      },
    };
    if (signal?.aborted) onCancel();
    else signal?.addEventListener('abort', onCancel, { once: true });
    this.twoHand?.begin(io.isActive('start-left') === true, io.isActive('start-right') === true, this.clock.now());
    this.updatePrompt();
    return promise;
  }

  // ---- clamp --------------------------------------------------------------------------------

  /**
   * Closes the clamp and resolves once its sensor confirms. Needs an accepted start on a panel
   * jig. CLAMP_TIMEOUT (clamp opened again) when the sensor does not confirm in time;
   * CLAMP_SENSOR_FAULT when the sensor already reads closed before the clamp moves; the trip's
   * error when a trip happens meanwhile. Resolves at once without a clamp (or a board).
   */
  async clamp(): Promise<void> {
    const io = this.io;
    if (!io) return;
    this.throwIfBlocked();
    if (this.kind === 'panel-jig' && !this.started) {
      throw new JigError('JIG_NOT_READY', 'the clamp closes only after a two-hand start', { hint: 'call waitForStart() first' });
    }
    if (!io.hasOutput('clamp')) return;
    if (this.clampState === 'closed') return;
    if (this.clampState === 'closing' || this.clampState === 'opening') {
      throw new JigError('JIG_NOT_READY', `the clamp is ${this.clampState}`, { hint: 'wait for the clamp to finish moving' });
    }
    this.clampFault = undefined;
    if (io.isActive('clamp-closed') === true) {
      this.started = false;
      this.fault(PROMPTS.clampTimeout);
      throw new JigError('CLAMP_SENSOR_FAULT', 'the clamp-closed sensor reads closed while the clamp is open', {
        hint: 'check the sensor, its wiring and its activeLow setting; the clamp was not moved',
      });
    }
    this.clampState = 'closing';
    io.set('clamp', undefined, true);
    this.updatePrompt();
    try {
      await this.waitFor('clamp', this.closeTimeoutMs);
    } catch (e) {
      if (e instanceof JigError && e.code === 'CLAMP_TIMEOUT') {
        io.set('clamp', undefined, false);
        this.clampState = 'open';
        this.started = false;
        this.fault(PROMPTS.clampTimeout);
      }
      throw e;
    }
    this.clampState = 'closed';
    this.updatePrompt();
  }

  /**
   * Ends the cycle: slot power and reset off, clamp opened, and (with a clamp) resolves once
   * the sensor reads open; CLAMP_STUCK when it does not within closeTimeoutMs.
   */
  async release(): Promise<void> {
    const io = this.io;
    if (!io) return;
    this.started = false;
    this.powerAllOff();
    if (!io.hasOutput('clamp')) {
      this.updatePrompt();
      return;
    }
    io.set('clamp', undefined, false);
    if (this.lostError || this.closing || io.isActive('clamp-closed') !== true) {
      this.clampState = 'open';
      this.updatePrompt();
      return;
    }
    this.clampState = 'opening';
    try {
      await this.waitFor('release', this.closeTimeoutMs);
    } catch (e) {
      if (e instanceof JigError && e.code === 'CLAMP_TIMEOUT') {
        this.fault(PROMPTS.clampStuck);
        throw new JigError('CLAMP_STUCK', `the clamp-closed sensor still reads closed ${this.closeTimeoutMs} ms after the release`, {
          hint: 'check the clamp valve and the air supply; do not reach into the jig until the clamp is open',
        });
      }
      throw e;
    } finally {
      this.clampState = 'open';
    }
    this.updatePrompt();
  }

  // ---- safety -------------------------------------------------------------------------------

  /**
   * Clears a latched trip once its cause is gone. Throws JIG_ESTOP / JIG_GUARD_OPEN while the
   * e-stop is pressed or the guard open, JIG_BOARD_LOST after the board went away. Sets the
   * tower to idle and the buzzer off. A no-op when nothing is latched.
   */
  resetAfterAbort(): void {
    if (!this.io) return;
    if (this.lostError) throw this.lostJigError();
    if (this.closing) throw closedError();
    if (this.estopActive()) throw estopError('Reset refused: the e-stop is still pressed');
    if (this.guardOpen()) throw guardError(`Reset refused: ${guardName(this.guardType)}`, this.guardType);
    this.clampFault = undefined;
    if (!this.abortState) {
      this.updatePrompt();
      return;
    }
    this.abortState = undefined;
    this.safetyClearSent = false;
    this.applyTower('idle');
    this.startWithoutButtons();
    this.updatePrompt();
  }

  // ---- slots --------------------------------------------------------------------------------

  /**
   * Switches a slot's DUT supply. Switching on is refused (typed JigError) while tripped, with
   * the e-stop pressed or the guard open, on a panel jig before the clamp is confirmed, and on
   * a socket whose presence input says it is empty. No-op for a slot without a power pin.
   */
  setSlotPower(slot: string, on: boolean): void {
    this.checkSlot(slot);
    const io = this.io;
    if (!io) return;
    if (!on) {
      io.set('power', slot, false);
      this.powered.delete(slot);
      return;
    }
    this.throwIfBlocked();
    if (this.kind === 'panel-jig' && io.hasOutput('clamp') && this.clampState !== 'closed') {
      throw new JigError('JIG_NOT_READY', `slot ${slot} cannot be powered: the clamp is not closed`, { hint: 'power slots only after clamp() resolved' });
    }
    if (this.kind === 'socket-programmer' && io.hasInput('presence', slot) && io.isActive('presence', slot) !== true) {
      throw new JigError('JIG_NOT_READY', `slot ${slot} cannot be powered: no device in the socket`, { hint: 'insert a device and close the socket' });
    }
    if (!io.hasOutput('power', slot)) return;
    io.set('power', slot, true);
    this.powered.add(slot);
  }

  /** Holds the slot's reset line active for `ms`. No-op without a reset pin. */
  async pulseReset(slot: string, ms: number): Promise<void> {
    this.checkSlot(slot);
    const io = this.io;
    if (!io || !io.hasOutput('reset', slot)) return;
    this.throwIfBlocked();
    io.set('reset', slot, true);
    await new Promise<void>((r) => this.clock.setTimeout(r, ms));
    io.set('reset', slot, false);
  }

  /** The slot's presence input: undefined when it has none (or there is no board). */
  presence(slot: string): boolean | undefined {
    this.checkSlot(slot);
    return this.io?.isActive('presence', slot);
  }

  /** 'busy' blinks the pass LED (all busy slots blink in step). */
  setSlotLeds(slot: string, mode: SlotLedMode): void {
    this.checkSlot(slot);
    const io = this.io;
    if (!io) return;
    this.leds.set(slot, mode);
    io.set('fail-led', slot, mode === 'fail' || mode === 'both');
    if (mode === 'busy') io.blink('pass-led', slot);
    else io.set('pass-led', slot, mode === 'pass' || mode === 'both');
  }

  /**
   * idle: green. running: green + amber. attention: amber blinking (+ blue). fault: red +
   * buzzer. off: all dark. While a trip is latched the tower stays on fault.
   */
  setTower(mode: TowerMode): void {
    if (!this.io || this.abortState) return;
    this.applyTower(mode);
  }

  /** Buzzer off, lights unchanged (the operator acknowledged the alarm). */
  silence(): void {
    this.io?.set('buzzer', undefined, false);
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** Safe state (every output inactive, clamp open), then disconnects. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    const err = closedError();
    this.startWait?.reject(err);
    this.startWait = undefined;
    this.clampWait?.reject(err);
    this.releaseWait?.reject(err);
    this.clampWait = this.releaseWait = undefined;
    const { io, conn } = this;
    if (!io || !conn) return;
    conn.off('lost', this.onLost);
    io.safeState();
    io.dispose();
    this.started = false;
    this.clampState = 'open';
    this.powered.clear();
    if (conn.isOpen) await new Promise<void>((res) => conn.port.drain(() => res()));
    await conn.close();
  }

  // ---- internals ----------------------------------------------------------------------------

  private init(): void {
    this.listen();
    if (this.estopActive()) {
      // Pressed before the station came up: latched like any e-stop, reset needed.
      this.abortState = { reason: 'estop', error: estopError('The e-stop was pressed when the station started') };
      this.applyTower('fault');
    }
    this.updatePrompt();
  }

  private listen(): void {
    this.conn!.on('lost', this.onLost);
    this.io!.on('input', (e) => this.onInput(e));
  }

  /** After a loss: reopen the board's port until it answers, then carry on (see the module comment). */
  private scheduleReconnect(): void {
    const every = this.options.reconnectMs ?? 1000;
    if (every <= 0 || this.closing || !this.config) return;
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.clock.setTimeout(() => {
      if (this.closing || !this.lostError) return;
      attachBoard(this.config!, this.options).then(
        (b) => this.boardBack(b.conn, b.io),
        () => this.scheduleReconnect(),
      );
    }, every);
  }

  private boardBack(conn: JigBoardConnection, io: JigIo): void {
    if (this.closing) {
      io.dispose();
      void conn.close();
      return;
    }
    this.conn = conn;
    this.io = io;
    this.lostError = undefined;
    this.listen();
    // Lamps as the station last set them; the board-lost trip stays latched (tower red).
    for (const [slot, mode] of this.leds) this.setSlotLeds(slot, mode === 'busy' ? 'off' : mode);
    if (this.abortState) this.applyTower('fault');
    this.emit('board-back');
    if (this.abortState && !this.safetyClearSent && !this.estopActive() && !this.guardOpen()) {
      this.safetyClearSent = true;
      this.emit('safety-clear');
    }
    this.updatePrompt();
  }

  private onInput(e: JigInputEvent): void {
    const io = this.io!;
    // Act first (a trip writes the outputs), tell listeners after.
    switch (e.role) {
      case 'estop':
        if (e.active) this.trip('estop');
        break;
      case 'guard':
        if (e.active && this.armed()) this.trip('guard');
        break;
      case 'start-left':
      case 'start-right':
        if (this.startWait && this.twoHand) this.onTwoHand(this.twoHand.update(e.role === 'start-left' ? 'left' : 'right', e.active, e.at));
        break;
      case 'clamp-closed':
        if (e.active) {
          this.settle('clamp');
        } else if (this.clampState === 'closed' && io.isOn('clamp')) {
          this.trip('clamp-lost');
        } else {
          this.settle('release');
        }
        break;
      case 'presence':
        if (e.slot === undefined) break;
        if (!e.active && this.powered.has(e.slot)) {
          io.set('power', e.slot, false);
          this.powered.delete(e.slot);
        }
        break;
    }
    this.emit('input', e);
    if (e.role === 'presence' && e.slot !== undefined) this.emit(e.active ? 'slot-present' : 'slot-removed', { slot: e.slot });
    if (this.abortState && !this.safetyClearSent && !this.lostError && !this.estopActive() && !this.guardOpen()) {
      this.safetyClearSent = true;
      this.emit('safety-clear');
    }
    this.startWithoutButtons();
    this.updatePrompt();
  }

  /** Without start buttons a pending start goes as soon as nothing is in the way. */
  private startWithoutButtons(): void {
    if (!this.startWait || this.twoHand || this.refusal()) return;
    this.started = true;
    this.settleStart();
  }

  private onTwoHand(outcome: TwoHandOutcome): void {
    if (outcome.kind === 'none') return;
    if (outcome.kind === 'too-far-apart') {
      this.emit(
        'start-refused',
        new JigError('JIG_START_NOT_SIMULTANEOUS', `Start refused: the start buttons were pressed ${Math.round(outcome.gapMs)} ms apart`, {
          hint: `release both and press them together (within ${this.twoHand!.windowMs} ms)`,
        }),
      );
      return;
    }
    const refusal = this.refusal();
    if (refusal) {
      this.emit('start-refused', refusal);
      return;
    }
    this.started = true;
    this.settleStart();
  }

  private settleStart(error?: JigError): void {
    const w = this.startWait;
    if (!w) return;
    this.startWait = undefined;
    if (error) w.reject(error);
    else w.resolve();
    this.updatePrompt();
  }

  /** Why a start (or power-up, or clamp) must not happen now. */
  private refusal(): JigError | undefined {
    if (this.lostError) return this.lostJigError();
    if (this.estopActive()) return estopError('Start refused: the e-stop is pressed');
    if (this.guardOpen()) return guardError(`Start refused: ${guardName(this.guardType)}`, this.guardType);
    if (this.abortState) {
      return new JigError('JIG_NOT_READY', `Start refused: the station was stopped (${this.abortState.error.message}) and not reset yet`, {
        hint: 'reset the station to continue',
      });
    }
    return undefined;
  }

  private throwIfBlocked(): void {
    if (this.closing) throw closedError();
    const r = this.refusal();
    if (r) throw r;
  }

  private armed(): boolean {
    return this.started || this.clampState !== 'open' || this.powered.size > 0;
  }

  /** E-stop pressed, or not reported yet (unknown counts as pressed). */
  private estopActive(): boolean {
    const io = this.io;
    return !!io && io.hasInput('estop') && io.isActive('estop') !== false;
  }

  private guardOpen(): boolean {
    const io = this.io;
    return !!io && io.hasInput('guard') && io.isActive('guard') !== false;
  }

  private trip(reason: AbortReason, cause?: unknown): void {
    if (this.abortState) {
      if (reason === 'board-lost') this.abortState = { reason, error: this.lostJigError() };
      return;
    }
    const io = this.io!;
    // Outputs first, in the plan's order (slot power, then the clamp), events after.
    io.allOff(['power', 'reset', 'clamp']);
    this.powered.clear();
    this.started = false;
    this.clampState = 'open';
    for (const [slot, mode] of this.leds) {
      if (mode === 'busy') {
        io.set('pass-led', slot, false);
        this.leds.set(slot, 'off');
      }
    }
    this.applyTower('fault');
    const error = this.tripError(reason, cause);
    this.abortState = { reason, error };
    this.safetyClearSent = false;
    this.clampWait?.reject(error);
    this.releaseWait?.reject(error);
    this.clampWait = this.releaseWait = undefined;
    this.emit('abort', { reason, error });
    this.updatePrompt();
  }

  private tripError(reason: AbortReason, cause: unknown): JigError {
    switch (reason) {
      case 'estop':
        return estopError('Emergency stop pressed: all slots stopped');
      case 'guard':
        return guardError(`Stopped: ${guardName(this.guardType)}`, this.guardType);
      case 'clamp-lost':
        return new JigError('CLAMP_LOST', 'Stopped: the clamp opened during the run', { hint: 'check the air pressure and the panel, then reset the station' });
      case 'board-lost':
        return this.lostJigError(cause);
    }
  }

  private boardLost(error: JigBoardError): void {
    if (this.lostError || this.closing) return;
    this.lostError = error;
    this.trip('board-lost', error);
    this.settleStart(this.lostJigError(error));
    this.io?.dispose();
    this.emit('lost', error);
    this.updatePrompt();
    this.scheduleReconnect();
  }

  private lostJigError(cause: unknown = this.lostError): JigError {
    return new JigError('JIG_BOARD_LOST', `Jig board lost: ${this.lostError?.message ?? 'disconnected'}`, {
      hint: this.lostError?.hint ?? 'check the USB cable and the board power; the station picks the board up again when it is back',
      cause,
    });
  }

  private powerAllOff(): void {
    this.io?.allOff(['power', 'reset']);
    this.powered.clear();
  }

  private waitFor(what: 'clamp' | 'release', timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        if (what === 'clamp') this.clampWait = undefined;
        else this.releaseWait = undefined;
        reject(
          new JigError('CLAMP_TIMEOUT', `the clamp-closed sensor did not confirm within ${timeoutMs} ms`, {
            hint: 'check the air pressure, the panel seating and the clamp sensor',
          }),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: () => {
          this.clock.clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          this.clock.clearTimeout(timer);
          reject(e);
        },
      };
      if (what === 'clamp') this.clampWait = waiter;
      else this.releaseWait = waiter;
    });
  }

  private settle(what: 'clamp' | 'release'): void {
    const w = what === 'clamp' ? this.clampWait : this.releaseWait;
    if (what === 'clamp') this.clampWait = undefined;
    else this.releaseWait = undefined;
    w?.resolve();
  }

  private fault(prompt: string): void {
    this.clampFault = prompt;
    this.applyTower('attention');
    this.updatePrompt();
  }

  private applyTower(mode: TowerMode): void {
    const io = this.io;
    if (!io) return;
    this.tower = mode;
    io.set('tower-red', undefined, mode === 'fault');
    io.set('tower-green', undefined, mode === 'idle' || mode === 'running');
    io.set('tower-blue', undefined, mode === 'attention');
    if (mode === 'attention') io.blink('tower-amber', undefined);
    else io.set('tower-amber', undefined, mode === 'running');
    io.set('buzzer', undefined, mode === 'fault');
  }

  private computePrompt(): string | null {
    if (!this.io) return null;
    if (this.lostError) return PROMPTS.boardLost;
    const estop = this.estopActive();
    const guard = this.guardOpen();
    if (this.abortState) {
      if (estop || guard) return safetyPrompt(estop, guard, this.guardType);
      return this.abortState.reason === 'clamp-lost' ? PROMPTS.clampLost : PROMPTS.reset;
    }
    if (this.clampFault) return this.clampFault;
    if (this.startWait) {
      if (estop || guard) return safetyPrompt(estop, guard, this.guardType);
      if (this.twoHand?.waitingForRelease) return PROMPTS.releaseStart;
      return this.twoHand ? PROMPTS.loadAndStart : null;
    }
    return null;
  }

  private updatePrompt(): void {
    const next = this.computePrompt();
    if (next === this.prompt) return;
    this.prompt = next;
    this.emit('prompt', next);
  }

  private checkSlot(slot: string): void {
    if (this.slotIds && !this.slotIds.has(slot)) {
      throw new JigError('JIG_UNKNOWN_SLOT', `no enabled slot "${slot}" in this station`, {
        hint: `slots: ${[...this.slotIds].join(', ') || '(none)'}`,
      });
    }
  }
}

/** Connects to the config's board and sets every pin up (outputs inactive). */
async function attachBoard(config: StationConfig, options: JigControllerOptions): Promise<{ conn: JigBoardConnection; io: JigIo }> {
  const board = config.board!;
  const conn = await connectBoard({ ...options.connect, path: board.port, baudRate: board.baudRate, id: options.connect?.id ?? config.name });
  try {
    const io = await JigIo.attach(conn, ioPlan(config), options);
    if (conn.lostError) {
      io.dispose();
      throw conn.lostError; // went away during the set-up, before anyone listened
    }
    return { conn, io };
  } catch (e) {
    await conn.close();
    throw e;
  }
}

function closedError(): JigError {
  return new JigError('JIG_CLOSED', 'the jig controller was closed');
}

function estopError(message: string): JigError {
  return new JigError('JIG_ESTOP', message, { hint: 'release the e-stop (turn to unlock), make the jig safe, then reset the station' });
}

function guardError(message: string, type: GuardType | undefined): JigError {
  return new JigError('JIG_GUARD_OPEN', message, {
    hint: type === 'light-curtain' ? 'keep hands and objects out of the light curtain' : 'close the lid',
  });
}
