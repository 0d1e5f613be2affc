/**
 * Typed errors. Every error the project raises on purpose is an IfppError with a stable
 * `code` (for programs, the event stream and tests) and, where one exists, a `hint` that
 * tells the operator or integrator what to do next.
 */
export class IfppError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details ?? {};
  }

  /** One line for logs and CLIs: code, message and hint. */
  describe(): string {
    return `${this.code}: ${this.message}${this.hint ? ` (${this.hint})` : ''}`;
  }
}

export function isIfppError(e: unknown): e is IfppError {
  return e instanceof IfppError;
}

/** Bad user-supplied input that is not a protocol structure (hex strings, options, files). */
export class InputError extends IfppError {}
