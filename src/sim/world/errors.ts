import { IfppError } from '../../core/errors.ts';

/** Building, reading or running a simulated world. */
export class WorldError extends IfppError {}
