/**
 * Exit codes of `ifpp run` and `ifpp sim station` (docs/operator-guide.md, "Exit codes"), so a
 * line controller or script can tell a clean stop from one that left chips to run again.
 */
import type { RunSummary } from '../station/orchestrator/station.ts';

export const EXIT = {
  /** Stopped as asked (q, Ctrl+C, --units, all simulated units fed, a signal during start-up); every unit settled. */
  ok: 0,
  /** The command failed: bad config, missing device, store or journal error. */
  error: 1,
  /** Bad usage: unknown option or missing argument. */
  usage: 2,
  /** Stopped, but units were interrupted (forced quit, abort, e-stop, chip pulled) or left unknown. */
  interrupted: 3,
  /** The terminal UI crashed; the station stopped as on a forced quit. */
  uiFailed: 4,
} as const;

/** Outcomes that leave a chip to be run again (or its key state to be settled). */
const UNSETTLED = ['interrupted', 'unknown'] as const;

export function runExitCode(summary: RunSummary, uiFailed: boolean): number {
  if (uiFailed) return EXIT.uiFailed;
  return UNSETTLED.some((o) => (summary.byOutcome[o] ?? 0) > 0) ? EXIT.interrupted : EXIT.ok;
}
