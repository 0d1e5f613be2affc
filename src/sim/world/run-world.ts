/**
 * Runs a simulated world (what `ifpp sim up` does): one bridge process per bridge of the
 * station file, with simulated eUICCs from the world's reel in its slots, the virtual jig
 * board with the clamp's closed sensor following the clamp output, every input at its idle
 * level, and the automatic operator (operator.ts) feeding the reel. The station then opens
 * DIR/dev/jig and DIR/dev/bridgeN as it would open real devices.
 *
 * Chips keep their state in DIR/chips/<eid>.json (burnt keys, installed profiles), and the
 * reel position in DIR/chips/feeder.json, so a restarted world goes on with fresh chips.
 */
import { EventEmitter } from 'node:events';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEid } from '../../core/rsp/eid.ts';
import { spawnBridgeProcess, type ControlReply, type SpawnedBridge } from '../bridge/bridge-process.ts';
import { moduleFile } from '../node-entry.ts';
import { spawnBoardProcess, type BoardChild } from './board-child.ts';
import { timingFor } from './card-time.ts';
import { WorldError } from './errors.ts';
import { Operator, type OperatorFaults } from './operator.ts';
import { readWiring, type SlotWiring, type Wiring } from './wiring.ts';
import { readWorld, runningWorldPid, WORLD_PATHS, type WorldDescription } from './world-files.ts';

const CARD_FACTORY = moduleFile('../euicc/card-factory.ts', import.meta.url);

export interface OperatorSettings {
  /** Time to swap a panel or a DUT at time scale 1, ms (default 300; scaled by the time scale). */
  handlingMs?: number;
  /** Start buttons held, ms (default 200; not scaled: the station must see the press). */
  pressHoldMs?: number;
  /** Press start again after this long without the clamp closing, ms (default 3000). */
  repressMs?: number;
  seed?: number;
  faults?: OperatorFaults;
}

export interface StartWorldOptions {
  /** Overrides the world's time scale (0 = at once, 1 = real time). */
  timeScale?: number;
  /** false: no automatic operator (the first panel is still loaded; nothing is pressed). */
  operator?: false | OperatorSettings;
  /** Feed from the reel's first chip again instead of where the last run stopped. */
  fromStart?: boolean;
  /** Per child process, ms (default 20000). */
  readyTimeoutMs?: number;
}

export interface WorldBridge {
  id: string;
  slots: number;
  /** Absolute symlink path (what station.json names). */
  link: string;
  /** The pty behind it. */
  path: string;
  /** A bridge control command (bridge-process.ts); rejects when the bridge refuses it or is gone. */
  control(cmd: string): Promise<ControlReply & { ok: true }>;
  process: SpawnedBridge;
}

export interface WorldHandleEvents {
  /** A child process ended while the world was running. */
  exit: [what: string, code: number | null];
}

export interface WorldHandle extends EventEmitter<WorldHandleEvents> {
  dir: string;
  world: WorldDescription;
  stationFile: string;
  wiring: Wiring;
  timeScale: number;
  bridges: WorldBridge[];
  board: BoardChild & { link: string };
  /** Present unless `operator: false`; starts right after startWorld resolves. */
  operator: Operator | undefined;
  /** Stops the operator and every process; the device links disappear. */
  close(): Promise<void>;
}

function eidMaker(world: WorldDescription): (i: number) => string {
  const { prefix, firstSerial, count, first, last } = world.eids;
  const digits = 30 - prefix.length;
  const at = (i: number) => makeEid(prefix + String(BigInt(firstSerial) + BigInt(i)).padStart(digits, '0'));
  if (at(0) !== first || at(count - 1) !== last) {
    throw new WorldError('WORLD_EIDS', `world.json: the EIDs ${first} .. ${last} do not follow from prefix ${prefix} and serial ${firstSerial}`, { hint: 'rebuild the world' });
  }
  return at;
}

/** How many chips of the world's reel the operator has fed so far. */
export function readFeeder(dir: string): number {
  try {
    const n = (JSON.parse(readFileSync(join(dir, WORLD_PATHS.feeder), 'utf8')) as { next?: unknown }).next;
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

function removeLink(path: string): void {
  try {
    if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
  } catch {
    // already gone
  }
}

function wrapBridge(id: string, link: string, p: SpawnedBridge): WorldBridge {
  p.child.stdin.on('error', () => undefined); // a dead bridge shows up as 'exit'
  const gone = new Promise<never>((_, reject) => p.child.once('exit', () => reject(new WorldError('WORLD_BRIDGE_GONE', `bridge ${id} has exited`))));
  gone.catch(() => undefined);
  return {
    id,
    slots: p.ready.slots,
    link,
    path: p.ready.path,
    process: p,
    async control(cmd) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) throw new WorldError('WORLD_BRIDGE_GONE', `bridge ${id} has exited`);
      const r = await Promise.race([p.control(cmd), gone]);
      if (!r.ok) throw new WorldError('WORLD_BRIDGE_CONTROL', `bridge ${id}: "${cmd.split(' ').slice(0, 2).join(' ')}" refused: ${r.error}`);
      return r;
    },
  };
}

export async function startWorld(worldDir: string, opts: StartWorldOptions = {}): Promise<WorldHandle> {
  const { dir, world } = readWorld(worldDir);
  const stationFile = join(dir, world.files.station);
  const wiring = readWiring(stationFile);
  const timeScale = opts.timeScale ?? world.timeScale;
  const eidAt = eidMaker(world);
  const reel = join(dir, world.files.reel);
  const stateDir = join(dir, world.files.chipState);
  const devDir = join(dir, world.files.devices);
  const timing = timingFor(world.cardMs, world.batch.avgBppBytes);

  const other = runningWorldPid(dir);
  if (other !== undefined) throw new WorldError('WORLD_RUNNING', `the world in ${dir} is already running (pid ${other})`, { hint: 'stop that `ifpp sim up` first, or use another world' });
  mkdirSync(devDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const pidFile = join(dir, WORLD_PATHS.pid);
  writeFileSync(pidFile, `${process.pid}\n`);

  const settings = opts.operator === false ? {} : (opts.operator ?? {});
  const start = opts.fromStart ? 0 : Math.min(readFeeder(dir), world.units);
  let bridgeList: WorldBridge[] = [];
  let board: BoardChild | undefined;
  const bridgeOf = (slot: SlotWiring): WorldBridge => {
    const b = bridgeList.find((x) => x.id === slot.bridge);
    if (!b) throw new WorldError('WORLD_WIRING', `slot ${slot.id} names bridge ${slot.bridge}, which the world does not run`);
    return b;
  };
  const cardOptions = (eid: string, faults?: Record<string, unknown>) => ({ reel, stateDir, eid, timing, ...(faults ? { faults } : {}) });

  const operator = new Operator(
    {
      setInput: (pin, level) => board?.setInput(pin, level),
      output: (pin) => board?.outputs.get(pin),
      onOutput: (fn) => {
        board?.on('output', fn);
        return () => board?.off('output', fn);
      },
      insertCard: async (slot, eid, faults) => {
        await bridgeOf(slot).control(`insert ${slot.channel} ${JSON.stringify(cardOptions(eid, faults))}`);
      },
      removeCard: async (slot) => {
        await bridgeOf(slot).control(`remove ${slot.channel}`);
      },
    },
    {
      wiring,
      eidAt,
      next: start,
      end: world.units,
      handlingMs: (settings.handlingMs ?? 300) * timeScale,
      ...(settings.pressHoldMs !== undefined ? { pressHoldMs: settings.pressHoldMs } : {}),
      ...(settings.repressMs !== undefined ? { repressMs: settings.repressMs } : {}),
      seed: settings.seed ?? (Date.now() & 0x7fffffff),
      ...(settings.faults ? { faults: settings.faults } : {}),
      // A unit costs about the chip's time plus as much again on the contacts.
      unitMs: 2 * world.cardMs * timeScale,
    },
  );
  operator.on('fed', (next) => writeFileSync(join(dir, WORLD_PATHS.feeder), JSON.stringify({ next }) + '\n'));

  // Which chip sits in which bridge channel when the bridges start.
  const initial = operator.initialCards();
  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  const clamp = wiring.clamp;
  const boardArgs = [
    '--link', join(dir, world.devices.board.link),
    '--digital', String(world.devices.board.digitalPins),
    '--analog', String(world.devices.board.analogPins),
    ...(clamp ? ['--follow', `${clamp.output.pin}:${clamp.closedSensor.pin}:${Math.round(world.clampMs * timeScale)}${clamp.output.activeLow !== clamp.closedSensor.activeLow ? ':invert' : ''}`] : []),
  ];
  const started: Promise<unknown>[] = [];
  const boardP = spawnBoardProcess(boardArgs, readyTimeoutMs);
  started.push(boardP);
  const bridgePs = world.devices.bridges.map((b) => {
    const link = join(dir, b.link);
    const byChannel: (object | null)[] = Array.from({ length: b.slots }, () => null);
    for (const c of initial) if (c.slot.bridge === b.id) byChannel[c.slot.channel] = cardOptions(c.eid, c.faults);
    const p = spawnBridgeProcess(
      ['--slots', String(b.slots), '--link', link, '--time-scale', String(timeScale), '--card-module', CARD_FACTORY, '--card-options', JSON.stringify(byChannel)],
      readyTimeoutMs,
    ).then((sp) => wrapBridge(b.id, link, sp));
    started.push(p);
    return p;
  });

  const settled = await Promise.allSettled(started);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const okBridges = (await Promise.allSettled(bridgePs)).flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const okBoard = await boardP.catch(() => undefined);
  const links = [join(dir, world.devices.board.link), ...world.devices.bridges.map((b) => join(dir, b.link))];
  const teardown = async () => {
    operator.stop();
    await Promise.all([...okBridges.map((b) => b.process.stop()), okBoard?.stop()]);
    for (const l of links) removeLink(l);
    if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(process.pid)) rmSync(pidFile, { force: true });
  };
  if (failed) {
    await teardown();
    throw failed.reason;
  }
  bridgeList = okBridges;
  board = okBoard!;

  const handle = new EventEmitter<WorldHandleEvents>() as WorldHandle;
  let closing: Promise<void> | undefined;
  Object.assign(handle, {
    dir,
    world,
    stationFile,
    wiring,
    timeScale,
    bridges: bridgeList,
    board: Object.assign(board, { link: links[0]! }),
    operator: opts.operator === false ? undefined : operator,
    close: () => (closing ??= teardown()),
  });
  for (const b of bridgeList) b.process.child.once('exit', (code) => closing || handle.emit('exit', `bridge ${b.id}`, code));
  board.once('exit', (code) => closing || handle.emit('exit', 'jig board', code));

  operator.placeInitial();
  // Started on the next turn, so the caller can listen to the operator's first words.
  if (opts.operator !== false) setImmediate(() => operator.start());
  return handle;
}
