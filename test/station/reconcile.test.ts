import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { miniFactory } from '../helpers/mini-factory.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { reconcileJournal, settlePending } from '../../src/station/orchestrator/reconcile.ts';
import { BppState } from '../../src/station/store/bpp-store.ts';
import { eidToBytes } from '../../src/core/rsp/eid.ts';
import { toHex } from '../../src/core/bytes.ts';
import { LocalInventory } from '../../src/station/inventory/local-inventory.ts';

describe('restart reconciliation', () => {
  it('settles open attempts from the last irreversible step and never leaves a BPP pushable twice', async () => {
    const f = await miniFactory({ chips: 3, keys: 2, perEuicc: 2 });
    const path = join(f.dir, 'j', 'journal.ndjson');
    const { journal } = await Journal.open(path);
    const bpps = f.eids.map((e) => f.store.findByEid(eidToBytes(e)));
    const chosen = (u: string, i: number) => {
      const b = bpps[i]![0]!;
      f.store.setState(b, BppState.inFlight);
      return { unit: u, slot: 'S1', eid: f.eids[i]!, batchId: b.batchId, position: b.position, transactionId: toHex(b.transactionId), otpk: toHex(b.otpk) };
    };
    // u1: stopped after bpp.chosen; u2: after bf23.sending; u3: after pir.received (installed).
    for (const [u, i, steps] of [['u1', 0, 1], ['u2', 1, 2], ['u3', 2, 3]] as const) {
      await journal.append('unit.start', { unit: u, slot: 'S1', attempt: 1 });
      const c = chosen(u, i);
      await journal.append('bpp.chosen', c);
      if (steps >= 2) await journal.append('bf23.sending', { unit: u, batchId: c.batchId, position: c.position, transactionId: c.transactionId });
      if (steps >= 3) await journal.append('pir.received', { unit: u, batchId: c.batchId, position: c.position, eid: c.eid, transactionId: c.transactionId, pir: '', verified: true, installed: true });
    }
    await journal.close();

    const again = await Journal.open(path);
    const r = await reconcileJournal(again.existing.records, again.journal, new LocalInventory(f.store));
    expect(Object.fromEntries(r.settled.map((s) => [s.unit, s.outcome]))).toEqual({ u1: 'interrupted', u2: 'unknown', u3: 'installed' });
    expect(f.store.stateAt(bpps[0]![0]!.batchId, bpps[0]![0]!.position)).toBe(BppState.failedBeforeSecureChannel);
    expect(f.store.stateAt(bpps[1]![0]!.batchId, bpps[1]![0]!.position)).toBe(BppState.failedKeyBurnt);
    expect(f.store.stateAt(bpps[2]![0]!.batchId, bpps[2]![0]!.position)).toBe(BppState.installed);
    expect(r.pending.map((p) => p.unit)).toEqual(['u2']);

    // A second restart does not settle anything twice, but still remembers the pending chip.
    await again.journal.close();
    const third = await Journal.open(path);
    const r2 = await reconcileJournal(third.existing.records, third.journal, new LocalInventory(f.store));
    expect(r2.settled).toEqual([]);
    expect(r2.pending.map((p) => p.unit)).toEqual(['u2']);

    // The chip comes back with its key consumed and no profile: failed-key-burnt.
    const p = r2.pending[0]!;
    const outcome = (await settlePending(p, { keys: [{ otpk: Buffer.from(p.otpk, 'hex'), state: 'consumed' }], listedIccids: [], recovered: undefined }, third.journal, new LocalInventory(f.store))).outcome;
    expect(outcome).toBe('failed-key-burnt');
    await third.journal.close();
    const fourth = await Journal.open(path);
    const r3 = await reconcileJournal(fourth.existing.records, fourth.journal, new LocalInventory(f.store));
    expect(r3.pending).toEqual([]);
    await fourth.journal.close();
    f.close();
  });
});
