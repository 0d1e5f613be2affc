/**
 * `ifpp sim world`: everything a station demo needs, in one folder. The simulated EUM makes U
 * chips with 1+K one-time keys, the simulated SM-DPf binds 1+K BPPs per chip (a load that burnt
 * its key can be retried with a spare), and a station file wires N slots to simulated bridges
 * and the virtual jig board. `ifpp sim up` (run-world.ts) then brings the hardware to life.
 *
 *   DIR/world.json          what was made (world-files.ts); written last: no world.json, no world
 *   DIR/station.json        the station config (validated with the station's own validator)
 *   DIR/eum/                euicc-data.ndjson (public), reel.ndjson (chip secrets), pki/, smdpf/
 *   DIR/batch/              the Esbpp batch: manifest.json, bpps-0000.bin, index.ndjson
 *   DIR/chips/              chip state (<eid>.json) and the feeder position, at run time
 *   DIR/dev/                pty symlinks jig, bridge0.. while the world runs
 *   DIR/station/            store, journal and reports of the station
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { CurveName } from '../../core/crypto/curves.ts';
import { formatProblem, validateStationConfig } from '../../station/config/validate.ts';
import { createEumWorld } from '../eum/eum-tool.ts';
import { writeEumWorld } from '../eum/write-eum.ts';
import { TEST_EID_PREFIX } from '../pki/issue.ts';
import { ts48ProfilePaths } from '../shared-testdata.ts';
import { bindBatch, INDEX_FILE } from '../smdpf/bind-batch.ts';
import { defaultIdentityPaths, loadSmdpfIdentity } from '../smdpf/identity.ts';
import { loadProfileSource } from '../smdpf/profile-source.ts';
import { cardModelMs } from './card-time.ts';
import { WorldError } from './errors.ts';
import { planStation } from './station-layout.ts';
import { readWorld, runningWorldPid, WORLD_FORMAT, WORLD_PATHS, type WorldDescription, type WorldKind } from './world-files.ts';

export const DEFAULT_ICCID_START = '894944999999000001';
/** Base closing time of the simulated clamp (closed sensor after the clamp output), ms. */
const CLAMP_MS = 250;

export interface BuildWorldOptions {
  out: string;
  slots: number;
  units: number;
  /** Default panel-jig. */
  kind?: WorldKind;
  /** Default nist. */
  curve?: CurveName;
  /** "synthetic[:BYTES]" or a SAIP DER file; default a TS.48 profile from ../shared, else synthetic. */
  profile?: string;
  /** Spare one-time keys (and BPPs) per chip; default 1. */
  spares?: number;
  /** The chip's own time for one load at time scale 1, ms; default what the card model gives. */
  cardMs?: number;
  /** 0 = at once, 1 = real time (default). */
  timeScale?: number;
  /** Replace a world already in `out`. */
  force?: boolean;
  name?: string;
  iccidStart?: string;
  onProgress?: (what: 'chips' | 'BPPs', done: number, total: number) => void;
}

export interface BuiltWorld {
  dir: string;
  world: WorldDescription;
  /** Absolute path of station.json. */
  stationFile: string;
  elapsedMs: number;
}

const MAX_SPARES = 63;

function checkOptions(o: BuildWorldOptions): void {
  const whole = (v: number, name: string, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new WorldError('WORLD_BAD_OPTION', `${name} must be a whole number ${min}..${max}, got ${v}`);
  };
  whole(o.slots, 'slots', 1);
  whole(o.units, 'units', 1);
  if (o.spares !== undefined) whole(o.spares, 'spares', 0, MAX_SPARES);
  if (o.timeScale !== undefined && !(o.timeScale >= 0 && Number.isFinite(o.timeScale))) throw new WorldError('WORLD_BAD_OPTION', `time scale must be a number >= 0, got ${o.timeScale}`);
  if (o.cardMs !== undefined && !(o.cardMs >= 0 && Number.isFinite(o.cardMs))) throw new WorldError('WORLD_BAD_OPTION', `card time must be a number of ms >= 0, got ${o.cardMs}`);
}

/** What a world (or an interrupted build) puts in its folder; --force removes these and nothing else. */
const WORLD_ENTRIES = [WORLD_PATHS.world, WORLD_PATHS.station, WORLD_PATHS.eum, WORLD_PATHS.batch, `${WORLD_PATHS.batch}.partial`, WORLD_PATHS.chipState, WORLD_PATHS.devices, WORLD_PATHS.stationData];

function clearWorld(dir: string): void {
  for (const p of WORLD_ENTRIES) rmSync(join(dir, p), { recursive: true, force: true });
}

/**
 * Moves a whole world folder (chips, batch, and the station's store, journal and reports) to
 * `<parent>/<name>-archive/<time>/`, where its station.json still works (its paths are relative
 * to it): `ifpp report --config <archive>/station.json` reports that run. Returns the archive.
 */
export function archiveWorld(dir: string, now = new Date()): string {
  const abs = resolve(dir);
  const pid = runningWorldPid(abs);
  if (pid !== undefined) throw new WorldError('WORLD_RUNNING', `the world in ${abs} is running (pid ${pid})`, { hint: 'stop `ifpp sim up` first' });
  const parent = join(dirname(abs), `${basename(abs)}-archive`);
  mkdirSync(parent, { recursive: true });
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  let to = join(parent, stamp);
  for (let n = 2; existsSync(to); n++) to = join(parent, `${stamp}-${n}`);
  renameSync(abs, to);
  return to;
}

function validated(config: object, file: string, dir: string): void {
  const { problems } = validateStationConfig(config, { file, dir });
  if (problems.length > 0) {
    throw new WorldError('WORLD_CONFIG_INVALID', `the generated station config does not validate:\n${problems.map(formatProblem).join('\n')}`, {
      hint: 'a bug in the world builder (station-layout.ts): the station would refuse this file',
      details: { problems },
    });
  }
}

export async function buildWorld(o: BuildWorldOptions): Promise<BuiltWorld> {
  const t0 = performance.now();
  checkOptions(o);
  const dir = resolve(o.out);
  const kind = o.kind ?? 'panel-jig';
  const spares = o.spares ?? 1;
  const timeScale = o.timeScale ?? 1;
  const stationFile = join(dir, WORLD_PATHS.station);

  const pid = runningWorldPid(dir);
  if (pid !== undefined) throw new WorldError('WORLD_RUNNING', `the world in ${dir} is running (pid ${pid})`, { hint: 'stop `ifpp sim up` first' });
  const ours = WORLD_ENTRIES.filter((p) => existsSync(join(dir, p)));
  if (ours.length > 0 && !o.force) {
    const complete = ours.includes(WORLD_PATHS.world);
    throw new WorldError('WORLD_EXISTS', complete ? `${dir} already holds a simulated world` : `${dir} holds parts of a simulated world (${ours.join(', ')}): an interrupted build?`, {
      hint: complete
        ? `run it with \`ifpp sim up --world ${o.out}\`, or pass --force to replace it (its chips, batch, store and journal go)`
        : 'pass --force to replace them, or choose another --out folder',
    });
  }
  clearWorld(dir);

  // The station file first, so a layout the station would refuse fails before minutes of binding.
  const simulation = {
    world: '.',
    reel: WORLD_PATHS.reel,
    euiccData: WORLD_PATHS.euiccData,
    batch: WORLD_PATHS.batch,
    chipState: WORLD_PATHS.chipState,
    timeScale,
    cardMs: o.cardMs ?? 0,
    units: o.units,
  };
  const plan = planStation({ kind, slots: o.slots, maxAttemptsPerChip: 1 + spares, simulation, ...(o.name !== undefined ? { name: o.name } : {}) });
  validated(plan.config, stationFile, dir);

  mkdirSync(dir, { recursive: true });
  const eum = createEumWorld({ euiccs: o.units, otks: 1 + spares, curve: o.curve ?? 'nist' });
  const written = writeEumWorld(eum, join(dir, WORLD_PATHS.eum), { onProgress: (d, t) => o.onProgress?.('chips', d, t) });

  const profileSpec = o.profile ?? ts48ProfilePaths()[0] ?? 'synthetic';
  const profile = loadProfileSource(profileSpec);
  const iccidStart = o.iccidStart ?? DEFAULT_ICCID_START;
  const bound = await bindBatch({
    euiccData: written.euiccData,
    profile,
    dp: loadSmdpfIdentity(defaultIdentityPaths(written.euiccData)),
    out: join(dir, WORLD_PATHS.batch),
    perEuicc: 1 + spares,
    iccidStart,
    onProgress: (d, t) => o.onProgress?.('BPPs', d, t),
  });
  const bytes = bound.files.filter((f) => f.name !== INDEX_FILE).reduce((n, f) => n + f.bytes, 0);
  const avgBppBytes = Math.round(bytes / bound.count);
  const modelMs = Math.round(cardModelMs(avgBppBytes));
  const cardMs = o.cardMs ?? modelMs;
  simulation.cardMs = cardMs;
  mkdirSync(join(dir, WORLD_PATHS.chipState), { recursive: true });

  const world: WorldDescription = {
    format: WORLD_FORMAT,
    createdAt: new Date().toISOString(),
    kind,
    slots: o.slots,
    units: o.units,
    spares,
    curve: eum.curve,
    profile: { source: profile.label, bytes: profile.summary.bytes, iccidStart },
    eids: { prefix: TEST_EID_PREFIX, firstSerial: '1', count: o.units, first: eum.eidAt(0), last: eum.eidAt(o.units - 1) },
    files: {
      station: WORLD_PATHS.station,
      euiccData: WORLD_PATHS.euiccData,
      reel: WORLD_PATHS.reel,
      smdpf: `${WORLD_PATHS.eum}/smdpf`,
      batch: WORLD_PATHS.batch,
      chipState: WORLD_PATHS.chipState,
      devices: WORLD_PATHS.devices,
    },
    devices: {
      board: { link: plan.board.link, digitalPins: plan.board.digitalPins, analogPins: plan.board.analogPins, model: plan.board.model },
      bridges: plan.bridges,
    },
    slotPins: plan.slotPins,
    batch: { batchId: bound.batchId, count: bound.count, bytes, avgBppBytes, bindMs: Math.round(bound.elapsedMs), bppsPerSecond: Math.round(bound.bppsPerSecond) },
    eum: { chips: written.chips, oneTimeKeys: 1 + spares, ms: Math.round(written.elapsedMs) },
    timeScale,
    cardMs,
    cardModelMs: modelMs,
    clampMs: CLAMP_MS,
  };
  validated(plan.config, stationFile, dir);
  writeFileSync(stationFile, JSON.stringify(plan.config, null, 2) + '\n');
  writeFileSync(join(dir, WORLD_PATHS.world), JSON.stringify(world, null, 2) + '\n');
  return { dir, world, stationFile, elapsedMs: performance.now() - t0 };
}

/**
 * The world in `o.out` if there is one (whatever its size), else a new one built with `o`:
 * what `npm start` needs on a fresh clone.
 */
export async function ensureWorld(o: BuildWorldOptions): Promise<BuiltWorld & { built: boolean }> {
  if (existsSync(join(resolve(o.out), WORLD_PATHS.world))) {
    const { dir, world } = readWorld(o.out);
    return { dir, world, stationFile: join(dir, world.files.station), elapsedMs: 0, built: false };
  }
  return { ...(await buildWorld(o)), built: true };
}
