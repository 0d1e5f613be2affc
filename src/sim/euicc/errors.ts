/**
 * Errors of the simulated eUICC's own setup (options, reel, state file). What the card answers
 * on the contact (status words, result codes, BF37) is never an exception to the host.
 */
import { IfppError } from '../../core/errors.ts';

export class EuiccConfigError extends IfppError {}

/** The saved state of a simulated chip cannot be used (other chip, unknown format, corrupt). */
export class EuiccStateError extends IfppError {}
