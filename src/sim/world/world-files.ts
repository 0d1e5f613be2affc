/**
 * What a simulated world folder holds (`ifpp sim world` writes it, `ifpp sim up` runs it) and
 * its description file, world.json. Paths inside world.json are relative to the world folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CurveName } from '../../core/crypto/curves.ts';
import { WorldError } from './errors.ts';

export const WORLD_FORMAT = 'ifpp-sim-world/1';
export const WORLD_FILE = 'world.json';
export const STATION_FILE = 'station.json';

/** Entries of a world folder, relative to it (everything `--force` may replace). */
export const WORLD_PATHS = {
  world: WORLD_FILE,
  station: STATION_FILE,
  eum: 'eum',
  euiccData: 'eum/euicc-data.ndjson',
  reel: 'eum/reel.ndjson',
  batch: 'batch',
  chipState: 'chips',
  /** Feeder position: which reel chip comes next, kept across `sim up` runs. */
  feeder: 'chips/feeder.json',
  devices: 'dev',
  /** Pid of the process running the world (guards against two runtimes on one world). */
  pid: 'dev/world.pid',
  stationData: 'station',
} as const;

export type WorldKind = 'panel-jig' | 'socket-programmer';

export interface WorldDescription {
  format: typeof WORLD_FORMAT;
  createdAt: string;
  kind: WorldKind;
  slots: number;
  units: number;
  /** Spare one-time keys (and BPPs) per chip beyond the first. */
  spares: number;
  curve: CurveName;
  profile: { source: string; bytes: number; iccidStart: string };
  /** How the EIDs were made (EUM prefix + serial + check digits), and the first and last. */
  eids: { prefix: string; firstSerial: string; count: number; first: string; last: string };
  files: { station: string; euiccData: string; reel: string; smdpf: string; batch: string; chipState: string; devices: string };
  devices: {
    board: { link: string; digitalPins: number; analogPins: number; model: string };
    bridges: { id: string; link: string; slots: number }[];
  };
  /** Per-slot board pins the layout has room for (fewer on big stations). */
  slotPins: string[];
  batch: { batchId: string; count: number; bytes: number; avgBppBytes: number; bindMs: number; bppsPerSecond: number };
  eum: { chips: number; oneTimeKeys: number; ms: number };
  /** 0 = cards and handling answer at once, 1 = real time. */
  timeScale: number;
  /** The chip's own processing time for one profile load at time scale 1, ms. */
  cardMs: number;
  /** What the default card timing model gives for the batch's average BPP, ms. */
  cardModelMs: number;
  /** Base delay of the clamp's closed sensor after the clamp output, ms (times timeScale). */
  clampMs: number;
}

/** Reads DIR/world.json (DIR may also be the world's station.json). */
export function readWorld(dirOrFile: string): { dir: string; world: WorldDescription } {
  let dir = resolve(dirOrFile);
  if (dir.endsWith('.json') && !existsSync(join(dir, WORLD_FILE))) dir = resolve(dir, '..');
  const file = join(dir, WORLD_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WorldError(code === 'ENOENT' ? 'WORLD_NOT_FOUND' : 'WORLD_UNREADABLE', `${file}: ${code === 'ENOENT' ? 'no simulated world here' : (e as Error).message}`, {
      hint: 'build one with `ifpp sim world --slots 8 --units 64 --out DIR`',
    });
  }
  const w = raw as Partial<WorldDescription>;
  if (w.format !== WORLD_FORMAT) throw new WorldError('WORLD_FORMAT', `${file} is not a ${WORLD_FORMAT} file (format ${JSON.stringify(w.format)})`, { hint: 'rebuild the world with `ifpp sim world --force`' });
  return { dir, world: w as WorldDescription };
}

/** Pid of a live process running the world in `dir`, if any (stale pid files are ignored). */
export function runningWorldPid(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, WORLD_PATHS.pid), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: alive but someone else's.
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}
