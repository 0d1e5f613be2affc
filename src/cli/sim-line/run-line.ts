/**
 * `ifpp sim line`'s coordinator: N simulated stations, each a separate process
 * (station-child.ts) running the real station against the line's PostgreSQL database, fed
 * from one reel of the world by an automatic operator that sees only what a person sees (each
 * unit's result). A chip whose attempt did not install a profile — an injected chip fault
 * (the chip hangs after BF23, its key burnt), or a station that died with it in a socket — is
 * moved to another station, which must settle that attempt from the chip before it loads one
 * (docs/line-guide.md, "A chip moved to another station mid-attempt").
 *
 * Faults are decided from a seed and the chip's reel number, so a seed replays them. Station
 * folders: WORLD/line/<station>/ (station.json, store, journal, reports); the reel position:
 * WORLD/line/feeder.json; chip states: the world's chip folder, as for `ifpp sim station`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEid } from '../../core/rsp/eid.ts';
import { IfppError } from '../../core/errors.ts';
import { moduleFile, nodeArgs } from '../../sim/node-entry.ts';
import { timingFor } from '../../sim/world/card-time.ts';
import { chance } from '../../sim/world/operator.ts';
import type { WorldDescription } from '../../sim/world/world-files.ts';
import type { ChildMessage, ParentMessage } from './messages.ts';

export class SimLineError extends IfppError {}

const CHILD = moduleFile('./station-child.ts', import.meta.url);
/** The fault draw's salt (the world operator's draws use others). */
const FAULT_SALT = 4;

export interface SimLineOptions {
  dir: string;
  world: WorldDescription;
  /** The line database; undefined: every station on its own local store (benchmarks: N single stations). */
  url: string | undefined;
  stations: number;
  slots: number;
  /** 0 = as fast as possible, 1 = the chip's real time. */
  timeScale: number;
  seed: number;
  /** Share of chips whose first attempt hangs after BF23 (key burnt); they move to another station. */
  failRate: number;
  /** Heartbeat of the stations, s (default 2). */
  heartbeatSeconds?: number;
  log(line: string): void;
  /** Every message of every station (tests: kill a station at a chosen moment). */
  onMessage?(station: string, m: ChildMessage): void;
}

export interface SimLineResult {
  fed: number;
  installed: number;
  /** Chips that ended without a profile after every try. */
  failed: string[];
  /** Moves of a chip to another station after an attempt that did not install. */
  moves: number;
  /** Station processes that died (killed) and were started again. */
  restarts: number;
  perStation: Record<string, number>;
  elapsedMs: number;
  /** From every station being ready (first start) to the last unit's end. */
  runMs: number;
}

interface Chip {
  n: number;
  eid: string;
  tries: number;
  /** The station it must not go back to (moved after an attempt there). */
  avoid?: string;
}

interface StationProc {
  id: string;
  dir: string;
  child?: ChildProcess;
  ready: boolean;
  slots: Map<string, Chip | undefined>;
  stopping: boolean;
}

export function lineFeederPath(dir: string): string {
  return join(dir, 'line', 'feeder.json');
}

export function readLineFeeder(dir: string): number {
  try {
    const n = (JSON.parse(readFileSync(lineFeederPath(dir), 'utf8')) as { next?: unknown }).next;
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** The station config of station `id` of the line (socket programmer, in-process sockets). */
export function lineStationConfig(id: string, slots: number, url: string | undefined, heartbeatSeconds: number): object {
  return {
    name: id,
    kind: 'socket-programmer',
    store: 'store',
    journal: 'journal',
    reports: 'reports',
    bridges: [{ id: 'b0', port: `sim:${id}`, slots }],
    slots: Array.from({ length: slots }, (_, i) => ({ id: `S${i + 1}`, bridge: 'b0', channel: i, row: 1, col: i + 1 })),
    // One attempt per insertion: a chip whose load failed goes to another station (the point of the simulation).
    loading: { retry: { maxAttemptsPerChip: 1 } },
    inventory: url === undefined ? { kind: 'local' } : { kind: 'postgres', url, stationId: id, heartbeatSeconds, leaseSeconds: Math.max(60, 4 * heartbeatSeconds) },
  };
}

export interface SimLine {
  stationIds: string[];
  /** Kills a station process at once (SIGKILL); its chips move to other stations; it is started again. */
  kill(id: string): void;
  /** Feeds no more chips; the stations finish the units they hold and stop. */
  stop(): void;
  done: Promise<SimLineResult>;
}

export function startSimLine(o: SimLineOptions): SimLine {
  const t0 = performance.now();
  const { world, dir } = o;
  const prefix = world.eids.prefix;
  const digits = 30 - prefix.length;
  const eidAt = (i: number) => makeEid(prefix + String(BigInt(world.eids.firstSerial) + BigInt(i)).padStart(digits, '0'));
  const reel = join(dir, world.files.reel);
  const stateDir = join(dir, world.files.chipState);
  const timing = timingFor(world.cardMs, world.batch.avgBppBytes);
  mkdirSync(join(dir, 'line'), { recursive: true });

  let next = readLineFeeder(dir);
  const end = world.units;
  const total = end - next;
  const queue: Chip[] = [];
  const result: SimLineResult = { fed: 0, installed: 0, failed: [], moves: 0, restarts: 0, perStation: {}, elapsedMs: 0, runMs: 0 };
  let allReadyAt: number | undefined;
  const stations: StationProc[] = Array.from({ length: o.stations }, (_, i) => {
    const id = `st-${i + 1}`;
    const sdir = join(dir, 'line', id);
    mkdirSync(sdir, { recursive: true });
    writeFileSync(join(sdir, 'station.json'), JSON.stringify(lineStationConfig(id, o.slots, o.url, o.heartbeatSeconds ?? 2), null, 2) + '\n');
    result.perStation[id] = 0;
    return { id, dir: sdir, ready: false, slots: new Map(), stopping: false };
  });
  let finished = false;
  let resolveDone!: (r: SimLineResult) => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<SimLineResult>((a, b) => ((resolveDone = a), (rejectDone = b)));

  const send = (s: StationProc, m: ParentMessage) => {
    if (s.child?.connected) s.child.send(m);
  };

  const takeFor = (s: StationProc): Chip | undefined => {
    let i = queue.findIndex((c) => c.avoid !== s.id);
    // One station alone takes its own chips back.
    if (i < 0 && o.stations === 1 && queue.length) i = 0;
    if (i >= 0) return queue.splice(i, 1)[0];
    if (next < end) {
      const c = { n: next, eid: eidAt(next), tries: 0 };
      next++;
      result.fed++;
      writeFileSync(lineFeederPath(dir), JSON.stringify({ next }) + '\n');
      return c;
    }
    return undefined;
  };

  const fill = (s: StationProc) => {
    if (!s.ready || s.stopping || finished) return;
    for (const [slot, held] of s.slots) {
      if (held) continue;
      const c = takeFor(s);
      if (!c) return;
      s.slots.set(slot, c);
      const fault = c.tries === 0 && chance(o.seed, c.n, FAULT_SALT) < o.failRate;
      if (fault) o.log(`${s.id}/${slot}: chip ${c.eid} (#${c.n}) will hang after BF23 (injected fault)`);
      send(s, { type: 'insert', slot, eid: c.eid, ...(fault ? { faults: { muteAtLoadCall: 2 } } : {}) });
    }
  };
  const fillAll = () => stations.forEach(fill);

  const settled = () => result.installed + result.failed.length;
  const checkDone = () => {
    if (finished || settled() < total) return;
    finished = true;
    result.runMs = performance.now() - (allReadyAt ?? t0);
    for (const s of stations) {
      s.stopping = true;
      send(s, { type: 'stop', reason: 'every chip of the reel has been through the line' });
    }
  };

  /** A chip back from a station without a profile: to another station, or given up. */
  const moveOn = (c: Chip, from: string, why: string) => {
    c.tries++;
    // The world has 1 + spares BPPs (one-time keys) per chip: one try per key.
    if (c.tries > 1 + world.spares) {
      result.failed.push(c.eid);
      o.log(`chip ${c.eid} set aside after ${c.tries} tries (${why})`);
      return;
    }
    c.avoid = o.stations > 1 ? from : undefined;
    queue.unshift(c);
    result.moves++;
    o.log(`chip ${c.eid} moves from ${from} to another station (${why})`);
  };

  const onMessage = (s: StationProc, m: ChildMessage) => {
    o.onMessage?.(s.id, m);
    switch (m.type) {
      case 'ready':
        s.ready = true;
        s.slots = new Map(m.slots.map((id) => [id, undefined]));
        o.log(`${s.id}: started (${m.slots.length} slots)`);
        // Chips are fed once every station is up (the first start), so all start together.
        if (allReadyAt === undefined && stations.every((x) => x.ready)) allReadyAt = performance.now();
        if (allReadyAt !== undefined) fillAll();
        break;
      case 'warning':
        o.log(`${s.id}: ${m.code}: ${m.message}`);
        break;
      case 'failed':
        o.log(`${s.id}: could not start: ${m.message}`);
        finish(new SimLineError('SIM_LINE_STATION_FAILED', `station ${s.id} failed: ${m.message}`, { hint: `its folder: ${s.dir}` }));
        break;
      case 'unit.done': {
        const c = s.slots.get(m.slot);
        if (!c) break;
        s.slots.set(m.slot, undefined);
        send(s, { type: 'remove', slot: m.slot });
        if (m.outcome === 'installed' || m.outcome === 'already-provisioned') {
          result.installed++;
          result.perStation[s.id]!++;
          o.log(`${s.id}/${m.slot}: ${c.eid} ${m.outcome} (${settled()}/${total})`);
        } else moveOn(c, s.id, `${m.outcome} at ${s.id}`);
        checkDone();
        // The next chip after the handling time a person needs (scaled; at least a tick).
        setTimeout(fillAll, Math.round(300 * o.timeScale));
        break;
      }
      default:
        break;
    }
  };

  const launch = (s: StationProc) => {
    s.ready = false;
    const child = spawn(process.execPath, [...nodeArgs(CHILD), JSON.stringify({ config: join(s.dir, 'station.json'), reel, stateDir, timing, timeScale: o.timeScale })], {
      cwd: s.dir,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    s.child = child;
    child.on('message', (m) => onMessage(s, m as ChildMessage));
    child.once('exit', (code, signal) => {
      if (s.child !== child) return;
      s.child = undefined;
      s.ready = false;
      if (s.stopping) {
        if (stations.every((x) => !x.child)) finish();
        return;
      }
      // Died with chips in its sockets: they go to other stations, unsettled; the station comes back.
      o.log(`${s.id}: process ended (${signal ?? `exit ${code}`}) with ${[...s.slots.values()].filter(Boolean).length} chips in its sockets; restarting it`);
      for (const [slot, c] of s.slots) {
        if (c) moveOn(c, s.id, `station ${s.id} died during the attempt`);
        s.slots.set(slot, undefined);
      }
      result.restarts++;
      fillAll();
      if (code !== 0 || signal) launch(s);
    });
  };

  const finish = (e?: Error) => {
    if (e) {
      finished = true;
      for (const s of stations) {
        s.stopping = true;
        s.child?.kill('SIGTERM');
      }
      rejectDone(e);
      return;
    }
    result.elapsedMs = performance.now() - t0;
    resolveDone(result);
  };

  if (total <= 0) {
    queueMicrotask(() => rejectDone(new SimLineError('SIM_LINE_USED_UP', `every chip of the world in ${dir} has been through the line (${end} chips)`, { hint: 'use another --world folder (a new world is built there)' })));
  } else {
    for (const s of stations) launch(s);
  }
  return {
    stationIds: stations.map((s) => s.id),
    kill(id) {
      const s = stations.find((x) => x.id === id);
      s?.child?.kill('SIGKILL');
    },
    stop() {
      if (finished) return;
      finished = true;
      for (const s of stations) {
        s.stopping = true;
        send(s, { type: 'stop', reason: 'the line was stopped' });
      }
    },
    done,
  };
}
