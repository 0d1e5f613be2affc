/**
 * A chip that already holds a profile of ours is never given a second one (unless
 * eidPolicy.alreadyProvisioned says "load"): recognised from the inventory by EID, and from
 * the chip's own profile list. A re-fed reel ends with one profile per chip, the second pass
 * reported as already provisioned, no key used and no spare BPP consumed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eidToBytes } from '../../src/core/rsp/eid.ts';
import { DEFAULTS } from '../../src/station/config/schema.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { LocalInventory } from '../../src/station/inventory/local-inventory.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { EuiccTrust } from '../../src/station/orchestrator/euicc-trust.ts';
import { runUnit, type UnitDeps, type UnitPolicy } from '../../src/station/orchestrator/unit-runner.ts';
import { accountUnits } from '../../src/station/report/accounting.ts';
import { generateReports } from '../../src/station/report/generate.ts';
import { BppState, BppStore } from '../../src/station/store/bpp-store.ts';
import { importBatch } from '../../src/station/store/import-batch.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { miniFactory, type MiniFactory } from '../helpers/mini-factory.ts';

describe('already-provisioned chips', () => {
  let f: MiniFactory;
  let journal: Journal;
  const events: StationEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));

  beforeAll(async () => {
    f = await miniFactory({ chips: 4, keys: 2, perEuicc: 2 });
    journal = (await Journal.open(join(f.dir, 'journal', 'journal.ndjson'))).journal;
  });
  afterAll(async () => {
    await journal.close();
    f.close();
  });

  /** The default config's policy (finishing on, alreadyProvisioned "skip"). */
  const policy = (over: Partial<UnitPolicy> = {}): UnitPolicy => ({
    blockSize: 255,
    useLogicalChannel: false,
    maxAttemptsPerChip: 2,
    verifyProfileListed: true,
    alreadyProvisioned: DEFAULTS.eidPolicy.alreadyProvisioned,
    endOfProduction: { deleteUnusedKeys: DEFAULTS.postChecks.deleteUnusedOneTimeKeys, closeFpaServices: DEFAULTS.postChecks.closeFpaServices },
    ...over,
  });
  const deps = (store = f.store, over: Partial<UnitPolicy> = {}): UnitDeps => ({
    inventory: new LocalInventory(store),
    trust: new EuiccTrust(f.euicc),
    journal,
    bus,
    signal: new AbortController().signal,
    policy: policy(over),
  });
  const states = (store: BppStore, eid: string) => store.findByEid(eidToBytes(eid)).map((b) => b.state).sort();

  it('a re-fed reel: every chip ends with exactly one profile, the second pass is already-provisioned, no spare BPP used', async () => {
    expect(DEFAULTS.eidPolicy.alreadyProvisioned).toBe('skip');
    const eids = f.eids.slice(0, 3);
    const first = [];
    for (const eid of eids) first.push(await runUnit((await f.card(eid)).slot, deps()));
    expect(first.map((r) => r.outcome)).toEqual(['installed', 'installed', 'installed']);
    const before = eids.map((e) => states(f.store, e));

    // The same reel again (ifpp sim up --from-start feeds the same chips).
    const second = [];
    for (const eid of eids) second.push(await runUnit((await f.card(eid)).slot, deps()));
    expect(second.map((r) => [r.outcome, r.code])).toEqual(eids.map(() => ['already-provisioned', 'ALREADY_PROVISIONED']));
    for (const eid of eids) expect((await f.card(eid)).card.chip.state.profiles.length).toBe(1);
    expect(eids.map((e) => states(f.store, e))).toEqual(before);
    expect(before.every((s) => s.filter((x) => x === BppState.available).length === 1)).toBe(true); // the spare stays

    // Nothing irreversible was journaled for the second pass; the slot said "already done".
    const { records } = await Journal.read(journal.path);
    for (const r of second) {
      expect(records.filter((x) => String(x.unit ?? '').startsWith(r.unit)).map((x) => x.type)).toEqual(['unit.start', 'unit.end']);
    }
    expect(events.filter((e) => e.type === 'slot.result' && e.outcome === 'already-provisioned').map((e) => (e as { reason?: string }).reason)).toEqual(
      eids.map(() => expect.stringMatching(/^already done: ICCID \d+/)),
    );

    // Counted apart, in the CSV, and in no PLR.
    const acc = accountUnits(records);
    expect(acc.byOutcome['already-provisioned']).toBe(3);
    const out = mkdtempSync(join(tmpdir(), 'ifpp-again-'));
    const rep = await generateReports({ config: { name: 't', journal: join(f.dir, 'journal'), store: join(f.dir, 'store'), reports: out }, outDir: out });
    expect(readFileSync(rep.csv.path, 'utf8').split('\r\n').filter((l) => l.includes(',already-provisioned,')).length).toBe(3);
    for (const p of rep.plrs) expect(readFileSync(p.path, 'utf8')).not.toContain('already-provisioned');
  });

  it('recognised from the chip itself when the store never saw the load (GetProfilesInfo lists our ICCID)', async () => {
    const eid = f.eids[3]!;
    expect((await runUnit((await f.card(eid)).slot, deps(f.store, { endOfProduction: { deleteUnusedKeys: false, closeFpaServices: false } }))).outcome).toBe('installed');
    // A store that knows the batch but not that load (another line, a restored store).
    const fresh = BppStore.open(mkdtempSync(join(tmpdir(), 'ifpp-fresh-')));
    await importBatch(fresh, f.batchDir, { checks: bppChecks });
    expect(states(fresh, eid).every((s) => s === BppState.available)).toBe(true);
    const r = await runUnit((await f.card(eid)).slot, deps(fresh, { endOfProduction: { deleteUnusedKeys: false, closeFpaServices: false } }));
    expect(r.outcome).toBe('already-provisioned');
    expect(r.reason).toMatch(/the chip holds ICCID \d+ of BPP/);
    expect((await f.card(eid)).card.chip.state.profiles.length).toBe(1);
    expect(states(fresh, eid).every((s) => s === BppState.available)).toBe(true);

    // The explicit policy loads another one anyway (multi-profile flows).
    const again = await runUnit((await f.card(eid)).slot, deps(fresh, { alreadyProvisioned: 'load', endOfProduction: { deleteUnusedKeys: false, closeFpaServices: false } }));
    expect(again.outcome).toBe('installed');
    expect((await f.card(eid)).card.chip.state.profiles.length).toBe(2);
    fresh.close();
  });
});
