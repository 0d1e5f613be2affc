/**
 * A strategy sequences the injected hardware for one kind of station (labgrid's "strategy"):
 * when units start and on which slots. The station chooses one (strategyFor) and runs it; the
 * strategy reaches the jig, the slots and the station's state only through StrategyHost, and
 * never builds hardware (test/architecture.test.ts: strategies import nothing of transport/
 * and only the interfaces of hardware/).
 *
 *  - panel-jig with a board (panel-cycle.ts): wait for a valid two-hand start, clamp, load every
 *    occupied slot in parallel, release, repeat. E-stop or guard aborts the cycle at once.
 *  - socket-programmer with a board, or no board (socket-loop.ts): every slot on its own,
 *    started by its presence sensor, or by the slot's card-detect without a board.
 */
import type { StationConfig } from '../../config/schema.ts';
import type { StationPhase } from '../../events.ts';
import type { Jig } from '../../hardware/jig.ts';
import type { Insertions } from './insertions.ts';
import { panelCycles } from './panel-cycle.ts';
import type { SlotRuntime } from './slot-unit.ts';
import { socketLoops } from './socket-loop.ts';

/** What a strategy may use of the station. */
export interface StrategyHost {
  readonly jig: Jig;
  /** The enabled slots, in config order. */
  readonly slots: Iterable<SlotRuntime>;
  /** Why the station stops, once asked (undefined while it runs). */
  readonly stopRequested: string | undefined;
  /** Aborted when a stop is asked. */
  readonly stopSignal: AbortSignal;
  /** Counts insertions per slot (board presence or card-detect) and wakes who waits for one. */
  readonly insertions: Insertions;
  /** The reason of the last operator abort (shown when a cycle ended aborted). */
  readonly abortReason: string;
  /** Resolves when not paused (or on stop). */
  waitWhilePaused(): Promise<void>;
  /** Starts a new cycle: units from now on run under a fresh abort signal. */
  newCycle(): void;
  /** The current cycle was aborted (operator abort, jig trip). */
  cycleAborted(): boolean;
  setPhase(phase: StationPhase, reason?: string): void;
  warn(code: string, message: string): void;
  /** Counts a contact cycle on the slot; false (and says so) when the slot is out of service. */
  contact(s: SlotRuntime): boolean;
  /** Runs one unit on the slot (tracked: the station waits for it before it stops). */
  runOne(s: SlotRuntime): Promise<unknown>;
}

export type Strategy = (host: StrategyHost) => Promise<void>;

/** Panel cycles for a panel jig with a board; otherwise every slot on its own. */
export function strategyFor(config: StationConfig, jig: Jig): Strategy {
  return config.kind === 'panel-jig' && jig.hasBoard ? panelCycles : socketLoops;
}
