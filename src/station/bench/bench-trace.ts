/**
 * The APDU exchanges of the last bench command, kept in a file so `ifpp bench trace` can show
 * them for a bug report. The file: --trace-file, else $IFPP_BENCH_TRACE, else one per user in
 * the temporary folder.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ExchangeRecord } from '../../transport/pcsc/pcsc-card.ts';
import { BenchError } from './bench-chip.ts';

export interface BenchTrace {
  readonly command: string;
  readonly reader: string | undefined;
  readonly at: string;
  readonly exchanges: readonly ExchangeRecord[];
  readonly outcome: string;
}

export function traceFile(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.IFPP_BENCH_TRACE) return process.env.IFPP_BENCH_TRACE;
  let user = 'user';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry: fall back to a generic name */
  }
  return join(tmpdir(), `ifpp-bench-trace-${user}.json`);
}

export function saveTrace(path: string, t: BenchTrace): void {
  writeFileSync(path, JSON.stringify(t, null, 1) + '\n', { mode: 0o600 });
}

export function loadTrace(path: string): BenchTrace {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as BenchTrace;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BenchError('BENCH_NO_TRACE', code === 'ENOENT' ? `no bench command has run yet (${path} does not exist)` : `cannot read the trace ${path}: ${(e as Error).message}`, {
      hint: 'run the bench command again, then `ifpp bench trace`',
    });
  }
}
