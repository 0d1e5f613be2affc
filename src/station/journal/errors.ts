import { IfppError } from '../../core/errors.ts';

/** Journal trouble: unreadable, corrupt, or not writable. */
export class JournalError extends IfppError {}
