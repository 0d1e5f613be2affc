/**
 * SIGINT / SIGTERM for a station command, caught from the moment the command starts: a stop
 * asked for during start-up (config, stores, restart reconciliation, devices) is remembered
 * and honoured as soon as the step under way ends, instead of killing the process by the
 * signal with a device half-opened. Once the station runs, each signal goes to the handler it
 * set (first: finish the units in flight; second: abort them).
 */
export type StopSignalName = 'SIGINT' | 'SIGTERM';

export class StopSignals {
  /** The first signal received, if any. */
  requested: StopSignalName | undefined;
  private count = 0;
  private handler: ((sig: StopSignalName, count: number) => void) | undefined;
  private readonly onInt = () => this.received('SIGINT');
  private readonly onTerm = () => this.received('SIGTERM');

  constructor(private readonly onEarly: (sig: StopSignalName) => void = () => undefined) {
    process.on('SIGINT', this.onInt);
    process.on('SIGTERM', this.onTerm);
  }

  /** From now on each signal goes to `h` (with how many were received so far). */
  handle(h: (sig: StopSignalName, count: number) => void): void {
    this.handler = h;
  }

  dispose(): void {
    process.off('SIGINT', this.onInt);
    process.off('SIGTERM', this.onTerm);
  }

  private received(sig: StopSignalName): void {
    this.count++;
    this.requested ??= sig;
    if (this.handler) this.handler(sig, this.count);
    else this.onEarly(sig);
  }
}
