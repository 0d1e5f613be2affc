/**
 * BPP states in the store: the counts the station reports per unit are kept up to date without
 * rereading state.bin, and durable state changes made by many slots at once all reach the disk.
 */
import { describe, expect, it } from 'vitest';
import { miniFactory } from '../helpers/mini-factory.ts';
import { BppState, BppStore } from '../../src/station/store/bpp-store.ts';
import { eidToBytes } from '../../src/core/rsp/eid.ts';

describe('BPP store states', () => {
  it('counts follow setState and setStateDurable, and match a fresh open of the store', async () => {
    const f = await miniFactory({ chips: 4, keys: 2, perEuicc: 2 });
    const bpps = f.eids.flatMap((e) => f.store.findByEid(eidToBytes(e)));
    expect(bpps.length).toBe(8);
    const batchId = bpps[0]!.batchId;
    expect(f.store.counts().get(batchId)![BppState.available]).toBe(8);

    f.store.setState(bpps[0]!, BppState.inFlight);
    await f.store.setStateDurable(bpps[1]!, BppState.installed);
    await f.store.setStateDurable(bpps[0]!, BppState.failedKeyBurnt); // a change of a changed one
    f.store.setState(bpps[2]!, BppState.available); // no change at all
    const c = f.store.counts().get(batchId)!;
    expect(c).toMatchObject({ [BppState.available]: 6, [BppState.installed]: 1, [BppState.failedKeyBurnt]: 1, [BppState.inFlight]: 0 });

    const dir = f.store.dir;
    f.close();
    const again = BppStore.open(dir);
    expect(again.counts().get(batchId)).toEqual(c);
    again.close();
  });

  it('many durable changes at once (one per slot) all resolve and are all on disk after reopening', async () => {
    const f = await miniFactory({ chips: 6, keys: 2, perEuicc: 2 });
    const bpps = f.eids.flatMap((e) => f.store.findByEid(eidToBytes(e)));
    await Promise.all(bpps.map((b, i) => f.store.setStateDurable(b, i % 2 ? BppState.installed : BppState.inFlight)));
    // And a second wave while nothing is in flight.
    await Promise.all(bpps.filter((_, i) => i % 2 === 0).map((b) => f.store.setStateDurable(b, BppState.failedBeforeSecureChannel)));
    const dir = f.store.dir;
    f.close();
    const again = BppStore.open(dir);
    bpps.forEach((b, i) => expect(again.stateAt(b.batchId, b.position)).toBe(i % 2 ? BppState.installed : BppState.failedBeforeSecureChannel));
    again.close();
  });
});
