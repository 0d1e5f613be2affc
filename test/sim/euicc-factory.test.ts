/**
 * Building simulated chips: from reel files through the card factory (slot → EID choice,
 * state files), and the checks on reel records.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '../../src/core/bytes.ts';
import { projectDialect as dialect } from '../../src/core/rsp/factory.ts';
import type { ReelChip } from '../../src/sim/eum/formats.ts';
import { T0CardClient } from '../../src/sim/euicc/card-client.ts';
import { createCard, euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { CHIP_STATE_FORMAT, type ChipState } from '../../src/sim/euicc/chip-state.ts';
import { EuiccConfigError, EuiccStateError } from '../../src/sim/euicc/errors.ts';
import { SimulatedEuicc } from '../../src/sim/euicc/euicc-card.ts';
import { makeTestChips, type TestChips } from '../../src/sim/euicc/test-chips.ts';

let t: TestChips;
let dir: string;
let reel: string;
beforeAll(() => {
  t = makeTestChips({ curve: 'brp', count: 3, keysPerChip: 2 });
  dir = mkdtempSync(join(tmpdir(), 'ifpp-euicc-factory-'));
  reel = join(dir, 'reel.ndjson');
  writeFileSync(reel, [t.header, ...t.chips].map((x) => JSON.stringify(x)).join('\n') + '\n');
});

async function deleteAllKeys(card: SimulatedEuicc): Promise<void> {
  card.atr('cold');
  const host = new T0CardClient(card);
  expect(await host.selectIsdr(0)).toBe(0x9000);
  const r = dialect.decodeDeleteOneTimeKeysResponse((await host.es10(dialect.encodeDeleteOneTimeKeysRequest())).data);
  expect(r.result.name).toBe('ok');
}

describe('card factory', () => {
  it('picks the chip by eid, by eids[slot] (array or object), else chip number firstChip + slot', async () => {
    expect((await euiccCardFromReel({ reel, eid: t.chips[2]!.eid }, 0)).eid).toBe(t.chips[2]!.eid);
    expect((await euiccCardFromReel({ reel, eids: [null, t.chips[0]!.eid] }, 1)).eid).toBe(t.chips[0]!.eid);
    expect((await euiccCardFromReel({ reel, eids: { '3': t.chips[1]!.eid } }, 3)).eid).toBe(t.chips[1]!.eid);
    expect((await euiccCardFromReel({ reel }, 1)).eid).toBe(t.chips[1]!.eid);
    expect((await euiccCardFromReel({ reel, firstChip: 1 }, 1)).eid).toBe(t.chips[2]!.eid);
    const card = await createCard({ slot: 0, options: { reel, ta1: 0x97 } });
    expect(card.atr('cold')[2]).toBe(0x97);
  });

  it('says what is wrong with the options', async () => {
    await expect(euiccCardFromReel({ reel }, 3)).rejects.toMatchObject({ code: 'EUICC_REEL_EXHAUSTED' });
    await expect(euiccCardFromReel({ reel, eid: '89049032000000000000000000009999' })).rejects.toMatchObject({ code: 'EUICC_UNKNOWN_EID' });
    await expect(euiccCardFromReel({} as never)).rejects.toBeInstanceOf(EuiccConfigError);
    await expect(euiccCardFromReel({ reel: join(dir, 'missing.ndjson') })).rejects.toMatchObject({ code: 'SIM_FILE_MISSING' });
    await expect(euiccCardFromReel({ reel, faults: { pps: 'loud' as never } })).rejects.toMatchObject({ code: 'EUICC_BAD_FAULTS' });
    await expect(euiccCardFromReel({ reel, now: 'yesterday' })).rejects.toMatchObject({ code: 'EUICC_BAD_NOW' });
  });

  it('without a stateDir, a chip built again in the same process is the same chip', async () => {
    const eid = t.chips[1]!.eid;
    const sub = mkdtempSync(join(dir, 'same-'));
    const own = join(sub, 'reel.ndjson');
    writeFileSync(own, readFileSync(reel));
    await deleteAllKeys(await euiccCardFromReel({ reel: own, eid }));
    const again = await euiccCardFromReel({ reel: own, eid });
    expect(again.chip.state.keys.map((k) => k.state)).toEqual(['deleted', 'deleted']);
  });

  it('with a stateDir, the state is written as <eid>.json at once and after each change, and read back', async () => {
    const stateDir = join(dir, 'state');
    const eid = t.chips[0]!.eid;
    const card = await euiccCardFromReel({ reel, stateDir, eid });
    const file = join(stateDir, `${eid}.json`);
    expect(existsSync(file)).toBe(true);
    const fresh = JSON.parse(readFileSync(file, 'utf8')) as ChipState;
    expect(fresh).toMatchObject({ format: CHIP_STATE_FORMAT, eid, fpaServices: 'open', profiles: [], notificationSeq: 0 });
    await deleteAllKeys(card);
    expect((JSON.parse(readFileSync(file, 'utf8')) as ChipState).keys.map((k) => k.state)).toEqual(['deleted', 'deleted']);
  });

  it('refuses a corrupt or foreign state file', async () => {
    const stateDir = join(dir, 'bad-state');
    const eid = t.chips[2]!.eid;
    await euiccCardFromReel({ reel, stateDir, eid }); // creates the file
    const file = join(stateDir, `${eid}.json`);
    const good = JSON.parse(readFileSync(file, 'utf8')) as ChipState;
    const other = mkdtempSync(join(dir, 'other-'));
    const write = (x: unknown) => writeFileSync(join(other, `${eid}.json`), typeof x === 'string' ? x : JSON.stringify(x));
    write('{not json');
    await expect(euiccCardFromReel({ reel, stateDir: other, eid })).rejects.toBeInstanceOf(EuiccStateError);
    write({ ...good, keys: good.keys.slice(1) });
    await expect(euiccCardFromReel({ reel, stateDir: join(other), eid })).rejects.toMatchObject({ code: 'EUICC_STATE_INVALID' });
    write({ ...good, eid: t.chips[0]!.eid });
    await expect(euiccCardFromReel({ reel, stateDir: join(other), eid })).rejects.toMatchObject({ code: 'EUICC_STATE_OTHER_CHIP' });
  });
});

describe('reel record checks', () => {
  const base = () => structuredClone(t.chips[0]!) as ReelChip;

  it('accepts a good record and refuses mismatched key pairs, a foreign SK.EUICC, bad encodings', () => {
    expect(new SimulatedEuicc({ chip: base(), header: t.header }).eid).toBe(t.chips[0]!.eid);
    const swapped = base();
    swapped.otks[0] = { sk: swapped.otks[0]!.sk, pk: swapped.otks[1]!.pk };
    const foreignSk = base();
    foreignSk.skEuicc = t.chips[1]!.skEuicc;
    const dup = base();
    dup.otks[1] = dup.otks[0]!;
    const badB64 = base();
    badB64.certEuicc = '!!';
    const badEid = base();
    badEid.eid = '89049032000000000000000000000000';
    for (const chip of [swapped, foreignSk, dup, badB64, badEid]) {
      expect(() => new SimulatedEuicc({ chip, header: t.header })).toThrow(expect.objectContaining({ code: 'EUICC_BAD_REEL' }));
    }
  });

  it('uses the ATR a reel record carries, verbatim', () => {
    const chip = { ...base(), atr: '3b9f96801fc78031e073fe211b633a204e8300900093' };
    const card = new SimulatedEuicc({ chip, header: t.header });
    expect(card.atr('cold')).toEqual(fromHex(chip.atr));
    expect(() => new SimulatedEuicc({ chip: { ...base(), atr: '3b00ff' }, header: t.header })).toThrow(EuiccConfigError);
  });
});
