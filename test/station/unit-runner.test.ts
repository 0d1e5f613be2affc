import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { miniFactory, type MiniFactory } from '../helpers/mini-factory.ts';
import { runUnit, type UnitDeps } from '../../src/station/orchestrator/unit-runner.ts';
import { EuiccTrust } from '../../src/station/orchestrator/euicc-trust.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { BppState } from '../../src/station/store/bpp-store.ts';
import { eidToBytes } from '../../src/core/rsp/eid.ts';
import { EuiccStore } from '../../src/station/euicc-data/euicc-store.ts';
import { BppStore } from '../../src/station/store/bpp-store.ts';
import type { UnitSlot } from '../../src/station/hardware/card-slot.ts';
import { encodeGetEidRequest, encodeGetEuiccInfo2Request } from '../../src/core/rsp/es10.ts';
import { projectDialect } from '../../src/core/rsp/factory.ts';
import { toHex } from '../../src/core/bytes.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { LocalInventory } from '../../src/station/inventory/local-inventory.ts';
import { IfppError } from '../../src/core/errors.ts';
import { accountUnits, bppFate, keyBurnt } from '../../src/station/report/accounting.ts';
import { CSV_COLUMNS, unitCsvValues } from '../../src/station/report/csv.ts';

describe('runUnit against simulated eUICCs (in-process T=0 path)', () => {
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

  const deps = (signal = new AbortController().signal): UnitDeps => ({
    inventory: new LocalInventory(f.store),
    trust: new EuiccTrust(f.euicc),
    journal,
    bus,
    signal,
    policy: { blockSize: 255, useLogicalChannel: false, maxAttemptsPerChip: 2, verifyProfileListed: true },
  });

  it('installs a profile, verifies the PIR and journals every step', async () => {
    const { card, slot } = await f.card(f.eids[0]!);
    const r = await runUnit(slot, deps());
    expect(r.outcome).toBe('installed');
    expect(r.attempts).toBe(1);
    expect(card.chip.state.profiles.length).toBe(1);
    const { records } = await Journal.read(journal.path);
    const mine = records.filter((x) => String(x.unit ?? '').startsWith(r.unit));
    expect(mine.map((x) => x.type)).toEqual(['unit.start', 'unit.identified', 'bpp.chosen', 'bf23.sending', 'pir.received', 'unit.end']);
    expect(mine.find((x) => x.type === 'pir.received')!.verified).toBe(true);
    const states = f.store.findByEid(eidToBytes(f.eids[0]!)).map((b) => b.state);
    expect(states.filter((s) => s === BppState.installed).length).toBe(1);
    expect(events.some((e) => e.type === 'slot.progress')).toBe(true);
  });

  it('the same chip again with eidPolicy.alreadyProvisioned "load": the second BPP (spare key) is used; a third time there is nothing left', async () => {
    const { slot } = await f.card(f.eids[0]!);
    const load = (): UnitDeps => ({ ...deps(), policy: { ...deps().policy, alreadyProvisioned: 'load' } });
    const r2 = await runUnit(slot, load());
    expect(r2.outcome).toBe('installed'); // second BPP, second key: a second profile
    const r3 = await runUnit(slot, load());
    expect(r3.outcome).toBe('no-bpp');
    expect(r3.reason).toMatch(/no unused one-time key/);
  });

  it('a PIR error burns the key and the retry takes the spare BPP', async () => {
    const { card, slot } = await f.card(f.eids[1]!);
    card.faults.outOfMemory = false;
    // Flip one byte in the first-chosen BPP's data on disk? Use the chip fault instead: mute at
    // the 5th load call makes the first attempt fail after BF23 (key burnt).
    card.faults.muteAtLoadCall = 5;
    const r = await runUnit(slot, deps());
    expect(r.outcome).toBe('installed');
    expect(r.attempts).toBe(2);
    const states = f.store.findByEid(eidToBytes(f.eids[1]!)).map((b) => b.state).sort();
    expect(states).toEqual([BppState.installed, BppState.failedKeyBurnt].sort());
  });

  it('a burnt key with no spare BPP is reported as such after one retry, not retried forever', async () => {
    const g = await miniFactory({ chips: 1, keys: 2, perEuicc: 1 });
    const { card, slot } = await g.card(g.eids[0]!);
    card.faults.muteAtLoadCall = 5;
    const j = (await Journal.open(join(g.dir, 'journal', 'journal.ndjson'))).journal;
    const r = await runUnit(slot, { ...deps(), inventory: new LocalInventory(g.store), trust: new EuiccTrust(g.euicc), journal: j });
    expect(r.outcome).toBe('failed-key-burnt');
    expect(r.attempts).toBe(2);
    expect(r.reason).toMatch(/no spare BPP for this chip/);
    await j.close();
    g.close();
  });

  it('a burnt key followed by a different failure: each attempt journaled as it ended, every BPP with its fate, the unit result names the burnt key', async () => {
    const g = await miniFactory({ chips: 1, keys: 2, perEuicc: 2 });
    const { card, slot } = await g.card(g.eids[0]!);
    card.faults.muteAtLoadCall = 5; // attempt 1: mute after BF23, key burnt
    // Attempt 2: the unit no longer answers the reset (a contact lost after the first try).
    let activations = 0;
    const flaky: UnitSlot = {
      id: slot.id,
      apdu: slot.apdu,
      powerOff: () => slot.powerOff(),
      activate: () => (++activations === 2 ? Promise.reject(new IfppError('CARD_NO_ATR', 'no ATR')) : slot.activate()),
    };
    const j = (await Journal.open(join(g.dir, 'journal', 'journal.ndjson'))).journal;
    const r = await runUnit(flaky, { ...deps(), inventory: new LocalInventory(g.store), trust: new EuiccTrust(g.euicc), journal: j });
    await j.close();
    expect(r.attempts).toBe(2);
    // The last attempt does not hide the burnt key.
    expect(r.outcome).toBe('failed-key-burnt');
    expect(r.reason).toMatch(/attempt 1: key burnt .*attempt 2: unreachable \(CARD_NO_ATR\)/);
    const acc = accountUnits((await Journal.read(j.path)).records);
    expect(acc.units.map((u) => [u.attempt, u.status, bppFate(u) ?? null])).toEqual([
      [1, 'failed-key-burnt', 'spent'],
      [2, 'unreachable', null],
    ]);
    const rows = acc.units.map((u) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, unitCsvValues(u)[i]])));
    expect(rows.map((x) => [x.outcome, x.bppFate])).toEqual([['failed-key-burnt', 'spent'], ['unreachable', undefined]]);
    g.close();
  });

  it('a retry that finds no spare BPP after a burnt key is journaled as no-bpp (it spent nothing); the unit stays failed-key-burnt', async () => {
    const g = await miniFactory({ chips: 1, keys: 2, perEuicc: 1 });
    const { card, slot } = await g.card(g.eids[0]!);
    card.faults.muteAtLoadCall = 5;
    const j = (await Journal.open(join(g.dir, 'journal', 'journal.ndjson'))).journal;
    const r = await runUnit(slot, { ...deps(), inventory: new LocalInventory(g.store), trust: new EuiccTrust(g.euicc), journal: j });
    await j.close();
    expect(r.outcome).toBe('failed-key-burnt');
    const acc = accountUnits((await Journal.read(j.path)).records);
    expect(acc.units.map((u) => [u.status, keyBurnt(u), bppFate(u) ?? null])).toEqual([
      ['failed-key-burnt', true, 'spent'],
      ['no-bpp', false, null],
    ]);
    g.close();
  });

  it('an aborted run ends as interrupted and leaves an unused BPP loadable', async () => {
    const { slot } = await f.card(f.eids[2]!);
    const ac = new AbortController();
    ac.abort('e-stop');
    const r = await runUnit(slot, deps(ac.signal));
    expect(r.outcome).toBe('interrupted');
    const states = f.store.findByEid(eidToBytes(f.eids[2]!)).map((b) => b.state);
    expect(states.every((s) => s === BppState.available)).toBe(true);
  });

  it('a chip whose EID is in no eUICC data is reported, not loaded', async () => {
    const { slot } = await f.card(f.eids[3]!);
    const d = deps();
    const empty = EuiccStore.open(mkdtempSync(join(tmpdir(), 'ifpp-empty-')));
    d.trust = new EuiccTrust(empty);
    const r = await runUnit(slot, d);
    expect(r.outcome).toBe('no-bpp');
    expect(r.code).toBe('EUICC_UNKNOWN');
    empty.close();
  });
});

describe('eidPolicy.unknownEid: chips not for this station', () => {
  let f: MiniFactory;
  let journal: Journal;
  const events: StationEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  const empties: { close(): void }[] = [];

  beforeAll(async () => {
    f = await miniFactory({ chips: 3, keys: 2, perEuicc: 1 });
    journal = (await Journal.open(join(f.dir, 'journal', 'journal.ndjson'))).journal;
  });
  afterAll(async () => {
    await journal.close();
    for (const e of empties) e.close();
    f.close();
  });

  const deps = (unknownEid?: 'fail' | 'skip'): UnitDeps => ({
    inventory: new LocalInventory(f.store),
    trust: new EuiccTrust(f.euicc),
    journal,
    bus,
    signal: new AbortController().signal,
    policy: { blockSize: 255, useLogicalChannel: false, maxAttemptsPerChip: 2, verifyProfileListed: true, ...(unknownEid ? { unknownEid } : {}) },
  });
  /** No eUICC data at all: every EID is in none (a chip of another lot). */
  const noEuiccData = (): EuiccTrust => {
    const s = EuiccStore.open(mkdtempSync(join(tmpdir(), 'ifpp-no-euicc-')));
    empties.push(s);
    return new EuiccTrust(s);
  };
  /** A store without batches: no BPP is bound to any EID (a chip of another product). */
  const noBpps = (): BppStore => {
    const s = BppStore.open(mkdtempSync(join(tmpdir(), 'ifpp-no-bpp-')));
    empties.push(s);
    return s;
  };
  /** The slot, recording every APDU the station sends through it. */
  const recorded = (slot: UnitSlot) => {
    const sent: Uint8Array[] = [];
    const wrapped: UnitSlot = { ...slot, apdu: { transmit: (a) => (sent.push(a), slot.apdu.transmit(a)) }, activate: () => slot.activate(), powerOff: () => slot.powerOff() };
    return { slot: wrapped, sent };
  };
  /** What an APDU is, as far as these tests care: SELECT, GET RESPONSE, or the ES10 request it carries. */
  const READ_ONLY = new Map([
    [toHex(encodeGetEidRequest()), 'GetEID'],
    [toHex(encodeGetEuiccInfo2Request()), 'GetEUICCInfo2'],
    [toHex(projectDialect.encodeGetFactoryInfoRequest()), 'GetFactoryInfo'],
  ]);
  const what = (a: Uint8Array): string => {
    if (a[1] === 0xa4) return 'SELECT';
    if (a[1] === 0xc0) return 'GET RESPONSE';
    if (a[1] === 0xe2) return READ_ONLY.get(toHex(a.subarray(5, 5 + a[4]!))) ?? `STORE DATA ${toHex(a.subarray(5, 9))}…`;
    return `INS ${a[1]!.toString(16)}`;
  };
  const endOf = async (unit: string) => {
    const { records } = await Journal.read(journal.path);
    const mine = records.filter((x) => String(x.unit ?? '').startsWith(unit));
    return { types: mine.map((x) => x.type), end: mine.find((x) => x.type === 'unit.end')! };
  };
  const bppStates = (eid: string) => f.store.findByEid(eidToBytes(eid)).map((b) => b.state);

  it('skip: a chip in no eUICC data and with no BPP in the store is read, left untouched, and ends skipped', async () => {
    const eid = f.eids[0]!;
    const { card, slot: raw } = await f.card(eid);
    const { slot, sent } = recorded(raw);
    const before = bppStates(eid);
    const from = events.length;
    const r = await runUnit(slot, { ...deps('skip'), trust: noEuiccData(), inventory: new LocalInventory(noBpps()) });
    expect(r).toMatchObject({ outcome: 'skipped', code: 'EID_NOT_FOR_THIS_STATION', eid, attempts: 1 });
    expect(r.reason).toContain(eid);
    expect(r.reason).toMatch(/not for this station.*no BPP in the store is bound to EID .*nor is it in any imported eUICC data/);
    // Only the read-only identification reached the chip; it is exactly as it was.
    expect(new Set(sent.map(what))).toEqual(new Set(['SELECT', 'GetEID', 'GetEUICCInfo2', 'GetFactoryInfo']));
    expect(card.chip.state.keys.map((k) => k.state)).toEqual(['unused', 'unused']);
    expect(card.chip.state.profiles).toEqual([]);
    expect(bppStates(eid)).toEqual(before);
    expect(before.every((s) => s === BppState.available)).toBe(true);
    // Journaled as skipped, with no BPP step; not retried.
    const { types, end } = await endOf(r.unit);
    expect(types).toEqual(['unit.start', 'unit.identified', 'unit.end']);
    expect(end).toMatchObject({ outcome: 'skipped', code: 'EID_NOT_FOR_THIS_STATION', eid });
    expect(String(end.reason)).toContain(eid);
    // The slot shows SKIPPED with a short why, never FAIL; the unit is done as skipped.
    const mine = events.slice(from);
    expect(mine.filter((e) => e.type === 'slot.state').map((e) => e.state)).toEqual(['powered', 'atr', 'identified', 'skipped']);
    expect(mine.find((e) => e.type === 'slot.state' && e.state === 'skipped')).toMatchObject({ reason: 'not for this station: no BPP for this EID', code: 'EID_NOT_FOR_THIS_STATION' });
    expect(mine.find((e) => e.type === 'slot.result')).toMatchObject({ outcome: 'skipped', eid, reason: 'not for this station: no BPP for this EID' });
    expect(mine.find((e) => e.type === 'unit.done')).toMatchObject({ outcome: 'skipped', passFirstTime: false });
  });

  it('skip: a chip with BPPs but no eUICC data is ours with its EUM data missing: a failure, never skipped', async () => {
    const eid = f.eids[0]!;
    const { slot } = await f.card(eid);
    const before = bppStates(eid);
    const r = await runUnit(slot, { ...deps('skip'), trust: noEuiccData() });
    expect(r).toMatchObject({ outcome: 'no-bpp', code: 'EUICC_UNKNOWN', eid });
    expect(bppStates(eid)).toEqual(before);
  });

  it('skip: a chip no BPP in the store is bound to ends skipped, without a BPP step', async () => {
    const eid = f.eids[1]!;
    const { card, slot: raw } = await f.card(eid);
    const { slot, sent } = recorded(raw);
    const from = events.length;
    const r = await runUnit(slot, { ...deps('skip'), inventory: new LocalInventory(noBpps()) });
    expect(r).toMatchObject({ outcome: 'skipped', code: 'EID_NOT_FOR_THIS_STATION', attempts: 1 });
    expect(r.reason).toMatch(new RegExp(`not for this station.*no BPP in the store is bound to EID ${eid}`));
    expect(new Set(sent.map(what))).toEqual(new Set(['SELECT', 'GetEID', 'GetEUICCInfo2', 'GetFactoryInfo']));
    expect(card.chip.state.keys.map((k) => k.state)).toEqual(['unused', 'unused']);
    const { types, end } = await endOf(r.unit);
    expect(types).toEqual(['unit.start', 'unit.identified', 'unit.end']);
    expect(end).toMatchObject({ outcome: 'skipped', code: 'EID_NOT_FOR_THIS_STATION' });
    expect(events.slice(from).find((e) => e.type === 'slot.state' && e.state === 'skipped')).toMatchObject({ reason: 'not for this station: no BPP for this EID' });
  });

  it('fail (explicit and default): the same chips fail as no-bpp, as before', async () => {
    const { slot } = await f.card(f.eids[0]!);
    for (const policy of ['fail', undefined] as const) {
      const unknown = await runUnit(slot, { ...deps(policy), trust: noEuiccData() });
      expect(unknown).toMatchObject({ outcome: 'no-bpp', code: 'EUICC_UNKNOWN' });
      const noBpp = await runUnit(slot, { ...deps(policy), inventory: new LocalInventory(noBpps()) });
      expect(noBpp).toMatchObject({ outcome: 'no-bpp', code: 'NO_BPP' });
      expect((await endOf(noBpp.unit)).end).toMatchObject({ outcome: 'no-bpp', code: 'NO_BPP' });
    }
  });

  it('skip: a chip of ours whose BPPs are all used is still a failure (no-bpp), not skipped', async () => {
    const eid = f.eids[2]!;
    const { slot } = await f.card(eid);
    expect((await runUnit(slot, deps('skip'))).outcome).toBe('installed'); // its only BPP
    const from = events.length;
    // (By default it would now end already-provisioned; with "load" it asks for another BPP.)
    const r = await runUnit(slot, { ...deps('skip'), policy: { ...deps('skip').policy, alreadyProvisioned: 'load' } });
    expect(r).toMatchObject({ outcome: 'no-bpp', code: 'NO_BPP' });
    expect(r.reason).toMatch(/1 bound to it, none to an unused key in a loadable state/);
    expect(events.slice(from).filter((e) => e.type === 'slot.state').at(-1)).toMatchObject({ state: 'fail', code: 'NO_BPP' });
  });
});
