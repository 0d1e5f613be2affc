/**
 * After a crash, prove what happened: a station process is killed with SIGKILL at an exact
 * point of a load (right after the last segment, or with the PIR in hand before it is
 * journaled), on a panel jig and on a 4-socket programmer with no operator. The restarted
 * station asks the chips, still in their sockets or seen later in other ones, or on the repair
 * bench, for their signed results: every chip ends with exactly one profile, every unit that
 * installed one is settled `installed` with a PIR the station verified in the Profile Loading
 * Report, and no BPP was pushed twice.
 *
 * The killed process is the real station (test/helpers/crash-station-child.ts) on in-process
 * slots: the transport is not under test here. Which load dies comes from a seeded generator;
 * the seed is logged (replay with IFPP_CRASH_SEED).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { miniFactory } from '../helpers/mini-factory.ts';
import { mulberry32 } from '../../src/sim/seeded-random.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { simHardware } from '../../src/sim/inprocess/sim-hardware.ts';
import { T0ApduChannel } from '../../src/transport/card/t0-apdu.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import type { StationConfig } from '../../src/station/config/schema.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { FpaClient } from '../../src/station/fpa/fpa-client.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { Station } from '../../src/station/orchestrator/station.ts';
import { settleOnBench } from '../../src/station/bench/settle-on-bench.ts';
import { accountUnits, type UnitAccount } from '../../src/station/report/accounting.ts';
import { plrEntry } from '../../src/station/report/plr.ts';

const ROOT = resolve(import.meta.dirname, '../..');
// Compiled (dist/, built by the global setup): a TypeScript transform costs seconds per start.
const CHILD = join(ROOT, 'test/helpers/crash-station-child.mjs');
const SEED = Number(process.env.IFPP_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = mulberry32(SEED);
console.info(`crash-recovery: which load dies comes from seed ${SEED} (replay with IFPP_CRASH_SEED=${SEED})`);

type Kind = 'panel-jig' | 'socket-programmer';
type KillAt = 'last-segment' | 'pir-before-journal';
const SLOTS = 4;

interface World {
  dir: string;
  reel: string;
  eids: string[];
  config: StationConfig;
  stateDir: string;
}

/** One factory (EUM data, reel, a batch imported into a store), copied afresh for each test. */
let factory: { dir: string; eids: string[] };
beforeAll(async () => {
  const f = await miniFactory({ chips: SLOTS, keys: 2, perEuicc: 2 });
  f.close();
  factory = { dir: f.dir, eids: f.eids };
}, 120_000);

async function world(kind: Kind): Promise<World> {
  const dir = join(mkdtempSync(join(tmpdir(), 'ifpp-crash-')), 'w');
  cpSync(factory.dir, dir, { recursive: true });
  const cfgPath = join(dir, 'station.json');
  const slots = Array.from({ length: SLOTS }, (_, i) => ({ id: `S${i + 1}`, bridge: 'b0', channel: i, row: 1, col: i + 1 }));
  writeFileSync(
    cfgPath,
    JSON.stringify({
      format: 'ifpp-station/1',
      name: `crash-${kind}`,
      kind,
      store: 'store',
      journal: 'journal',
      reports: 'reports',
      // A panel has its board (pins as on the simulated jig; the in-process jig is injected); the programmer has none.
      ...(kind === 'panel-jig' ? { board: JSON.parse(readFileSync(join(ROOT, 'fixtures-config/sim-jig-8.json'), 'utf8')).board } : {}),
      bridges: [{ id: 'b0', port: 'bridge0', slots: SLOTS }],
      slots,
    }),
  );
  return { dir, reel: join(dir, 'eum', 'reel.ndjson'), eids: factory.eids, config: await requireConfig(cfgPath), stateDir: join(dir, 'chips') };
}

/** Runs the station in a child process that SIGKILLs itself at the `killOn`-th load reaching `killAt`. */
async function crash(w: World, killAt: KillAt, killOn: number): Promise<void> {
  const args = { config: w.config.source.file, reel: w.reel, stateDir: w.stateDir, eids: w.eids, killAt, killOn };
  const child = spawn(process.execPath, [CHILD, JSON.stringify(args)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (c, s) => r([c, s])));
  expect({ code, signal, stderr: signal ? '' : stderr }).toEqual({ code: null, signal: 'SIGKILL', stderr: '' });
}

const chip = (w: World, eid: string) => euiccCardFromReel({ reel: w.reel, eid, stateDir: w.stateDir }, 0);

/** Restarts the station with chip i in socket place(i), runs until each has been handled once. */
async function restart(w: World, place: (i: number) => number): Promise<StationEvent[]> {
  const sim = simHardware(w.config);
  for (const [i, eid] of w.eids.entries()) sim.slots.get(`S${place(i) + 1}`)!.insertCard(await chip(w, eid));
  const bus = new EventBus();
  const events: StationEvent[] = [];
  bus.on((e) => events.push(e));
  const station = await Station.open(w.config, { bus, hardware: sim.hardware });
  sim.jig?.on('prompt', () => setImmediate(() => sim.jig!.pressStart()));
  await station.run({ units: SLOTS });
  await station.close();
  return events;
}

/** Every chip holds exactly one profile, proven by a verified PIR in the PLR; nothing pushed twice. */
async function expectProven(w: World): Promise<UnitAccount[]> {
  const { records } = await Journal.read(join(w.config.journal, 'journal.ndjson'));
  const acc = accountUnits(records);
  expect(acc.open).toEqual([]);
  expect(acc.duplicatesPushed).toEqual([]);
  expect(acc.anomalies).toEqual([]);
  for (const eid of w.eids) {
    expect((await chip(w, eid)).chip.state.profiles.length, `profiles on chip ${eid}`).toBe(1);
    const installed = acc.units.filter((u) => u.eid === eid && u.status === 'installed');
    expect(installed.length, `installed units of chip ${eid}`).toBe(1);
    const e = plrEntry(installed[0]!);
    expect(e.kind).toBe('result');
    expect(e.kind === 'result' && e.entry.pir !== null && e.entry.pirVerifiedByStation).toBe(true);
  }
  expect(acc.units.some((u) => u.status === 'unknown')).toBe(false);
  return acc.units.filter((u) => u.pir?.recovered);
}

describe.each<Kind>(['socket-programmer', 'panel-jig'])('kill -9 mid-load on a %s, restart', (kind) => {
  it.each<KillAt>(['last-segment', 'pir-before-journal'])('killed at %s, chips still in their sockets: each one is proven by its recovered PIR and not loaded again', async (killAt) => {
    const w = await world(kind);
    await crash(w, killAt, 1 + Math.floor(random() * SLOTS));
    const events = await restart(w, (i) => i);
    const recovered = await expectProven(w);
    // The killed load at least: its chip had installed the profile and kept the signed result.
    expect(recovered.length).toBeGreaterThanOrEqual(1);
    const ends = events.filter((e) => e.type === 'slot.result');
    // A recovered chip is never loaded again: it ends as already provisioned.
    for (const u of recovered) expect(ends.find((e) => e.eid === u.eid)?.outcome).toBe('already-provisioned');
  }, 120_000);

  it('killed at the last segment, chips seen again later in other sockets: settled the same way', async () => {
    const w = await world(kind);
    await crash(w, 'last-segment', 1 + Math.floor(random() * SLOTS));
    await restart(w, (i) => (i + 1) % SLOTS);
    const recovered = await expectProven(w);
    expect(recovered.length).toBeGreaterThanOrEqual(1);
    // Seen in another slot than the one that loaded it.
    const { records } = await Journal.read(join(w.config.journal, 'journal.ndjson'));
    for (const u of recovered) {
      const r = records.find((x) => x.type === 'unit.reconciled' && x.unit === u.unit && x.recovered === true)!;
      expect(String(r.how)).toMatch(/recovered from its notification list/);
    }
  }, 120_000);
});

describe('kill -9 mid-load, chip taken to the repair bench', () => {
  it('the bench settles the unit the restart left unknown, from the chip', async () => {
    const w = await world('socket-programmer');
    await crash(w, 'last-segment', 1);
    // The station restarts with empty sockets: the unit whose chip left is unknown.
    const empty = simHardware(w.config);
    const station = await Station.open(w.config, { hardware: empty.hardware });
    await station.close();
    let { records } = await Journal.read(join(w.config.journal, 'journal.ndjson'));
    const unknown = accountUnits(records).units.filter((u) => u.status === 'unknown');
    expect(unknown.length).toBeGreaterThanOrEqual(1);
    for (const u of unknown) {
      // The bench reader: the chip with its own ES10 client (PC/SC itself is tested in bench-pcsc.test.ts).
      const card = await chip(w, u.eid!);
      card.atr('cold');
      const fpa = new FpaClient(new T0ApduChannel({ exchange: async (t) => (await card.transmitTpdu(t)).response }));
      await fpa.selectIsdR();
      const settled = await settleOnBench(w.config, fpa, u.eid!, 'bench reader "test"');
      expect(settled.map((s) => s.unit)).toEqual([u.unit]);
    }
    ({ records } = await Journal.read(join(w.config.journal, 'journal.ndjson')));
    const after = accountUnits(records).units.filter((u) => unknown.some((x) => x.unit === u.unit));
    // Each chip that finished its load is proven by its PIR; one cut off mid-load has no profile.
    for (const u of after) {
      const profiles = (await chip(w, u.eid!)).chip.state.profiles.length;
      if (profiles === 1) {
        expect(u).toMatchObject({ status: 'installed', pir: { verified: true, recovered: true } });
      } else {
        // Cut off before BF23 reached it (key unused) or mid-load (key consumed, nothing installed).
        expect(['failed-before-secure-channel', 'failed-key-burnt']).toContain(u.status);
      }
    }
    expect(after.some((u) => u.status === 'installed')).toBe(true);
    // A second look finds nothing left to settle.
    const card = await chip(w, unknown[0]!.eid!);
    card.atr('cold');
    const fpa = new FpaClient(new T0ApduChannel({ exchange: async (t) => (await card.transmitTpdu(t)).response }));
    expect(await settleOnBench(w.config, fpa, unknown[0]!.eid!, 'bench')).toEqual([]);
  }, 120_000);
});
