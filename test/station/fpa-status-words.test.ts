/**
 * Status words from a real-shaped simulated eUICC (its statusWords fault): 91xx/92xx are
 * normal endings, 62xx/63xx warnings. Before BF23 a warning fails the step with nothing spent;
 * from BF23 on the load goes on and the signed PIR decides.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { eidToBytes } from '../../src/core/rsp/eid.ts';
import { FpaClient } from '../../src/station/fpa/fpa-client.ts';
import { classifyStatusWord } from '../../src/core/rsp/status-word.ts';
import { miniFactory, type MiniFactory } from '../helpers/mini-factory.ts';

describe('ES10 status words', () => {
  let f: MiniFactory;
  beforeAll(async () => {
    f = await miniFactory({ chips: 4, keys: 2, perEuicc: 2 });
  });
  afterAll(() => f.close());

  it('classifies 9000, 91xx, 92xx as success, 62xx/63xx as warnings, the rest as errors', () => {
    expect([0x9000, 0x9110, 0x91ff, 0x9240].map(classifyStatusWord)).toEqual(['success', 'success', 'success', 'success']);
    expect([0x6200, 0x6282, 0x6300, 0x63c1].map(classifyStatusWord)).toEqual(['warning', 'warning', 'warning', 'warning']);
    expect([0x6a88, 0x6985, 0x9300, 0x6f00].map(classifyStatusWord)).toEqual(['error', 'error', 'error', 'error']);
  });

  /** Identify, choose, prepare and load one chip through the FPA client. */
  async function loadOne(i: number, statusWords: { sw: number; loadCall?: number; tag?: number }[]) {
    const eid = f.eids[i]!;
    const { card, slot } = await f.card(eid, `S${i}`);
    await slot.activate();
    card.faults.statusWords = statusWords;
    const fpa = new FpaClient(slot.apdu);
    await fpa.selectIsdR();
    expect(await fpa.getEid()).toBe(eid);
    const info = await fpa.getFactoryInfo();
    const unused = info.oneTimeKeys.filter((k) => k.state === 'unused').map((k) => k.otpk);
    const chosen = f.store.choose(eidToBytes(eid), unused)!;
    const certDpPb = new Uint8Array(Buffer.from(f.store.manifest(chosen.batchId).certDpPb, 'base64'));
    expect(await fpa.prepareFactoryLoad({ euiccOtpk: chosen.otpk, dpPbCertificate: certDpPb })).toBe('ok');
    const out = await fpa.loadBpp(f.store.readBpp(chosen));
    return { card, fpa, chosen, out };
  }

  it('a chip answering 91xx (proactive command pending) on every ES10 request loads like one answering 9000', async () => {
    const { card, chosen, out } = await loadOne(0, [{ sw: 0x9110 }]);
    expect(out.pir.finalResult.kind).toBe('success');
    expect(out.warnings).toEqual([]);
    expect(card.chip.state.profiles.map((p) => p.transactionId)).toEqual([toHex(chosen.transactionId)]);
  });

  it('a warning after BF23 (63xx on a segment, 62xx with the PIR) is noted and the PIR decides', async () => {
    const { card, chosen, out } = await loadOne(1, [
      { sw: 0x6310, loadCall: 3 },
      { sw: 0x6200, loadCall: 5 },
    ]);
    expect(out.pir.finalResult.kind).toBe('success');
    expect(out.warnings).toEqual([expect.stringMatching(/call 3 block \d+: 6310/), expect.stringMatching(/call 5 block \d+: 6200/)]);
    expect(card.chip.state.profiles.length).toBe(1);
    expect(toHex(out.pir.transactionId)).toBe(toHex(chosen.transactionId));
  });

  it('a warning before BF23 fails that step with FPA_SW_WARNING and spends nothing', async () => {
    const eid = f.eids[2]!;
    const { card, slot } = await f.card(eid, 'S2');
    await slot.activate();
    card.faults.statusWords = [{ sw: 0x6281, tag: 0xbf70 }]; // GetFactoryInfo
    const fpa = new FpaClient(slot.apdu);
    await fpa.selectIsdR();
    await expect(fpa.getFactoryInfo()).rejects.toMatchObject({ code: 'FPA_SW_WARNING', message: expect.stringContaining('6281') });
    card.faults.statusWords = undefined;
    const info = await fpa.getFactoryInfo();
    expect(info.oneTimeKeys.every((k) => k.state === 'unused')).toBe(true);
    expect(card.chip.state.profiles).toEqual([]);
  });
});
