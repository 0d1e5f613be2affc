/**
 * `keyBurnt` in reports (PLR failures, unit history) says what the attempt's reason says, for
 * every outcome: journals as the unit stages write them (reasons from the stages' own code where
 * the reason speaks of the key), through the accountant that both report writers use.
 */
import { describe, expect, it } from 'vitest';
import { IfppError } from '../../src/core/errors.ts';
import type { JournalRecord } from '../../src/station/journal/journal.ts';
import { OUTCOME_CODES, accountUnits, keyBurnt, type UnitAccount } from '../../src/station/report/accounting.ts';
import { UnitFailure, cardPulled } from '../../src/station/orchestrator/unit/failure.ts';
import { SLOT_NO_CARD } from '../../src/station/hardware/card-slot.ts';

type Step = 'chosen' | 'bf23' | 'pir';

/** One attempt's journal: start, the steps it reached, then its settlement. */
function account(steps: Step[], end: Record<string, unknown>, how: 'end' | 'reconciled' | 'open' = 'end'): UnitAccount {
  let seq = 0;
  const rec = (type: string, f: Record<string, unknown>): JournalRecord => ({ seq: ++seq, at: `2026-12-02T10:00:${String(seq).padStart(2, '0')}.000Z`, type, unit: 'u1', ...f });
  const rs: JournalRecord[] = [rec('unit.start', { slot: 'A1', attempt: 1 })];
  const ref = { batchId: 'B1', position: 4, transactionId: 'aa' };
  if (steps.includes('chosen')) rs.push(rec('bpp.chosen', { slot: 'A1', eid: '89049032123451234512345678901235', otpk: '04', ...ref }));
  if (steps.includes('bf23')) rs.push(rec('bf23.sending', ref));
  if (steps.includes('pir')) rs.push(rec('pir.received', { ...ref, pir: 'bf37', verified: true, installed: end.outcome === 'installed' }));
  if (how !== 'open') rs.push(rec(how === 'end' ? 'unit.end' : 'unit.reconciled', { slot: 'A1', ...ref, ...end }));
  const [u] = accountUnits(rs).units;
  return u!;
}

const pulled = (bf23Sent: boolean) =>
  cardPulled(new UnitFailure('failed-key-burnt', 'load', 'LOAD_FAILED', 'load failed', 'none', { cause: new IfppError(SLOT_NO_CARD, 'no card') }), bf23Sent)!;

describe('keyBurnt agrees with the reason, for every outcome', () => {
  const cases: Array<{ name: string; u: UnitAccount; burnt: boolean | 'unknown' }> = [
    { name: 'installed', u: account(['chosen', 'bf23', 'pir'], { outcome: 'installed' }), burnt: true },
    { name: 'failed-key-burnt (PIR error)', u: account(['chosen', 'bf23', 'pir'], { outcome: 'failed-key-burnt', code: 'PIR_ERROR' }), burnt: true },
    { name: 'failed-key-burnt (no answer after BF23)', u: account(['chosen', 'bf23'], { outcome: 'failed-key-burnt', code: 'LOAD_FAILED' }), burnt: true },
    { name: 'failed-before-secure-channel (refused prepare)', u: account(['chosen'], { outcome: 'failed-before-secure-channel', code: 'PREPARE_INVALIDCERTIFICATE' }), burnt: false },
    {
      name: 'failed-before-secure-channel because the chip says the key is already used',
      u: account(['chosen'], { outcome: 'failed-before-secure-channel', code: 'PREPARE_KEYALREADYUSED', reason: 'chip refused PrepareFactoryLoad: keyAlreadyUsed' }),
      burnt: true,
    },
    { name: 'no-bpp', u: account([], { outcome: 'no-bpp', code: 'NO_BPP' }), burnt: false },
    { name: 'unreachable', u: account([], { outcome: 'unreachable', code: 'NO_ATR' }), burnt: false },
    { name: 'skipped', u: account([], { outcome: 'skipped', code: 'EID_NOT_FOR_THIS_STATION' }), burnt: false },
    { name: 'already-provisioned', u: account([], { outcome: 'already-provisioned', code: 'ALREADY_PROVISIONED' }), burnt: false },
    { name: 'interrupted before a BPP', u: account([], { outcome: 'interrupted', code: 'ABORTED' }), burnt: false },
    { name: 'interrupted: card removed before BF23', u: account(['chosen'], { outcome: 'interrupted', code: 'CARD_REMOVED', reason: pulled(false).message }), burnt: false },
    { name: 'interrupted: card removed after BF23', u: account(['chosen', 'bf23'], { outcome: 'interrupted', code: 'CARD_REMOVED', reason: pulled(true).message }), burnt: 'unknown' },
    { name: 'interrupted after the signed result', u: account(['chosen', 'bf23', 'pir'], { outcome: 'interrupted', code: 'CARD_REMOVED', stage: 'verify' }), burnt: true },
    { name: 'unknown (reconciled after BF23)', u: account(['chosen', 'bf23'], { outcome: 'unknown', how: 'stopped after BF23 was sent' }, 'reconciled'), burnt: 'unknown' },
    { name: 'open after BF23', u: account(['chosen', 'bf23'], {}, 'open'), burnt: 'unknown' },
    { name: 'open before BF23', u: account(['chosen'], {}, 'open'), burnt: false },
  ];

  it('covers every outcome code', () => {
    const covered = new Set(cases.map((c) => c.u.status));
    for (const o of [...OUTCOME_CODES, 'open']) expect(covered, `no case for ${o}`).toContain(o);
  });

  for (const c of cases) {
    it(c.name, () => {
      expect(keyBurnt(c.u)).toBe(c.burnt);
      // Where the reason speaks of the key, it says the same thing.
      const reason = c.u.reason ?? '';
      if (/key (was|is) used|keyAlreadyUsed/.test(reason)) expect(keyBurnt(c.u)).toBe(true);
      if (/may have been used/.test(reason)) expect(keyBurnt(c.u)).toBe('unknown');
      if (/nothing was spent/.test(reason)) expect(keyBurnt(c.u)).toBe(false);
    });
  }

  it('the card-removed reasons say what is known: spent BPP, key maybe used after BF23; nothing spent before', () => {
    expect(pulled(true).message).toMatch(/its BPP is spent \(BF23 was sent: the one-time key may have been used\)/);
    expect(pulled(true).message).not.toMatch(/key was used/);
    expect(pulled(false).message).toMatch(/before its BPP was sent: nothing was spent/);
  });
});
