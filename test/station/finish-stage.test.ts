/**
 * The finish stage (SGP.41 DMF03/EUICCF03, GENS13): on by default, journaled, never swallowed.
 * A chip that refuses ends installed with finish-failed, and the shared finishChip (the bench's
 * `finish`) finishes it later. The PLR and the CSV say per unit whether it was finished.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../../src/station/config/schema.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { FpaClient } from '../../src/station/fpa/fpa-client.ts';
import { finishChip } from '../../src/station/fpa/finish-chip.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { EuiccTrust } from '../../src/station/orchestrator/euicc-trust.ts';
import { LocalInventory } from '../../src/station/inventory/local-inventory.ts';
import { runUnit, type UnitDeps } from '../../src/station/orchestrator/unit-runner.ts';
import { resultLeds } from '../../src/station/orchestrator/station.ts';
import { generateReports } from '../../src/station/report/generate.ts';
import { miniFactory, type MiniFactory } from '../helpers/mini-factory.ts';

describe('finish stage', () => {
  let f: MiniFactory;
  let journal: Journal;
  const events: StationEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));

  beforeAll(async () => {
    f = await miniFactory({ chips: 3, keys: 2, perEuicc: 2 });
    journal = (await Journal.open(join(f.dir, 'journal', 'journal.ndjson'))).journal;
  });
  afterAll(async () => {
    await journal.close();
    f.close();
  });

  // The station's policy from the default config.
  const deps = (): UnitDeps => ({
    inventory: new LocalInventory(f.store),
    trust: new EuiccTrust(f.euicc),
    journal,
    bus,
    signal: new AbortController().signal,
    policy: {
      blockSize: 255,
      useLogicalChannel: false,
      maxAttemptsPerChip: 2,
      verifyProfileListed: true,
      endOfProduction: { deleteUnusedKeys: DEFAULTS.postChecks.deleteUnusedOneTimeKeys, closeFpaServices: DEFAULTS.postChecks.closeFpaServices },
    },
  });

  const unused = (card: { chip: { state: { keys: { state: string }[] } } }) => card.chip.state.keys.filter((k) => k.state === 'unused').length;

  it('is on by default: the installed chip has no unused one-time key left and FPA services closed, journaled', async () => {
    expect(DEFAULTS.postChecks.deleteUnusedOneTimeKeys).toBe(true);
    expect(DEFAULTS.postChecks.closeFpaServices).toBe(true);
    const { card, slot } = await f.card(f.eids[0]!);
    const r = await runUnit(slot, deps());
    expect(r.outcome).toBe('installed');
    expect(r.finished).toBe(true);
    expect(unused(card)).toBe(0);
    expect(card.chip.state.fpaServices).toBe('closed');
    const { records } = await Journal.read(journal.path);
    const mine = records.filter((x) => String(x.unit ?? '').startsWith(r.unit));
    expect(mine.map((x) => x.type)).toEqual(['unit.start', 'unit.identified', 'bpp.chosen', 'bf23.sending', 'pir.received', 'unit.finished', 'unit.end']);
    expect(mine.find((x) => x.type === 'unit.finished')).toMatchObject({ ok: true, deleteUnusedKeys: true, closeFpaServices: true, fpaClosed: true });
    expect(mine.find((x) => x.type === 'unit.end')).toMatchObject({ outcome: 'installed', finished: true });
    expect(resultLeds('installed', r)).toBe('pass');
  });

  it('a chip that refuses to finish ends installed with finish-failed (not swallowed), and is finished later by finishChip', async () => {
    const { card, slot } = await f.card(f.eids[1]!);
    card.faults.statusWords = [{ tag: 0xbf72, sw: 0x6a88 }]; // DeleteOneTimeKeys refused
    const r = await runUnit(slot, deps());
    expect(r.outcome).toBe('installed');
    expect(r.finished).toBe(false);
    expect(r.code).toBe('FINISH_FAILED');
    expect(unused(card)).toBe(1);
    expect(card.chip.state.fpaServices).toBe('open');
    expect(resultLeds('installed', r)).toBe('both');
    expect(events.some((e) => e.type === 'station.warning' && e.code === 'FINISH_FAILED' && e.message.includes(f.eids[1]!))).toBe(true);
    const { records } = await Journal.read(journal.path);
    const mine = records.filter((x) => String(x.unit ?? '').startsWith(r.unit));
    expect(mine.find((x) => x.type === 'unit.finished')).toMatchObject({ ok: false, code: 'FPA_SW_ERROR' });
    expect(mine.find((x) => x.type === 'unit.end')).toMatchObject({ outcome: 'installed', finished: false, finishFailed: true, stage: 'finish' });

    // Later (the bench): the same shared function finishes it.
    card.faults.statusWords = undefined;
    const fpa = new FpaClient(slot.apdu);
    await slot.activate();
    await fpa.selectIsdR();
    expect(await finishChip(fpa)).toEqual({ keysDeleted: 1, fpaClosed: true });
    expect(unused(card)).toBe(0);
    expect(card.chip.state.fpaServices).toBe('closed');
  });

  it('the PLR and the CSV say per installed unit whether it was finished', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ifpp-finish-report-'));
    const run = await generateReports({ config: { name: 't', journal: join(f.dir, 'journal'), store: join(f.dir, 'store'), reports: out }, outDir: out });
    const plr = JSON.parse(readFileSync(run.plrs.find((p) => p.batchId !== null)!.path, 'utf8')) as { results: Array<{ eid: string; finished: boolean | null; finishCode?: string }> };
    const byEid = new Map(plr.results.map((x) => [x.eid, x]));
    expect(byEid.get(f.eids[0]!)).toMatchObject({ finished: true });
    expect(byEid.get(f.eids[1]!)).toMatchObject({ finished: false, finishCode: 'FPA_SW_ERROR' });
    const csv = readFileSync(run.csv.path, 'utf8').trim().split('\r\n');
    const header = csv[0]!.split(',');
    const col = header.indexOf('finished');
    expect(col).toBeGreaterThan(0);
    const rowOf = (eid: string) => csv.find((l) => l.includes(eid))!.split(',');
    expect(rowOf(f.eids[0]!)[col]).toBe('true');
    expect(rowOf(f.eids[1]!)[col]).toBe('false');
  });
});
