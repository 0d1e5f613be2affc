/**
 * The station process of the benchmark: the real Station (as `ifpp run --headless --events
 * FILE` composes it, without a terminal UI) plus probes for its own cost: event-loop delay
 * (perf_hooks.monitorEventLoopDelay), CPU time (process.cpuUsage) and RSS, measured over a
 * window the driver opens with `mark` on stdin (after the warm-up wave) and closed when the run
 * ends.
 *
 *   node --import tsx scripts/bench-station-child.ts --config station.json --units N [--events FILE]
 *
 * Stdout (NDJSON, for the driver): {"ev":"open"}, one {"ev":"done",...} per unit with a
 * high-resolution wall-clock time, then {"ev":"stats",...} and {"ev":"summary",...}.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { requireConfig } from '../src/station/config/load.ts';
import { attachEventLog } from '../src/station/event-log.ts';
import { EventBus } from '../src/station/events.ts';
import { Station } from '../src/station/orchestrator/station.ts';

const { values: args } = parseArgs({
  options: {
    config: { type: 'string' },
    units: { type: 'string' },
    events: { type: 'string' },
    'lag-resolution': { type: 'string', default: '10' },
  },
});
const out = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const hr = () => performance.timeOrigin + performance.now();

const config = await requireConfig(args.config!);
const bus = new EventBus();
const log = args.events && args.events !== 'none' ? attachEventLog(bus, args.events) : undefined;
bus.on((e) => {
  if (e.type === 'unit.done') out({ ev: 'done', slot: e.slot, outcome: e.outcome, eid: e.eid, t: hr() });
});

// Probes: the window starts at `mark` (or now) and ends when the run does.
const lag = monitorEventLoopDelay({ resolution: Number(args['lag-resolution']) });
lag.enable();
let cpu0 = process.cpuUsage();
let w0 = performance.now();
let rssMax = 0;
let rssSum = 0;
let rssN = 0;
const sampleRss = () => {
  const r = process.memoryUsage.rss();
  rssMax = Math.max(rssMax, r);
  rssSum += r;
  rssN++;
};
const rssTimer = setInterval(sampleRss, 200);
const mark = () => {
  lag.reset();
  cpu0 = process.cpuUsage();
  w0 = performance.now();
  rssMax = 0;
  rssSum = 0;
  rssN = 0;
  sampleRss();
};
createInterface({ input: process.stdin }).on('line', (l) => {
  if (l.trim() === 'mark') mark();
});

const station = await Station.open(config, { bus });
out({ ev: 'open', t: hr() });
const summary = await station.run(args.units ? { units: Number(args.units) } : {});
const wallMs = performance.now() - w0;
const cpu = process.cpuUsage(cpu0);
sampleRss();
clearInterval(rssTimer);
lag.disable();
out({
  ev: 'stats',
  wallMs,
  cpuUserMs: cpu.user / 1000,
  cpuSystemMs: cpu.system / 1000,
  lagP50Ms: lag.percentile(50) / 1e6,
  lagP99Ms: lag.percentile(99) / 1e6,
  lagMaxMs: lag.max / 1e6,
  lagSamples: lag.count,
  rssMaxBytes: rssMax,
  rssMeanBytes: rssN ? rssSum / rssN : 0,
});
await station.close();
await log?.close();
out({ ev: 'summary', ...summary });
process.exit(0);
