/**
 * Progress lines for the simulator tools' long runs, on stderr: at most one every `everyMs`,
 * rewritten in place on a terminal, plain lines otherwise (logs, CI). Quiet for small jobs.
 */
export function progressPrinter(what: string, opts: { minTotal?: number; everyMs?: number; stream?: NodeJS.WriteStream } = {}) {
  const stream = opts.stream ?? process.stderr;
  const everyMs = opts.everyMs ?? 1000;
  const minTotal = opts.minTotal ?? 200;
  const t0 = performance.now();
  let last = t0;
  let shown = false;
  return {
    update(done: number, total: number): void {
      if (total < minTotal) return;
      const now = performance.now();
      if (now - last < everyMs && done !== total) return;
      last = now;
      const rate = done / Math.max(0.001, (now - t0) / 1000);
      const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
      const text = `${what} ${done}/${total} (${Math.round((100 * done) / total)}%, ${rate.toFixed(0)}/s, ${eta}s left)`;
      if (stream.isTTY) stream.write(`\r${text}\x1b[K`);
      else stream.write(text + '\n');
      shown = true;
    },
    end(): void {
      if (shown && stream.isTTY) stream.write('\n');
    },
  };
}
