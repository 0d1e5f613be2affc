/**
 * Jig errors: what the operator or the integrator has to do is in the hint. Codes are stable
 * (the orchestrator records them for interrupted units and the UI keys prompts off them).
 */
import { IfppError } from '../../core/errors.ts';

export type JigErrorCode =
  /** The e-stop is pressed (or was, and the station was not reset yet). */
  | 'JIG_ESTOP'
  /** The lid is open or the light curtain is broken. */
  | 'JIG_GUARD_OPEN'
  /** The clamp-closed sensor dropped while the clamp was held closed (air lost, panel slipped). */
  | 'CLAMP_LOST'
  /** The clamp-closed sensor did not confirm within closeTimeoutMs. */
  | 'CLAMP_TIMEOUT'
  /** The clamp-closed sensor reads closed while the clamp output is off. */
  | 'CLAMP_SENSOR_FAULT'
  /** The clamp-closed sensor still reads closed after the release. */
  | 'CLAMP_STUCK'
  /** An interlock is not satisfied (no start yet, clamp not closed, aborted and not reset…). */
  | 'JIG_NOT_READY'
  /** The start buttons were not pressed within the two-hand window. */
  | 'JIG_START_NOT_SIMULTANEOUS'
  /** A wait was cancelled by its AbortSignal. */
  | 'JIG_CANCELLED'
  /** The controller was closed. */
  | 'JIG_CLOSED'
  /** The board went away. */
  | 'JIG_BOARD_LOST'
  /** The board did not answer while the pins were being set up. */
  | 'JIG_BOARD_NOT_RESPONDING'
  /** A configured pin does not exist on the board or cannot do what its role needs. */
  | 'JIG_PIN_UNSUPPORTED'
  /** A slot id the configuration does not have (or a disabled slot). */
  | 'JIG_UNKNOWN_SLOT'
  /** The configuration names no board to connect to. */
  | 'JIG_NO_BOARD';

export class JigError extends IfppError {
  declare readonly code: JigErrorCode;

  constructor(code: JigErrorCode, message: string, opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, opts);
  }
}
