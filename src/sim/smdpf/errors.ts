import { IfppError } from '../../core/errors.ts';

/** Errors of the simulated SM-DPf tools; messages name the file (and line) concerned. */
export class SmdpfError extends IfppError {}
