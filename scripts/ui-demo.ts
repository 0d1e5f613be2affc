/**
 * Runs the station UI on synthetic events, with controls that only log and echo back what a
 * station would emit. For trying the screen by hand and for the real-terminal key test.
 *
 *   npx tsx scripts/ui-demo.ts [--slots 8] [--cols 4] [--seed 1] [--script] [--log FILE]
 *                              [--headless [--seconds 30]]
 *
 * --script   a fixed picture (one slot loading, one failed, one passed) that does not move:
 *            what the key test drives
 * --log FILE append one line per control call ("start", "retry A3", "quit true", …)
 * --headless plain log instead of the full-screen UI (also automatic when not on a terminal)
 */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { SlotState, StationEvent, StationPhase } from '../src/station/events.ts';
import type { StationControls } from '../src/ui/app.tsx';

// React picks its build when first loaded; the development build costs about three times the
// CPU per frame (docs/performance.md). Hence the dynamic imports below.
process.env['NODE_ENV'] ??= 'production';
const { EventBus } = await import('../src/station/events.ts');
const { DemoFeed } = await import('./demo-feed.ts');
const { renderStationUi, shouldUseTui } = await import('../src/ui/render.ts');
const { attachPlainLog } = await import('../src/ui/plain-log.ts');

const { values: args } = parseArgs({
  options: {
    slots: { type: 'string', default: '8' },
    cols: { type: 'string' },
    seed: { type: 'string', default: '1' },
    script: { type: 'boolean', default: false },
    log: { type: 'string' },
    headless: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '30' },
  },
});

const bus = new EventBus();
const slots = Number(args.slots);
const feed = new DemoFeed({ slots, seed: Number(args.seed), t0: Date.now(), ...(args.cols ? { cols: Number(args.cols) } : {}) });
const states = new Map<string, SlotState>();
bus.on((e) => {
  if (e.type === 'slot.state') states.set(e.slot, e.state);
});

const log = (line: string) => {
  if (args.log) appendFileSync(args.log, `${line}\n`);
};
const emit = (e: StationEvent) => bus.emit(e);
const phase = (p: StationPhase) => emit({ type: 'station.phase', t: Date.now(), phase: p });

let ui: ReturnType<typeof renderStationUi> | null = null;
let timer: ReturnType<typeof setInterval> | null = null;
let paused = false;

const controls: StationControls = {
  start: () => {
    log('start');
    paused = false;
    phase('running');
  },
  pause: () => {
    log('pause');
    paused = true;
    phase('paused');
  },
  resume: () => {
    log('resume');
    paused = false;
    phase('running');
  },
  abort: () => {
    log('abort');
    paused = true;
    for (const [slot, s] of states) {
      if (s !== 'idle' && s !== 'pass' && s !== 'fail' && s !== 'interrupted') emit({ type: 'slot.state', t: Date.now(), slot, state: 'interrupted', reason: 'aborted by the operator' });
    }
    phase('aborted');
  },
  retry: (slot) => {
    log(`retry ${slot}`);
    emit({ type: 'slot.state', t: Date.now(), slot, state: 'powered' });
  },
  quit: (force) => {
    log(`quit ${force}`);
    if (timer) clearInterval(timer);
    emit({ type: 'station.stopped', t: Date.now(), reason: force ? 'forced quit' : 'operator quit' });
    ui?.unmount();
    process.exitCode = 0;
  },
};

const useTui = shouldUseTui(process.stdout, process.env, { headless: args.headless, stdin: process.stdin });
if (useTui) ui = renderStationUi({ bus, controls });
else attachPlainLog(bus, process.stdout);

for (const e of feed.start()) emit(e);

if (args.script) {
  // A still picture: the key test needs a known state, not a moving one.
  const t = Date.now();
  const [a, b, c] = feed.slotInfos;
  phase('waiting-for-start');
  if (a) {
    emit({ type: 'slot.state', t, slot: a.id, state: 'present' });
    emit({ type: 'slot.state', t, slot: a.id, state: 'loading' });
    emit({ type: 'slot.progress', t, slot: a.id, bytesSent: 4000, bytesTotal: 10_000, segmentsSent: 16, segmentsTotal: 40 });
  }
  if (b) {
    emit({ type: 'slot.state', t, slot: b.id, state: 'present' });
    emit({ type: 'slot.state', t, slot: b.id, state: 'fail', reason: 'card rejected segment 7', code: 'EUICC_6A80' });
  }
  if (c) {
    emit({ type: 'slot.state', t, slot: c.id, state: 'present' });
    emit({ type: 'slot.state', t, slot: c.id, state: 'pass' });
  }
  emit({ type: 'station.prompt', t, message: 'Press both start buttons (or s)' });
} else {
  timer = setInterval(() => {
    if (!paused) for (const e of feed.advance(Date.now())) emit(e);
  }, 100);
  if (!useTui) {
    setTimeout(() => {
      if (timer) clearInterval(timer);
      emit({ type: 'station.stopped', t: Date.now(), reason: 'demo over' });
    }, Number(args.seconds) * 1000);
  }
}

if (ui) await ui.waitUntilExit();
