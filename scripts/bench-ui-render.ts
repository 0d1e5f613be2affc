/**
 * CPU cost of the station UI: 32 slots, each sending progress at 10 Hz, rendered with the
 * station's real Ink options into a fake 160x50 terminal. Runs the same event feed twice,
 * once folded into the view model only (the baseline every consumer pays) and once through
 * the full UI, and reports the difference as the rendering cost.
 *
 *   npx tsx scripts/bench-ui-render.ts [--seconds 20] [--slots 32] [--columns 160] [--rows 50]
 *                                      [--mode production|development] [--json]
 *                                      [--write]     (also measure React's development build in
 *                                                     a child process, and update the "UI
 *                                                     rendering" section of docs/performance.md)
 *
 * A measurement, not a test: numbers depend on the machine and on what else runs on it.
 */
import { EventEmitter } from 'node:events';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    slots: { type: 'string', default: '32' },
    columns: { type: 'string', default: '160' },
    rows: { type: 'string', default: '50' },
    write: { type: 'boolean', default: false },
    mode: { type: 'string', default: 'production' },
    json: { type: 'boolean', default: false },
  },
});

// Before Ink and chalk load: in CI Ink draws only the last frame, and without a colour level
// chalk would skip the escape codes a real terminal gets. Measure what an operator's terminal costs.
delete process.env['CI'];
delete process.env['CONTINUOUS_INTEGRATION'];
process.env['FORCE_COLOR'] ??= '1';
// React picks its build from NODE_ENV when first loaded; the development build costs several
// times more per frame (see the results), so the station should run with NODE_ENV=production.
process.env['NODE_ENV'] = args.mode === 'development' ? 'development' : 'production';

const { createElement } = await import('react');
const { render } = await import('ink');
const { EventBus } = await import('../src/station/events.ts');
const { DemoFeed } = await import('./demo-feed.ts');
const { StationApp } = await import('../src/ui/app.tsx');
const { STATION_RENDER_OPTIONS } = await import('../src/ui/render.ts');
const { createViewModel, reduce } = await import('../src/ui/state/view-model.ts');

const seconds = Number(args.seconds);
const slots = Number(args.slots);
const columns = Number(args.columns);
const rows = Number(args.rows);
const TICK_MS = 100;

class FakeTerminal extends EventEmitter {
  isTTY = true;
  bytes = 0;
  writes = 0;
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  write(s: string): boolean {
    this.bytes += Buffer.byteLength(s);
    this.writes++;
    return true;
  }
}

class IdleStdin extends EventEmitter {
  isTTY = false;
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read() {
    return null;
  }
}

interface Run {
  cpuMs: number;
  wallMs: number;
  events: number;
  frames: number;
  inkRenderMs: number;
  bytes: number;
}

/**
 * Feeds the demo stream in real time, 10 ticks a second. Loads last 60 s so nearly every slot
 * is always loading, i.e. sending progress at 10 Hz.
 */
async function run(withUi: boolean): Promise<Run> {
  const bus = new EventBus();
  const feed = new DemoFeed({ slots, cols: 8, seed: 7, t0: Date.now(), loadMs: 60_000, failRate: 0.02, stock: 100_000 });
  let frames = 0;
  let inkRenderMs = 0;
  const term = new FakeTerminal(columns, rows);
  let model = createViewModel();
  let unmount = () => {};
  if (withUi) {
    const noop = () => {};
    const controls = { start: noop, pause: noop, resume: noop, abort: noop, retry: noop, quit: noop };
    const app = createElement(StationApp, { source: bus, controls, colors: true });
    const inst = render(app, {
      stdout: term as unknown as NodeJS.WriteStream,
      stderr: new FakeTerminal(columns, rows) as unknown as NodeJS.WriteStream,
      stdin: new IdleStdin() as unknown as NodeJS.ReadStream,
      patchConsole: false,
      ...STATION_RENDER_OPTIONS,
      onRender: ({ renderTime }) => {
        frames++;
        inkRenderMs += renderTime;
      },
    });
    unmount = () => inst.unmount();
  } else {
    bus.on((e) => {
      model = reduce(model, e);
    });
  }
  for (const e of feed.start()) bus.emit(e);
  // Warm up (JIT, first layout) before measuring.
  await tick(bus, feed, 20);
  frames = 0;
  inkRenderMs = 0;
  term.bytes = 0;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const events = await tick(bus, feed, (seconds * 1000) / TICK_MS);
  const wallMs = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  unmount();
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs, events, frames, inkRenderMs, bytes: term.bytes };
}

/** Feeds `ticks` rounds of events, one every 100 ms; returns how many events were sent. */
async function tick(bus: InstanceType<typeof EventBus>, feed: InstanceType<typeof DemoFeed>, ticks: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < ticks; i++) {
    await new Promise((r) => setTimeout(r, TICK_MS));
    for (const e of feed.advance(Date.now())) {
      bus.emit(e);
      n++;
    }
  }
  return n;
}

interface Result {
  mode: string;
  eventsPerSec: number;
  baseCpuPerSec: number;
  uiCpuPerSec: number;
  renderCpuPerSec: number;
  framesPerSec: number;
  cpuPerFrame: number;
  inkWallPerFrame: number;
  kbPerSec: number;
}

async function measure(): Promise<Result> {
  const base = await run(false);
  const ui = await run(true);
  const perSec = (ms: number, r: Run) => ms / (r.wallMs / 1000);
  return {
    mode: process.env['NODE_ENV'] ?? '?',
    eventsPerSec: ui.events / (ui.wallMs / 1000),
    baseCpuPerSec: perSec(base.cpuMs, base),
    uiCpuPerSec: perSec(ui.cpuMs, ui),
    renderCpuPerSec: perSec(ui.cpuMs, ui) - perSec(base.cpuMs, base),
    framesPerSec: ui.frames / (ui.wallMs / 1000),
    cpuPerFrame: ui.frames > 0 ? (ui.cpuMs / (ui.wallMs / 1000) - base.cpuMs / (base.wallMs / 1000)) / (ui.frames / (ui.wallMs / 1000)) : 0,
    inkWallPerFrame: ui.frames > 0 ? ui.inkRenderMs / ui.frames : 0,
    kbPerSec: ui.bytes / 1024 / (ui.wallMs / 1000),
  };
}

const fmt = (n: number, d = 1) => n.toFixed(d);

function table(results: Result[]): string {
  const row = (label: string, f: (r: Result) => string) => `| ${label} | ${results.map(f).join(' | ')} |`;
  return [
    `| measure | ${results.map((r) => `React ${r.mode} build`).join(' | ')} |`,
    `| --- | ${results.map(() => '---').join(' | ')} |`,
    row('events fed', (r) => `${fmt(r.eventsPerSec, 0)} /s`),
    row('CPU, events folded into the view model only', (r) => `${fmt(r.baseCpuPerSec)} ms/s`),
    row('CPU, full UI (fold + React + Ink + output)', (r) => `${fmt(r.uiCpuPerSec)} ms/s (${fmt(r.uiCpuPerSec / 10)} % of a core)`),
    row('CPU for rendering (difference)', (r) => `${fmt(r.renderCpuPerSec)} ms/s`),
    row('frames drawn', (r) => `${fmt(r.framesPerSec)} /s`),
    row('CPU per frame (rendering share)', (r) => `${fmt(r.cpuPerFrame, 1)} ms`),
    row("Ink's render time per frame (wall clock, includes waiting for a busy CPU)", (r) => `${fmt(r.inkWallPerFrame, 1)} ms`),
    row('terminal output', (r) => `${fmt(r.kbPerSec, 0)} KiB/s`),
  ].join('\n');
}

const mine = await measure();
if (args.json) {
  process.stdout.write(`${JSON.stringify(mine)}\n`);
  process.exit(0);
}
console.log(`UI render benchmark: ${slots} slots, ${columns}x${rows}, ${seconds} s per run`);
const results = [mine];
if (args.write && mine.mode === 'production') {
  // React's build is fixed once loaded: measure the development build in a fresh process.
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, ['--import', 'tsx', script, '--mode', 'development', '--json', '--seconds', String(seconds), '--slots', String(slots), '--columns', String(columns), '--rows', String(rows)], { encoding: 'utf8' });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  try {
    results.push(JSON.parse(line) as Result);
  } catch {
    console.error(`development-build run failed:\n${child.stderr}`);
  }
}
const text = table(results);
console.log(text);

if (args.write) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const doc = resolve(root, 'docs/performance.md');
  const cpu = cpus();
  const prod = results[0]!;
  const section = [
    '## UI rendering',
    '',
    `Measured with \`npx tsx scripts/bench-ui-render.ts --write\` (${new Date().toISOString().slice(0, 10)}; Node ${process.version},`,
    `${platform()} ${release()}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, load average ${loadavg()[0]?.toFixed(1)} while measuring).`,
    `${slots} slots in a ${columns}×${rows} fake terminal (full cells, 4 rows of 8), every slot loading and`,
    `sending progress plus an APDU summary at 10 Hz; ${seconds} s per run after a 2 s warm-up. The same feed`,
    'runs once into the view model alone and once through the whole UI with the station\'s Ink options',
    '(`STATION_RENDER_OPTIONS` in src/ui/render.ts); the difference is the cost of rendering.',
    '',
    text,
    '',
    `With React's production build the UI costs about ${fmt(prod.uiCpuPerSec / 10, 0)} % of one core at 32 slots.`,
    'Events are folded into the view model as they come, but the screen is redrawn at most every',
    '100 ms (plus a 1 s clock tick) and cells are memoised on their slot object, so the cost follows',
    'the frame rate, not the event rate. A CPU profile (`node --cpu-prof`) puts most of what remains',
    'in Ink building each frame character by character (ANSI tokenising, string widths); React itself',
    'is a small share in its production build. The development build costs three times more: whatever',
    'starts the UI (`ifpp run`) should set `NODE_ENV=production` before React is first imported.',
    '',
    'The build machine is shared (2 cores, other jobs running), so take these as an upper bound and',
    'rerun the script on the station PC.',
    '',
  ].join('\n');
  let doc0 = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Performance\n\nMeasurements of the station, each with the script that produced it.\n';
  const start = doc0.indexOf('## UI rendering');
  if (start >= 0) {
    const next = doc0.indexOf('\n## ', start + 1);
    doc0 = doc0.slice(0, start) + section + (next >= 0 ? doc0.slice(next + 1) : '');
  } else {
    doc0 = `${doc0.trimEnd()}\n\n${section}`;
  }
  writeFileSync(doc, doc0);
  console.log(`wrote ${doc}`);
}
