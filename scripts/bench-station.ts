/**
 * Station benchmark against the physical bound (hardware/PROTOCOL.md §8): the real station, in
 * its own process, loads TS.48-size BPPs into simulated eUICCs behind simulated bridges (one
 * process per 16 slots) running the card-contact timing model in real time (timeScale 1). A
 * driver plays the handler: when the station reports a unit done, it swaps the chip.
 *
 *   npm run bench:station -- [--slots 1,8,16,32,64] [--rounds 6] [--ta1 96] [--clock 5000000]
 *                            [--card-time 1] [--profile synthetic] [--no-extra] [--cpu-prof]
 *                            [--link pty,usb-fs] [--batch 8,0] [--json FILE]
 *
 * Host link models (the bridge simulator applies them, src/sim/bridge/bridge-sim.ts
 * `linkFrameMs`): `pty` is the simulator's pseudo-terminal as it is; `usb-fs` delivers every
 * line, each way, at the next 1 ms frame boundary on top of it, like a USB full-speed CDC
 * bridge (12 Mbit/s, 1 ms frames: USB 2.0 §5.8 bulk transfers are scheduled per frame, and a
 * CDC device's answer reaches the host with the IN token of a later frame). `--batch` sets
 * the bridges' APDUS batch size (INFO BATCH=, PROTOCOL.md §4a); 0 = a bridge without it, as
 * before the verb existed, so before and after run in one session.
 *
 * Per unit, the bound is the sum of the modeled card-contact times of the unit's exchanges on
 * its slot (wire time at the negotiated Fi/Di and clock, plus the card's processing time): what
 * the physical contact forces. The measured time per unit runs from the card insertion (the
 * bridge's CARD IN) to the station's unit.done. The first unit of every slot is a warm-up and
 * is not counted; CPU, RSS and event-loop lag of the station process are measured over the
 * remaining units only.
 *
 * Prints a table and PASS/FAIL against the targets; writes the raw figures to
 * var/bench/station/results.json. A measurement, not a test: the numbers depend on the machine
 * and on what else runs on it (the bridge simulators share the CPU with the station).
 *
 * Diagnostics (environment): BENCH_STATION_NODE_ARGS="--trace-gc ..." extra node options for the
 * station process; BENCH_PROF_BRIDGES=1 CPU profiles of the bridge processes; BENCH_TRACE=FILE
 * every bridge line with a timestamp (scripts/bench-station-bridge.ts); BENCH_SLOW_SERIAL=1 the
 * link calibration with serialport's stock binding instead of fast-serial.ts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_TIMING, type EuiccTiming } from '../src/sim/euicc/timing.ts';
import { copyStore, prepareBenchData, type BenchData } from './bench-station-data.ts';
import { measureLinkFloor, type LinkFloor } from './bench-station-link.ts';
import { writeDocBlock } from './bench-station-doc.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = join(ROOT, 'var', 'bench', 'station');
const SLOTS_PER_BRIDGE = 16;
/** Sampling interval of the event-loop delay monitor in the station process. */
const LAG_RESOLUTION_MS = 10;

const { values: args } = parseArgs({
  options: {
    slots: { type: 'string', default: '1,8,16,32,64' },
    rounds: { type: 'string', default: '6' },
    'rounds-single': { type: 'string', default: '12' },
    ta1: { type: 'string', default: '96' },
    clock: { type: 'string', default: '5000000' },
    'card-time': { type: 'string', default: '1' },
    profile: { type: 'string', default: 'synthetic' },
    extra: { type: 'boolean', default: true },
    'no-extra': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    events: { type: 'boolean', default: true },
    'no-events': { type: 'boolean', default: false },
    calibrate: { type: 'boolean', default: true },
    'no-calibrate': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    link: { type: 'string', default: 'pty' },
    batch: { type: 'string', default: '8' },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`Usage: npm run bench:station -- [options]
  --slots LIST        slot counts to run (default 1,8,16,32,64)
  --rounds N          units per slot for multi-slot runs, first one a warm-up (default 6)
  --rounds-single N   units for the 1-slot run (default 12)
  --ta1 HEX           the chips' TA1 (default 96 = Fi 512 / Di 32; 97 = 512/64)
  --clock HZ          card clock after PPS (default 5000000)
  --card-time X       scale of the simulated eUICC's processing times (default 1 = src/sim/euicc/timing.ts)
  --profile P         profile to bind: synthetic (TS.48 size) or a SAIP DER file
  --no-extra          skip the extra runs (TA1 97 at 1 and 32 slots; 9600 bit/s without PPS)
  --cpu-prof          write a V8 CPU profile of the station process per run (var/bench/station/prof/)
  --no-calibrate      skip measuring the simulated link's floor (the "net of link" column then only removes pacing)
  --no-events         do not write the NDJSON event log (default: written, as ifpp run --events FILE)
  --link LIST         host link models: pty (the simulator's pty as it is), usb-fs (every line at
                      the next 1 ms frame boundary, each way, like USB full speed); default pty
  --batch LIST        APDUs per APDUS request the bridges offer (INFO BATCH=); 0 = a bridge
                      without the verb (as before it existed); default 8
  --json FILE         also write every run's figures to FILE as {"runs":[{slots, link, units, ...}]}
  --write             also put the table into docs/performance.md (the bench-station block)
`);
  process.exit(0);
}

const log = (s: string) => process.stderr.write(s + '\n');
const hex = (n: number) => n.toString(16).toUpperCase();

type LinkModel = 'pty' | 'usb-fs';

interface RunSpec {
  label: string;
  link: LinkModel;
  /** APDUs per APDUS request the bridges offer; 0 = none. */
  batch: number;
  slots: number;
  unitsPerSlot: number;
  ta1: number;
  clockHz: number;
  pps: boolean;
  cardTime: number;
}

interface UnitRecord {
  slot: number;
  insertedAt: number;
  doneAt: number;
  nextInsertAt?: number;
  outcome: string;
  boundSeconds: number;
  wireSeconds: number;
  cardSeconds: number;
  exchanges: number;
  requests: number;
  firstRequestMs: number;
  hostGapMs: number;
  pacingMs: number;
  tailMs: number;
  warmup: boolean;
}

interface StationStats {
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  rssMaxBytes: number;
  rssMeanBytes: number;
}

interface RunResult {
  spec: RunSpec;
  units: UnitRecord[];
  station: StationStats;
  bridgesCpuMs: number;
  bridgesWallMs: number;
  /** Delay the link model added, ms per line each way (0 on pty). */
  frameMsPerLine: number;
  measured: number;
  meanUnitSeconds: number;
  meanBoundSeconds: number;
  meanWireSeconds: number;
  ratio: number;
  ratioP95: number;
  throughputPerHour: number;
  meanSwapMs: number;
  /** Mean per measured unit: where the time beyond the bound went. */
  breakdown: { requests: number; firstRequestMs: number; hostGapMs: number; pacingMs: number; tailMs: number };
  outcomes: Record<string, number>;
  cpu?: CpuShare;
}

// ------------------------------------------------------------------ child processes

interface LineChild {
  child: ChildProcessWithoutNullStreams;
  next(): Promise<Record<string, unknown>>;
  onLine(f: (o: Record<string, unknown>) => void): void;
  send(line: string): void;
  exited: Promise<number | null>;
}

function spawnLines(script: string, argv: string[], nodeArgs: string[] = []): LineChild {
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, script, ...argv], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.on('data', (d: Buffer) => process.stderr.write(`[${script.split('/').pop()}] ${d.toString()}`));
  const queue: Record<string, unknown>[] = [];
  const waiters: ((o: Record<string, unknown>) => void)[] = [];
  let listener: ((o: Record<string, unknown>) => void) | undefined;
  createInterface({ input: child.stdout }).on('line', (l) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(l) as Record<string, unknown>;
    } catch {
      process.stderr.write(`[${script}] ${l}\n`);
      return;
    }
    if (listener) return listener(o);
    const w = waiters.shift();
    if (w) w(o);
    else queue.push(o);
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return {
    child,
    next: () =>
      new Promise((res, rej) => {
        if (queue.length) return res(queue.shift()!);
        waiters.push(res);
        void exited.then((c) => rej(new Error(`${script} exited with ${c}`)));
      }),
    onLine(f) {
      listener = f;
      for (const o of queue.splice(0)) f(o);
    },
    send(line) {
      child.stdin.write(line + '\n');
    },
    exited,
  };
}

/** A bridge wrapper: commands answered in order. */
class Bridge {
  private chain: Promise<unknown> = Promise.resolve();
  constructor(
    readonly proc: LineChild,
    readonly link: string,
    readonly slots: number,
  ) {}

  request(cmd: string): Promise<Record<string, unknown>> {
    const p = this.chain.then(() => {
      this.proc.send(cmd);
      return this.proc.next();
    });
    this.chain = p.catch(() => undefined);
    return p;
  }

  async stop(): Promise<void> {
    this.proc.send('quit');
    await this.proc.exited;
  }
}

// ------------------------------------------------------------------ CPU accounting (Linux /proc)

const CLK_TCK = 100;

/** utime + stime of a process (all its threads), ms; undefined when it is gone or there is no /proc. */
function procCpuMs(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  let names: string[] = [];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const s = readFileSync(`/proc/${n}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(n));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Busy and total CPU time of the whole machine, ms summed over cores. */
function machineCpuMs(): { busy: number; total: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { busy: ((total - idle) * 1000) / CLK_TCK, total: (total * 1000) / CLK_TCK };
  } catch {
    return undefined;
  }
}

interface CpuSnapshot {
  at: number;
  station?: number;
  bridges: number;
  ptyHelpers: number;
  driver: number;
  machine?: { busy: number; total: number };
}

function cpuSnapshot(stationPid: number, bridgePids: number[]): CpuSnapshot {
  let bridges = 0;
  let ptyHelpers = 0;
  for (const b of bridgePids) {
    bridges += procCpuMs(b) ?? 0;
    for (const c of childPids(b)) ptyHelpers += procCpuMs(c) ?? 0;
  }
  const d = process.cpuUsage();
  const snap: CpuSnapshot = { at: performance.now(), bridges, ptyHelpers, driver: (d.user + d.system) / 1000 };
  const st = procCpuMs(stationPid);
  if (st !== undefined) snap.station = st;
  const m = machineCpuMs();
  if (m) snap.machine = m;
  return snap;
}

/** CPU over the measured window, in % of one core (machine: % of all cores busy). */
interface CpuShare {
  station?: number;
  bridges: number;
  ptyHelpers: number;
  driver: number;
  machineBusy?: number;
}

function cpuShare(a: CpuSnapshot, b: CpuSnapshot): CpuShare {
  const wall = b.at - a.at;
  const pct = (x: number) => (x / wall) * 100;
  const out: CpuShare = { bridges: pct(b.bridges - a.bridges), ptyHelpers: pct(b.ptyHelpers - a.ptyHelpers), driver: pct(b.driver - a.driver) };
  if (a.station !== undefined && b.station !== undefined) out.station = pct(b.station - a.station);
  if (a.machine && b.machine) out.machineBusy = ((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * 100;
  return out;
}

// ------------------------------------------------------------------ one run

function cardTiming(scale: number): EuiccTiming {
  const t = { ...DEFAULT_TIMING };
  for (const k of Object.keys(t) as (keyof EuiccTiming)[]) t[k] = DEFAULT_TIMING[k] * scale;
  return t;
}

async function runOnce(data: BenchData, spec: RunSpec): Promise<RunResult> {
  const runDir = join(BENCH, 'runs', spec.label);
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  copyStore(data, join(runDir, 'store'));
  const total = spec.slots * spec.unitsPerSlot;
  if (total > data.eids.length) throw new Error(`run ${spec.label} needs ${total} chips, the data has ${data.eids.length}`);

  const nBridges = Math.ceil(spec.slots / SLOTS_PER_BRIDGE);
  const bridges: Bridge[] = [];
  for (let b = 0; b < nBridges; b++) {
    const n = Math.min(SLOTS_PER_BRIDGE, spec.slots - b * SLOTS_PER_BRIDGE);
    const link = join(runDir, `bridge${b}`);
    const bridgeProf = process.env['BENCH_PROF_BRIDGES'] ? ['--cpu-prof', '--cpu-prof-dir', join(BENCH, 'prof', `${spec.label}-bridge${b}`)] : [];
    const proc = spawnLines(join(ROOT, 'scripts', 'bench-station-bridge.ts'), [
      '--slots',
      String(n),
      '--link',
      link,
      '--time-scale',
      '1',
      '--card-module',
      join(ROOT, 'src', 'sim', 'euicc', 'card-factory.ts'),
      '--card-options',
      JSON.stringify(Array.from({ length: n }, () => null)),
      '--link-model',
      spec.link,
      '--batch',
      String(spec.batch),
    ], bridgeProf);
    const ready = await proc.next();
    if (ready.event !== 'ready') throw new Error(`bridge ${b} did not start: ${JSON.stringify(ready)}`);
    bridges.push(new Bridge(proc, link, n));
  }
  const slotRef = (i: number) => ({ bridge: bridges[Math.floor(i / SLOTS_PER_BRIDGE)]!, ch: i % SLOTS_PER_BRIDGE });

  const cfgPath = join(runDir, 'station.json');
  writeFileSync(
    cfgPath,
    JSON.stringify(
      {
        format: 'ifpp-station/1',
        name: `bench-${spec.label}`,
        kind: 'socket-programmer',
        store: 'store',
        journal: 'journal',
        reports: 'reports',
        bridges: bridges.map((b, i) => ({ id: `b${i}`, port: b.link, slots: b.slots })),
        slots: Array.from({ length: spec.slots }, (_, i) => ({
          id: `S${i + 1}`,
          bridge: `b${Math.floor(i / SLOTS_PER_BRIDGE)}`,
          channel: i % SLOTS_PER_BRIDGE,
          row: Math.floor(i / SLOTS_PER_BRIDGE) + 1,
          col: (i % SLOTS_PER_BRIDGE) + 1,
        })),
        loading: { vcc: 'C', clockHz: spec.clockHz, pps: spec.pps },
      },
      null,
      2,
    ),
  );

  const nodeArgs = process.env['BENCH_STATION_NODE_ARGS'] ? process.env['BENCH_STATION_NODE_ARGS'].split(' ') : [];
  nodeArgs.push(...(args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', join(BENCH, 'prof', spec.label)] : []));
  const station = spawnLines(
    join(ROOT, 'scripts', 'bench-station-child.ts'),
    ['--config', cfgPath, '--units', String(total), '--events', args.events && !args['no-events'] ? join(runDir, 'events.ndjson') : 'none', '--lag-resolution', String(LAG_RESOLUTION_MS)],
    nodeArgs,
  );
  const open = await station.next();
  if (open.ev !== 'open') throw new Error(`station did not open: ${JSON.stringify(open)}`);

  const timing = cardTiming(spec.cardTime);
  let nextChip = 0;
  const cardJson = () => JSON.stringify({ reel: data.reel, eid: data.eids[nextChip++], ta1: spec.ta1, timing });
  const insertedAt: number[] = new Array(spec.slots).fill(0);
  const doneCount: number[] = new Array(spec.slots).fill(0);
  const units: UnitRecord[] = [];
  let done = 0;
  let marked = false;
  let cpuAtMark: CpuSnapshot | undefined;
  let cpuAtEnd: CpuSnapshot | undefined;

  const finished = new Promise<{ stats: StationStats; summary: Record<string, unknown> }>((resolve, reject) => {
    let stats: StationStats | undefined;
    const pendingSwaps: Promise<unknown>[] = [];
    station.onLine((o) => {
      if (o.ev === 'done') {
        const slot = Number(String(o.slot).slice(1)) - 1;
        const { bridge, ch } = slotRef(slot);
        const warmup = doneCount[slot] === 0;
        doneCount[slot] = (doneCount[slot] ?? 0) + 1;
        const rec: UnitRecord = {
          slot,
          insertedAt: insertedAt[slot]!,
          doneAt: Number(o.t),
          outcome: String(o.outcome),
          boundSeconds: 0,
          wireSeconds: 0,
          cardSeconds: 0,
          exchanges: 0,
          requests: 0,
          firstRequestMs: 0,
          hostGapMs: 0,
          pacingMs: 0,
          tailMs: 0,
          warmup,
        };
        units.push(rec);
        done++;
        if (!marked && done >= spec.slots) {
          marked = true;
          station.send('mark');
          cpuAtMark = cpuSnapshot(station.child.pid!, bridges.map((b) => b.proc.child.pid!));
        }
        const more = nextChip < total;
        pendingSwaps.push(
          bridge.request(`swap ${ch} ${more ? cardJson() : '-'}`).then((r) => {
            if (!r.ok) throw new Error(`swap on slot ${slot}: ${String(r.error)}`);
            const prev = r.prev as Record<string, number>;
            rec.boundSeconds = prev.seconds!;
            rec.wireSeconds = prev.wireSeconds!;
            rec.cardSeconds = prev.cardSeconds!;
            rec.exchanges = prev.exchanges!;
            rec.requests = prev.requests!;
            rec.firstRequestMs = prev.firstRequestMs!;
            rec.hostGapMs = prev.hostGapMs!;
            rec.pacingMs = prev.pacingMs!;
            rec.tailMs = prev.lastAnswerAt ? rec.doneAt - prev.lastAnswerAt : 0;
            if (typeof r.insertedAt === 'number') {
              rec.nextInsertAt = r.insertedAt;
              insertedAt[slot] = r.insertedAt;
            }
          }),
        );
      } else if (o.ev === 'stats') {
        stats = o as unknown as StationStats;
        cpuAtEnd = cpuSnapshot(station.child.pid!, bridges.map((b) => b.proc.child.pid!));
      } else if (o.ev === 'summary') {
        Promise.all(pendingSwaps).then(() => resolve({ stats: stats!, summary: o }), reject);
      }
    });
    void station.exited.then((c) => {
      if (!stats) reject(new Error(`station process exited with ${c} before reporting`));
    });
  });

  // Fill every slot: the station starts a unit on each card-detect.
  for (let i = 0; i < spec.slots; i++) {
    const { bridge, ch } = slotRef(i);
    const r = await bridge.request(`swap ${ch} ${cardJson()}`);
    if (!r.ok) throw new Error(`insert on slot ${i}: ${String(r.error)}`);
    insertedAt[i] = r.insertedAt as number;
  }
  const { stats } = await finished;
  await station.exited;
  let bridgesCpuMs = 0;
  let bridgesWallMs = 0;
  let frameMs = 0;
  let frameLines = 0;
  for (const b of bridges) {
    const s = await b.request('stats');
    bridgesCpuMs += Number(s.cpuMs);
    bridgesWallMs = Math.max(bridgesWallMs, Number(s.wallMs));
    const d = s.linkDelay as { inMs: number; inLines: number; outMs: number; outLines: number };
    frameMs += d.inMs + d.outMs;
    frameLines += d.inLines + d.outLines;
    await b.stop();
  }
  const r = summarise(spec, units, stats, bridgesCpuMs, bridgesWallMs);
  r.frameMsPerLine = frameLines ? frameMs / frameLines : 0;
  if (cpuAtMark && cpuAtEnd) r.cpu = cpuShare(cpuAtMark, cpuAtEnd);
  return r;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function summarise(spec: RunSpec, units: UnitRecord[], station: StationStats, bridgesCpuMs: number, bridgesWallMs: number): RunResult {
  const m = units.filter((u) => !u.warmup);
  const wall = m.reduce((a, u) => a + (u.doneAt - u.insertedAt) / 1000, 0);
  const bound = m.reduce((a, u) => a + u.boundSeconds, 0);
  const wire = m.reduce((a, u) => a + u.wireSeconds, 0);
  // Throughput per slot over its own busy period: the units after its warm-up, between its
  // first and last completion (no start or end effects from other slots).
  let rate = 0;
  for (let s = 0; s < spec.slots; s++) {
    const d = units.filter((u) => u.slot === s).map((u) => u.doneAt).sort((a, b) => a - b);
    if (d.length >= 2) rate += (d.length - 1) / ((d[d.length - 1]! - d[0]!) / 1000);
  }
  const swaps = units.filter((u) => u.nextInsertAt !== undefined).map((u) => u.nextInsertAt! - u.doneAt);
  const outcomes: Record<string, number> = {};
  for (const u of units) outcomes[u.outcome] = (outcomes[u.outcome] ?? 0) + 1;
  return {
    spec,
    units,
    station,
    bridgesCpuMs,
    bridgesWallMs,
    frameMsPerLine: 0,
    measured: m.length,
    meanUnitSeconds: wall / m.length,
    meanBoundSeconds: bound / m.length,
    meanWireSeconds: wire / m.length,
    ratio: wall / bound,
    ratioP95: percentile(
      m.map((u) => (u.doneAt - u.insertedAt) / 1000 / u.boundSeconds),
      95,
    ),
    throughputPerHour: rate * 3600,
    breakdown: {
      requests: mean(m.map((u) => u.requests)),
      firstRequestMs: mean(m.map((u) => u.firstRequestMs)),
      hostGapMs: mean(m.map((u) => u.hostGapMs)),
      pacingMs: mean(m.map((u) => u.pacingMs)),
      tailMs: mean(m.map((u) => u.tailMs)),
    },
    meanSwapMs: swaps.length ? swaps.reduce((a, b) => a + b, 0) / swaps.length : 0,
    outcomes,
  };
}

// ------------------------------------------------------------------ report

function machine(): string {
  const c = cpus();
  return `Node ${process.version}, ${platform()} ${release()}, ${c.length} × ${c[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} at the end`;
}

function table(results: RunResult[], single: Map<string, RunResult>): string {
  const head = ['run', 'link', 'slots', 'units', 'round trips', 'time/unit s', 'bound s (wire)', 'ratio (p95)', 'net of link', 'units/h', 'vs N×1-slot', 'lag p50/p99 ms', 'station CPU', 'station RSS MiB', 'sim CPU', 'other load'];
  const rows = results.map((r) => {
    const base = single.get(baseKey(r.spec));
    const scale = base ? r.throughputPerHour / (r.spec.slots * base.throughputPerHour) : NaN;
    const pct = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(0)} %`);
    const stationCpu = r.cpu?.station ?? ((r.station.cpuUserMs + r.station.cpuSystemMs) / r.station.wallMs) * 100;
    return [
      r.spec.label,
      `${r.spec.link}${r.spec.batch ? `, APDUS ${r.spec.batch}` : ''}`,
      String(r.spec.slots),
      String(r.measured),
      r.breakdown.requests.toFixed(1),
      r.meanUnitSeconds.toFixed(3),
      `${r.meanBoundSeconds.toFixed(3)} (${r.meanWireSeconds.toFixed(3)})`,
      `${r.ratio.toFixed(3)} (${r.ratioP95.toFixed(3)})`,
      netRatio(r).toFixed(3),
      r.throughputPerHour.toFixed(0),
      Number.isNaN(scale) ? '—' : scale.toFixed(3),
      `${lagMs(r, 50).toFixed(1)} / ${lagMs(r, 99).toFixed(1)}`,
      pct(stationCpu),
      (r.station.rssMaxBytes / 2 ** 20).toFixed(0),
      pct(r.cpu ? r.cpu.bridges + r.cpu.ptyHelpers : undefined),
      pct(otherLoad(r)),
    ];
  });
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |';
  return [line(head), '| ' + w.map((n) => '-'.repeat(n)).join(' | ') + ' |', ...rows.map(line)].join('\n');
}

/**
 * The ratio with the simulated link taken out: per unit, the link floor (measured with a bare
 * client) times the host round trips, and the simulator's own pacing error.
 */
function netRatio(r: RunResult): number {
  const b = r.breakdown;
  // Per host round trip: the pty floor, plus what the link model waited each way.
  const linkMs = (b.requests - 1) * ((linkFloor?.medianMs ?? 0) + 2 * r.frameMsPerLine);
  return (r.meanUnitSeconds * 1000 - linkMs - b.pacingMs) / (r.meanBoundSeconds * 1000);
}

/** CPU used by everything but the station, the simulators and the driver (other jobs on the machine), % of one core. */
function otherLoad(r: RunResult): number | undefined {
  const c = r.cpu;
  if (!c || c.machineBusy === undefined || c.station === undefined) return undefined;
  return Math.max(0, (c.machineBusy / 100) * cpus().length * 100 - c.station - c.bridges - c.ptyHelpers - c.driver);
}

/** monitorEventLoopDelay records the whole timer interval: the lag is what exceeds the resolution. */
function lagMs(r: RunResult, p: 50 | 99): number {
  return Math.max(0, (p === 50 ? r.station.lagP50Ms : r.station.lagP99Ms) - LAG_RESOLUTION_MS);
}

function breakdownTable(results: RunResult[]): string {
  const head = ['run', 'beyond bound', 'insertion to 1st request', 'host side (per exchange)', 'of which link (floor + frames)', 'simulator pacing', 'last answer to unit.done'];
  const rows = results.map((r) => {
    const b = r.breakdown;
    const n = Math.max(1, b.requests - 1);
    return [
      r.spec.label,
      ((r.meanUnitSeconds - r.meanBoundSeconds) * 1000).toFixed(1),
      b.firstRequestMs.toFixed(1),
      `${b.hostGapMs.toFixed(1)} (${(b.hostGapMs / n).toFixed(2)} × ${n})`,
      linkFloor || r.frameMsPerLine ? `${(((linkFloor?.medianMs ?? 0) + 2 * r.frameMsPerLine) * n).toFixed(1)}` : '—',
      b.pacingMs.toFixed(1),
      b.tailMs.toFixed(1),
    ];
  });
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((x) => x[i]!.length)));
  const line = (x: string[]) => '| ' + x.map((v, i) => v.padEnd(w[i]!)).join(' | ') + ' |';
  return [line(head), '| ' + w.map((k) => '-'.repeat(k)).join(' | ') + ' |', ...rows.map(line)].join('\n');
}

function breakdownText(r: RunResult): string {
  const b = r.breakdown;
  const over = (r.meanUnitSeconds - r.meanBoundSeconds) * 1000;
  return `beyond the bound ${over.toFixed(1)} ms/unit: insertion to first request ${b.firstRequestMs.toFixed(1)}, host side between answer and next request ${b.hostGapMs.toFixed(1)} (${(b.hostGapMs / Math.max(1, b.requests - 1)).toFixed(2)} × ${b.requests - 1}), simulator pacing ${b.pacingMs.toFixed(1)}, last answer to unit.done ${b.tailMs.toFixed(1)}`;
}

const baseKey = (s: RunSpec) => `${s.ta1}/${s.clockHz}/${s.pps}/${s.cardTime}/${s.link}/${s.batch}`;

// ------------------------------------------------------------------ main

const slotCounts = args.slots.split(',').map((s) => Number(s.trim()));
const rounds = Number(args.rounds);
const roundsSingle = Number(args['rounds-single']);
const ta1 = parseInt(args.ta1, 16);
const clockHz = Number(args.clock);
const cardTime = Number(args['card-time']);
const extra = args.extra && !args['no-extra'];

const links = args.link.split(',').map((s) => s.trim());
for (const l of links) if (l !== 'pty' && l !== 'usb-fs') throw new Error(`--link: unknown link model "${l}" (pty or usb-fs)`);
const batches = args.batch.split(',').map((s) => Number(s.trim()));
for (const b of batches) if (!(Number.isInteger(b) && b >= 0 && b <= 16)) throw new Error(`--batch: ${b} is not 0..16`);
const tag = (link: string, batch: number) => (links.length > 1 ? `-${link}` : '') + (batches.length > 1 ? `-b${batch}` : '');

const specs: RunSpec[] = [];
for (const link of links as LinkModel[]) {
  for (const batch of batches) {
    for (const n of slotCounts) {
      specs.push({ label: `ta${hex(ta1)}-${n}${tag(link, batch)}`, link, batch, slots: n, unitsPerSlot: n === 1 ? roundsSingle : rounds, ta1, clockHz, pps: true, cardTime });
    }
  }
}
if (extra) {
  const link = links[0] as LinkModel;
  const batch = batches[0]!;
  const other = ta1 === 0x97 ? 0x96 : 0x97;
  for (const n of [1, 32]) specs.push({ label: `ta${hex(other)}-${n}${tag(link, batch)}`, link, batch, slots: n, unitsPerSlot: n === 1 ? roundsSingle : rounds, ta1: other, clockHz, pps: true, cardTime });
  // ISO 7816-3 defaults: Fi 372 / Di 1 at 3.5712 MHz = 9600 bit/s, PPS off.
  specs.push({ label: `nopps-9600-1${tag(link, batch)}`, link, batch, slots: 1, unitsPerSlot: 3, ta1, clockHz: 3_571_200, pps: false, cardTime });
}

mkdirSync(BENCH, { recursive: true });
let linkFloor: LinkFloor | undefined;
if (args.calibrate && !args['no-calibrate']) {
  linkFloor = await measureLinkFloor(ROOT, join(ROOT, 'scripts', 'bench-station-bridge.ts'), join(BENCH, 'calibration-link'));
  log(`simulated link floor: ${linkFloor.medianMs.toFixed(3)} ms per exchange (median of ${linkFloor.exchanges}; mean ${linkFloor.meanMs.toFixed(3)})`);
}

const chipsNeeded = Math.max(...specs.map((s) => s.slots * s.unitsPerSlot));
mkdirSync(BENCH, { recursive: true });
const data = await prepareBenchData(join(BENCH, 'data'), chipsNeeded, args.profile, log);
log(`profile ${data.profile}: BPP ${data.bppBytes} bytes; card time ×${cardTime}`);

const results: RunResult[] = [];
for (const spec of specs) {
  log(`run ${spec.label}: ${spec.slots} slot(s), ${spec.slots * spec.unitsPerSlot} units, TA1 ${hex(spec.ta1)}, ${spec.clockHz} Hz, PPS ${spec.pps ? 'on' : 'off'}, link ${spec.link}, APDUS batch ${spec.batch || 'none'}`);
  const r = await runOnce(data, spec);
  results.push(r);
  log(
    `  ${r.meanUnitSeconds.toFixed(3)} s/unit vs bound ${r.meanBoundSeconds.toFixed(3)} s: ratio ${r.ratio.toFixed(4)}; ${r.throughputPerHour.toFixed(0)} units/h; lag p99 ${lagMs(r, 99).toFixed(1)} ms; outcomes ${JSON.stringify(r.outcomes)}`,
  );
  log(`  ${breakdownText(r)}`);
}

const single = new Map<string, RunResult>();
for (const r of results) if (r.spec.slots === 1) single.set(baseKey(r.spec), r);

const out: string[] = [];
out.push(`Station benchmark, ${new Date().toISOString()}`);
out.push(machine());
if (linkFloor) out.push(`Simulated link floor (bridge process → pty → serial layer and back, bare client): ${linkFloor.medianMs.toFixed(3)} ms per exchange`);
out.push(`BPP ${data.bppBytes} bytes (${data.profile}); card processing ×${cardTime} of src/sim/euicc/timing.ts; bridges: one process per ${SLOTS_PER_BRIDGE} slots`);
out.push('');
out.push(table(results, single));
out.push('');
out.push('Where the time beyond the bound goes, ms per unit (host side: from each answer leaving the bridge simulator to the next request arriving there; link floor: what a bare client needs for the same, measured idle):');
out.push('');
out.push(breakdownTable(results));
out.push('');

// Targets (issue 15), per link model, for the runs with the largest batch (the protocol as it is now).
const checks: [string, boolean | undefined, string][] = [];
const topBatch = Math.max(...batches);
for (const link of links) {
  const find = (n: number) => results.find((r) => r.spec.slots === n && r.spec.ta1 === ta1 && r.spec.pps && r.spec.link === link && r.spec.batch === topBatch);
  const r1 = find(1);
  const [lim1, nBig, limBig] = link === 'usb-fs' ? [1.03, 64, 1.05] : [1.02, 32, 1.04];
  const rBig = find(nBig);
  const r64 = find(64);
  for (const r of results.filter((x) => x.spec.link === link && x.spec.batch === topBatch && x.spec.pps && x.spec.ta1 === ta1).slice(0, 1)) {
    checks.push([`${link}: host round trips per unit ≤ 20`, r.breakdown.requests <= 20, r.breakdown.requests.toFixed(1)]);
  }
  if (r1) checks.push([`${link}: time per unit ≤ ${lim1} × bound at 1 slot`, r1.ratio <= lim1, r1.ratio.toFixed(3)]);
  if (rBig) checks.push([`${link}: time per unit ≤ ${limBig} × bound at ${nBig} slots`, rBig.ratio <= limBig, rBig.ratio.toFixed(3)]);
  if (r1 && r64) {
    const s = r64.throughputPerHour / (64 * r1.throughputPerHour);
    checks.push([`${link}: 64-slot throughput ≥ 0.95 × 64 × 1-slot`, s >= 0.95, s.toFixed(3)]);
  }
  if (r64) checks.push([`${link}: event-loop lag p99 < 10 ms at 64 slots`, lagMs(r64, 99) < 10, `${lagMs(r64, 99).toFixed(1)} ms`]);
}
const r1 = results.find((r) => r.spec.slots === 1 && r.spec.ta1 === ta1 && r.spec.pps);
const nopps = results.find((r) => r.spec.label.startsWith('nopps'));
if (nopps && r1) out.push(`PPS buys ×${(nopps.meanUnitSeconds / r1.meanUnitSeconds).toFixed(1)} per unit at 1 slot (${nopps.meanUnitSeconds.toFixed(1)} s at 9600 bit/s vs ${r1.meanUnitSeconds.toFixed(2)} s with PPS to TA1 ${hex(ta1)})`);
for (const [what, ok, val] of checks) out.push(`${ok ? 'PASS' : 'FAIL'}  ${what}: ${val}`);
const bad = results.filter((r) => (r.outcomes.installed ?? 0) !== r.units.length);
for (const r of bad) out.push(`WARN  run ${r.spec.label}: not every unit installed: ${JSON.stringify(r.outcomes)}`);
process.stdout.write(out.join('\n') + '\n');
if (args.write) {
  const cmd = `npm run bench:station${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  log(`wrote ${writeDocBlock(ROOT, 'bench-station', [`Produced by \`${cmd}\`.`, '', ...out].join('\n'))}`);
}
if (args.json) {
  // Machine-readable figures, one object per run, for comparing runs automatically.
  const runs = results.map((r) => {
    const base = single.get(baseKey(r.spec));
    return {
      label: r.spec.label,
      slots: r.spec.slots,
      link: r.spec.link,
      batch: r.spec.batch,
      units: r.measured,
      ratio: r.ratio,
      ratioP95: r.ratioP95,
      roundTripsPerUnit: r.breakdown.requests,
      unitsPerHour: r.throughputPerHour,
      vsNx1: base ? r.throughputPerHour / (r.spec.slots * base.throughputPerHour) : null,
      lagP50Ms: lagMs(r, 50),
      lagP99Ms: lagMs(r, 99),
      stationCpu: r.cpu?.station ?? null,
      simCpu: r.cpu ? r.cpu.bridges + r.cpu.ptyHelpers : null,
      rssMiB: r.station.rssMaxBytes / 2 ** 20,
    };
  });
  writeFileSync(args.json, JSON.stringify({ at: new Date().toISOString(), machine: machine(), runs }, null, 2) + '\n');
  log(`wrote ${args.json}`);
}
writeFileSync(
  join(BENCH, 'results.json'),
  JSON.stringify({ at: new Date().toISOString(), machine: machine(), bppBytes: data.bppBytes, linkFloor, results: results.map(({ units, ...r }) => ({ ...r, unitCount: units.length })) }, null, 2),
);
