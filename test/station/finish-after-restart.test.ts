/**
 * A station stopped right after the chip's PIR was journaled, before the finish stage: the
 * restart settles the unit `installed` from that PIR, and the chip, still in its socket or seen
 * later in another slot (after a restart that did not see it), gets the finish stage it missed:
 * spare keys deleted and FPA services closed, journaled (unit.finished), never loaded again.
 * Real station on in-process slots; the stop is the journal ending after pir.received.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { miniFactory } from '../helpers/mini-factory.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { simHardware } from '../../src/sim/inprocess/sim-hardware.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import type { StationConfig } from '../../src/station/config/schema.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { EuiccStore } from '../../src/station/euicc-data/euicc-store.ts';
import { loadDialect } from '../../src/station/fpa/dialect-loader.ts';
import { LocalInventory } from '../../src/station/inventory/local-inventory.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { journalPath } from '../../src/station/journal/paths.ts';
import { EuiccTrust } from '../../src/station/orchestrator/euicc-trust.ts';
import { Station } from '../../src/station/orchestrator/station.ts';
import { runUnit } from '../../src/station/orchestrator/unit-runner.ts';
import { unitPolicyFor } from '../../src/station/orchestrator/unit-policy.ts';
import { accountUnits } from '../../src/station/report/accounting.ts';
import { BppStore } from '../../src/station/store/bpp-store.ts';
import { NotificationEvent } from '../../src/core/rsp/pir.ts';

let factory: { dir: string; eids: string[] };
beforeAll(async () => {
  const f = await miniFactory({ chips: 1, keys: 2, perEuicc: 2 });
  f.close();
  factory = { dir: f.dir, eids: f.eids };
}, 120_000);

async function world(): Promise<{ config: StationConfig; reel: string; stateDir: string; eid: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'ifpp-finish-restart-')), 'w');
  cpSync(factory.dir, dir, { recursive: true });
  writeFileSync(
    join(dir, 'station.json'),
    JSON.stringify({
      name: 'finish-restart',
      kind: 'socket-programmer',
      store: 'store',
      journal: 'journal',
      reports: 'reports',
      bridges: [{ id: 'b0', port: 'bridge0', slots: 2 }],
      slots: [1, 2].map((n) => ({ id: `S${n}`, bridge: 'b0', channel: n - 1, row: 1, col: n })),
    }),
  );
  return { config: await requireConfig(join(dir, 'station.json')), reel: join(dir, 'eum', 'reel.ndjson'), stateDir: join(dir, 'chips'), eid: factory.eids[0]! };
}

type World = Awaited<ReturnType<typeof world>>;
const chip = (w: World) => euiccCardFromReel({ reel: w.reel, eid: w.eid, stateDir: w.stateDir }, 0);

/** Loads the chip in S1 and stops the station once pir.received is on disk (nothing after it is). */
async function stopAfterPirJournaled(w: World): Promise<void> {
  const { journal } = await Journal.open(journalPath(w.config));
  const store = BppStore.open(w.config.store);
  const euicc = EuiccStore.open(w.config.store);
  const sim = simHardware(w.config);
  sim.slots.get('S1')!.insertCard(await chip(w));
  let stopped!: () => void;
  const gone = new Promise<void>((r) => (stopped = r));
  let dead = false;
  const append = journal.append.bind(journal);
  journal.append = (async (type, fields) => {
    if (dead) return new Promise(() => undefined);
    const r = await append(type, fields);
    if (type === 'pir.received') {
      dead = true;
      stopped();
      return new Promise(() => undefined);
    }
    return r;
  }) as typeof journal.append;
  const policy = unitPolicyFor(w.config, await loadDialect(w.config.loading.dialect));
  void runUnit(sim.slots.get('S1')!, { inventory: new LocalInventory(store), trust: new EuiccTrust(euicc), journal, bus: new EventBus(), policy, signal: new AbortController().signal });
  await gone;
  await journal.close();
  store.close();
  euicc.close();
}

/** Starts the station with the chip in `slot` (or none), runs its unit, stops. */
async function start(w: World, slot: string | undefined): Promise<StationEvent[]> {
  const sim = simHardware(w.config);
  if (slot) sim.slots.get(slot)!.insertCard(await chip(w));
  const bus = new EventBus();
  const events: StationEvent[] = [];
  bus.on((e) => void events.push(e));
  const station = await Station.open(w.config, { bus, hardware: sim.hardware });
  if (slot) await station.run({ units: 1 });
  await station.close();
  return events;
}

describe('a unit settled installed at a restart from its journaled PIR gets its finish stage when its chip is seen', () => {
  it.each([
    ['still in its socket at the restart', ['S1']],
    ['seen in another slot after a restart without it', [undefined, 'S2']],
  ] as const)('%s', async (_, starts) => {
    const w = await world();
    await stopAfterPirJournaled(w);
    expect((await chip(w)).chip.state.keys.filter((k) => k.state === 'unused')).toHaveLength(1);
    let events: StationEvent[] = [];
    for (const slot of starts) events = await start(w, slot);

    // Finished: the spare key deleted, FPA services closed; the chip was not loaded again.
    const state = (await chip(w)).chip.state;
    expect(state.profiles).toHaveLength(1);
    expect(state.keys.filter((k) => k.state === 'unused')).toEqual([]);
    expect(state.fpaServices).toBe('closed');
    // Finishing leaves the install notification on the chip (docs/protocol.md): still the signed proof.
    expect(state.notifications?.map((n) => n.event)).toEqual([NotificationEvent.notificationInstall]);
    expect(events.find((e) => e.type === 'slot.result')).toMatchObject({ outcome: 'already-provisioned' });

    const { records } = await Journal.read(journalPath(w.config));
    const acc = accountUnits(records);
    expect(acc.anomalies).toEqual([]);
    const installed = acc.units.filter((u) => u.status === 'installed');
    expect(installed).toHaveLength(1);
    expect(installed[0]).toMatchObject({ eid: w.eid, settledBy: 'reconciled', finished: true, pir: { verified: true, installed: true } });
    // Finished only after the PIR was on disk, and once.
    const seqOf = (type: string) => records.filter((r) => r.type === type && r.unit === installed[0]!.unit).map((r) => r.seq);
    expect(seqOf('unit.finished')).toHaveLength(1);
    expect(seqOf('unit.finished')[0]!).toBeGreaterThan(seqOf('pir.received')[0]!);
  });
});
