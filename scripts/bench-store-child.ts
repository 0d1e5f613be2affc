/**
 * One measured step of the BPP store benchmark, in its own process so its memory figures are
 * its own (the peak RSS is the kernel's high-water mark, VmHWM):
 *
 *   import: importBatch (the station's importer, checks included) of one Esbpp batch
 *   lookup: opens the store as the station does at start-up, then findByEid for random EIDs
 *           of the batch (and some that are not in it), timing each call
 *
 *   node --import tsx scripts/bench-store-child.ts import --store DIR --batch DIR
 *   node --import tsx scripts/bench-store-child.ts lookup --store DIR --eid-prefix P --count N --lookups L
 *
 * Prints one JSON line with the results.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { eidToBytes } from '../src/core/rsp/eid.ts';
import { syntheticEid } from './bench-store-eids.ts';
import { bppChecks } from '../src/station/store/bpp-checks.ts';
import { BppStore } from '../src/station/store/bpp-store.ts';
import { importBatch } from '../src/station/store/import-batch.ts';

const { positionals, values: args } = parseArgs({
  allowPositionals: true,
  options: {
    store: { type: 'string' },
    batch: { type: 'string' },
    'eid-prefix': { type: 'string' },
    count: { type: 'string' },
    lookups: { type: 'string', default: '20000' },
  },
});

function vm(key: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage.rss();
}

/** RSS sampled while a step runs (the peak comes from VmHWM). */
function sampler() {
  const xs: number[] = [];
  const t = setInterval(() => xs.push(process.memoryUsage.rss()), 100);
  return {
    stop() {
      clearInterval(t);
      xs.push(process.memoryUsage.rss());
      return { meanBytes: xs.reduce((a, b) => a + b, 0) / xs.length, samples: xs.length };
    },
  };
}

const step = positionals[0];
const rssStart = vm('VmRSS');
if (step === 'import') {
  const store = BppStore.open(args.store!);
  const s = sampler();
  const t0 = performance.now();
  let last = t0;
  const r = await importBatch(store, args.batch!, {
    checks: bppChecks,
    onProgress: (done, total) => {
      const now = performance.now();
      if (now - last > 10_000 || done === total) {
        process.stderr.write(`  import: ${done}/${total} (${((done / (now - t0)) * 1000).toFixed(0)} /s)\n`);
        last = now;
      }
    },
  });
  const ms = performance.now() - t0;
  const rss = s.stop();
  store.close();
  process.stdout.write(
    JSON.stringify({ step, count: r.count, accepted: r.accepted, rejected: r.rejected.length, ms, perSecond: (r.count / ms) * 1000, rssStartBytes: rssStart, rssPeakBytes: vm('VmHWM'), rssMeanBytes: rss.meanBytes }) + '\n',
  );
} else if (step === 'lookup') {
  const prefix = args['eid-prefix']!;
  const count = Number(args.count);
  const lookups = Number(args.lookups);
  const t0 = performance.now();
  const store = BppStore.open(args.store!);
  const openMs = performance.now() - t0;
  const s = sampler();
  const c0 = performance.now();
  const counts = store.counts();
  const countsMs = performance.now() - c0;
  // EIDs chosen up front so the timing holds only the store's work.
  const eids: Uint8Array[] = [];
  for (let k = 0; k < lookups; k++) {
    const miss = k % 10 === 9; // one in ten is not in the batch
    eids.push(eidToBytes(syntheticEid(prefix, miss ? count + Math.floor(Math.random() * count) : Math.floor(Math.random() * count))));
  }
  const times = new Float64Array(lookups);
  let found = 0;
  for (let k = 0; k < lookups; k++) {
    const a = performance.now();
    const r = store.findByEid(eids[k]!);
    times[k] = performance.now() - a;
    if (r.length) found++;
  }
  const sorted = Array.from(times).sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  const rss = s.stop();
  const total = [...counts.values()].reduce((a, c) => a + Object.values(c).reduce((x, y) => x + y, 0), 0);
  store.close();
  process.stdout.write(
    JSON.stringify({
      step,
      lookups,
      found,
      openMs,
      countsMs,
      indexed: total,
      p50Ms: pct(50),
      p99Ms: pct(99),
      maxMs: sorted[sorted.length - 1],
      rssStartBytes: rssStart,
      rssPeakBytes: vm('VmHWM'),
      rssMeanBytes: rss.meanBytes,
    }) + '\n',
  );
} else {
  process.stderr.write('usage: bench-store-child.ts import|lookup ...\n');
  process.exit(2);
}
