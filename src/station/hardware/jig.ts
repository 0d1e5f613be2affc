/**
 * What the station asks of a jig: start, clamp, slot power and lamps, the tower, and the safety
 * inputs (as events). The Firmata jig (station/jig/jig-controller.ts) and the no-jig stand-in
 * (no-jig.ts) implement it; the orchestrator only ever talks to this interface.
 */
import type { EventEmitter } from 'node:events';
import type { IfppError } from '../../core/errors.ts';
import type { StationKind } from '../config/schema.ts';
import type { JigError } from './jig-errors.ts';
import type { JigInputEvent } from '../jig/jig-io.ts';

export type TowerMode = 'idle' | 'running' | 'attention' | 'fault' | 'off';
/** `both`: pass and fail LEDs steady together (a chip not for this station: take it out, pass it on). */
export type SlotLedMode = 'pass' | 'fail' | 'busy' | 'both' | 'off';
export type AbortReason = 'estop' | 'guard' | 'clamp-lost' | 'board-lost';
export type ClampState = 'open' | 'closing' | 'closed' | 'opening';

export interface JigAbort {
  reason: AbortReason;
  /** Code, operator-readable message and hint, for the units it interrupts. */
  error: JigError;
}

export interface JigSlotEvent {
  slot: string;
}

export interface JigEvents {
  /** Every filtered input change (for logs and the UI). */
  input: [JigInputEvent];
  /** Text for the operator, or null when there is nothing to do. Emitted on change only. */
  prompt: [text: string | null];
  /** Everything was stopped: mark units in flight interrupted. Emitted once per trip. */
  abort: [JigAbort];
  /** Both start buttons were pressed but the start was refused (why: code/message). */
  'start-refused': [JigError];
  'slot-present': [JigSlotEvent];
  /** A device left its slot (its power, if on, was already switched off). */
  'slot-removed': [JigSlotEvent];
  /** After a trip: e-stop released and guard closed, resetAfterAbort() would now succeed. */
  'safety-clear': [];
  /** The board went away (after the 'abort' with reason board-lost). */
  lost: [error: IfppError];
  /**
   * The board is back after a loss (re-plugged or restarted) and its pins are set up again; the
   * board-lost trip stays latched until resetAfterAbort() ('safety-clear' follows when nothing
   * unsafe is active).
   */
  'board-back': [];
}

export interface JigStatus {
  kind: StationKind;
  hasBoard: boolean;
  /** The latched trip, until resetAfterAbort(). */
  aborted: JigAbort | undefined;
  /** undefined when the station has no such input. */
  estopPressed: boolean | undefined;
  guardOpen: boolean | undefined;
  clamp: ClampState;
  /** A start was accepted and the cycle not released yet. */
  started: boolean;
  tower: TowerMode;
  prompt: string | null;
  lost: boolean;
}

export interface WaitOptions {
  signal?: AbortSignal;
}

export interface Jig extends EventEmitter<JigEvents> {
  readonly kind: StationKind;
  /**
   * A board drives the cycle: panel cycles wait for its start, and slot presence comes from
   * its inputs (not from the slots' own card-detect).
   */
  readonly hasBoard: boolean;
  /** Resolves on a valid start (two-hand, nothing unsafe); rejects with a JigError. */
  waitForStart(options?: WaitOptions): Promise<void>;
  /** Closes the clamp; resolves once confirmed. */
  clamp(): Promise<void>;
  /** Ends the cycle: slot power off, clamp open. */
  release(): Promise<void>;
  /** Clears a latched trip once its cause is gone; throws a JigError while it is not. */
  resetAfterAbort(): void;
  /** Slot supply; switching on may be refused (JigError) by an interlock. */
  setSlotPower(slot: string, on: boolean): void;
  /** Holds the slot's reset line active for `ms`. */
  pulseReset(slot: string, ms: number): Promise<void>;
  /** The slot's presence input: undefined when it has none (or there is no board). */
  presence(slot: string): boolean | undefined;
  setSlotLeds(slot: string, mode: SlotLedMode): void;
  setTower(mode: TowerMode): void;
  /** Buzzer off, lights unchanged. */
  silence(): void;
  status(): JigStatus;
  /** Safe state, then disconnect. Idempotent. */
  close(): Promise<void>;
}
