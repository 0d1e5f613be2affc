import { IfppError } from '../core/errors.ts';

/** Errors of the line inventory (PostgreSQL) and the `ifpp line` commands. */
export class LineError extends IfppError {}
