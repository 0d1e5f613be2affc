/**
 * Batch choice by CI trust: a chip whose BPPs sit in two batches signed under two different CIs
 * must be loaded from the batch whose CI it lists in EUICCInfo2 (euiccCiPKIdListForVerification),
 * even when the other batch comes first; and a chip offered only the untrusted batch must be
 * refused at PrepareFactoryLoad without its one-time key being touched.
 *
 * Batch B (trusted) is the mini factory's own batch (key #0 of each chip). Batch A is bound by a
 * second SM-DPf whose CERT.DPpb chains to a CI the chips do not trust (key #1 of each chip): the
 * SM-DPf was handed eUICC data naming that CI, as if told the wrong lot's trust list.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { miniFactory, type MiniFactory } from '../helpers/mini-factory.ts';
import { runUnit, type UnitDeps } from '../../src/station/orchestrator/unit-runner.ts';
import { EuiccTrust } from '../../src/station/orchestrator/euicc-trust.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { BppState, BppStore, type StoredBpp } from '../../src/station/store/bpp-store.ts';
import { importBatch } from '../../src/station/store/import-batch.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { bindBatch } from '../../src/sim/smdpf/bind-batch.ts';
import { loadProfileSource } from '../../src/sim/smdpf/profile-source.ts';
import { createCi, issueDpPb } from '../../src/sim/pki/issue.ts';
import { EUICC_DATA_FILE } from '../../src/sim/eum/write-eum.ts';
import type { EuiccDataHeader } from '../../src/sim/eum/formats.ts';
import { eidToBytes } from '../../src/core/rsp/eid.ts';
import { bytesEqual, fromHex, toHex } from '../../src/core/bytes.ts';
import { parseCertificate } from '../../src/core/x509/certificate.ts';
import { decodeEuiccInfo2 } from '../../src/core/rsp/es10.ts';
import { LocalInventory } from '../../src/station/inventory/local-inventory.ts';

/** Sorts before any UUID (the mini factory's batch id), so A is first by import and by name. */
const UNTRUSTED_BATCH = '0-untrusted-ci';

describe('runUnit prefers the batch whose CI the chip trusts', () => {
  let f: MiniFactory;
  let journal: Journal;
  let trustedBatch: string;
  let untrustedDir: string;
  const events: StationEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));

  beforeAll(async () => {
    f = await miniFactory({ chips: 2, keys: 2, perEuicc: 1 });
    trustedBatch = f.store.batchIds()[0]!;
    journal = (await Journal.open(join(f.dir, 'journal', 'journal.ndjson'))).journal;

    // The second SM-DPf: its own CI (not the chips'), CERT.DPpb under it. Its copy of the eUICC
    // data names that CI as the one the chips verify with; the EUM chain stays under the real CI.
    const otherCi = createCi({ curve: 'nist', name: 'IFPP Untrusted Test CI' });
    const dp = issueDpPb({ ci: otherCi, name: 'IFPP Other SM-DPf', org: 'IFPP Other SM-DPf' });
    const [headerLine, ...chipLines] = readFileSync(join(f.dir, 'eum', EUICC_DATA_FILE), 'utf8').split('\n');
    const header = JSON.parse(headerLine!) as EuiccDataHeader;
    const misled: EuiccDataHeader = { ...header, eumCiCertificate: header.ciCertificate, ciCertificate: Buffer.from(otherCi.der).toString('base64') };
    const otherDir = join(f.dir, 'other-smdpf');
    mkdirSync(otherDir);
    const otherData = join(otherDir, EUICC_DATA_FILE);
    writeFileSync(otherData, [JSON.stringify(misled), ...chipLines].join('\n'));
    const batch = await bindBatch({
      euiccData: otherData,
      profile: loadProfileSource('synthetic:3000'),
      dp: { cert: dp.cert, key: { curve: 'nist', secretKey: dp.secretKey!, publicKey: dp.publicKey }, name: 'IFPP Other SM-DPf', oid: undefined },
      out: join(otherDir, 'batch'),
      perEuicc: 1,
      firstOtk: 1,
      iccidStart: '894944999999998001',
      batchId: UNTRUSTED_BATCH,
    });
    untrustedDir = batch.dir;
  });
  afterAll(async () => {
    await journal.close();
    f.close();
  });

  const deps = (store: BppStore): UnitDeps => ({
    inventory: new LocalInventory(store),
    trust: new EuiccTrust(f.euicc),
    journal,
    bus,
    signal: new AbortController().signal,
    policy: { blockSize: 255, useLogicalChannel: false, maxAttemptsPerChip: 2, verifyProfileListed: true },
  });

  /** A fresh store holding the given batch folders, imported in this order. */
  async function storeOf(...batchDirs: string[]): Promise<BppStore> {
    const s = BppStore.open(mkdtempSync(join(tmpdir(), 'ifpp-trust-store-')));
    for (const d of batchDirs) {
      const rep = await importBatch(s, d, { checks: bppChecks });
      expect(rep.rejected).toEqual([]);
    }
    return s;
  }

  const ofBatch = (all: StoredBpp[], batchId: string) => all.filter((b) => b.batchId === batchId);
  const journalOf = async (unit: string) => (await Journal.read(journal.path)).records.filter((x) => String(x.unit ?? '').startsWith(unit));

  it('the set-up: the chip lists only the trusted CI, and the untrusted batch is the naive first choice', async () => {
    const { card } = await f.card(f.eids[0]!);
    const info = decodeEuiccInfo2(card.chip.identity.euiccInfo2);
    const skiOf = (batch: string, s: BppStore) => parseCertificate(new Uint8Array(Buffer.from(s.manifest(batch).ciCertificate, 'base64'))).extensions.subjectKeyIdentifier!;
    const store = await storeOf(untrustedDir, f.batchDir);
    try {
      expect(info.euiccCiPKIdListForVerification).toHaveLength(1);
      expect(bytesEqual(info.euiccCiPKIdListForVerification[0]!, skiOf(trustedBatch, store))).toBe(true);
      expect(bytesEqual(info.euiccCiPKIdListForVerification[0]!, skiOf(UNTRUSTED_BATCH, store))).toBe(false);
      const unused = card.chip.state.keys.map((k) => fromHex(k.otpk));
      expect(store.choose(eidToBytes(f.eids[0]!), unused)?.batchId).toBe(UNTRUSTED_BATCH);
    } finally {
      store.close();
    }
  });

  it('installs from the trusted batch although the untrusted one comes first; its BPP stays available', async () => {
    const eid = f.eids[0]!;
    const store = await storeOf(untrustedDir, f.batchDir);
    try {
      const { card, slot } = await f.card(eid);
      const r = await runUnit(slot, deps(store));
      expect(r.outcome).toBe('installed');
      expect(r.attempts).toBe(1);

      const all = store.findByEid(eidToBytes(eid));
      const [trusted] = ofBatch(all, trustedBatch);
      const [untrusted] = ofBatch(all, UNTRUSTED_BATCH);
      expect(trusted!.state).toBe(BppState.installed);
      expect(untrusted!.state).toBe(BppState.available);

      const mine = await journalOf(r.unit);
      expect(mine.map((x) => x.type)).toEqual(['unit.start', 'unit.identified', 'bpp.chosen', 'bf23.sending', 'pir.received', 'unit.end']);
      expect(mine.find((x) => x.type === 'bpp.chosen')!.batchId).toBe(trustedBatch);
      const pir = mine.find((x) => x.type === 'pir.received')!;
      expect(pir.verified).toBe(true);
      expect(pir.installed).toBe(true);

      // The chip holds the trusted batch's profile; only the trusted BPP's key is spent.
      expect(card.chip.state.profiles.map((p) => p.transactionId)).toEqual([toHex(trusted!.transactionId)]);
      const keyState = (otpk: Uint8Array) => card.chip.state.keys.find((k) => k.otpk === toHex(otpk))!.state;
      expect(keyState(trusted!.otpk)).toBe('consumed');
      expect(keyState(untrusted!.otpk)).toBe('unused');
    } finally {
      store.close();
    }
  });

  it('with only the untrusted batch the chip refuses it at PrepareFactoryLoad and no key is burnt', async () => {
    const eid = f.eids[1]!;
    const store = await storeOf(untrustedDir);
    try {
      const { card, slot } = await f.card(eid);
      const r = await runUnit(slot, deps(store));
      expect(r.outcome).toBe('failed-before-secure-channel');
      expect(r.code).toBe('PREPARE_INVALIDCERTIFICATE');
      expect(r.reason).toMatch(/invalidCertificate/);
      expect(r.attempts).toBe(1); // a wrong batch is not retried

      const fail = events.find((e) => e.type === 'slot.state' && e.state === 'fail' && e.code === 'PREPARE_INVALIDCERTIFICATE');
      expect(fail && 'reason' in fail ? fail.reason : '').toMatch(/wrong batch/);

      const [bpp] = store.findByEid(eidToBytes(eid));
      expect(bpp!.state).toBe(BppState.failedBeforeSecureChannel);
      // Still loadable: the chip would take it if it trusted the CI.
      const unused = card.chip.state.keys.map((k) => fromHex(k.otpk));
      expect(store.loadable(eidToBytes(eid), unused).map((b) => b.position)).toEqual([bpp!.position]);

      // Nothing reached the secure channel: no BF23, every key unused, no profile.
      const mine = await journalOf(r.unit);
      expect(mine.map((x) => x.type)).toEqual(['unit.start', 'unit.identified', 'bpp.chosen', 'unit.end']);
      expect(mine.find((x) => x.type === 'unit.end')!.stage).toBe('prepare');
      expect(card.chip.state.keys.every((k) => k.state === 'unused')).toBe(true);
      expect(card.chip.state.profiles).toEqual([]);
    } finally {
      store.close();
    }
  });
});
