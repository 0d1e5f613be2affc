import { IfppError } from '../../core/errors.ts';

/** Errors of the station as a whole (its slots, its stock), as opposed to one unit's. */
export class StationError extends IfppError {}
