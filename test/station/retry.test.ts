/**
 * The operator's retry (r on a failed or interrupted slot), on the in-process socket station:
 * it runs when the chip is in the slot, and otherwise answers why not (paused or aborted, no
 * chip, busy, nothing to retry, a panel jig that loads only panels).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { miniFactory } from '../helpers/mini-factory.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { simHardware } from '../../src/sim/inprocess/sim-hardware.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { Station } from '../../src/station/orchestrator/station.ts';

function nextEvent(bus: EventBus, ok: (e: StationEvent) => boolean): Promise<StationEvent> {
  return new Promise((resolve) => {
    const off = bus.on((e) => {
      if (!ok(e)) return;
      off();
      resolve(e);
    });
  });
}

async function station(kind: 'socket-programmer' | 'panel-jig') {
  const f = await miniFactory({ chips: 1, keys: 2, perEuicc: 2 });
  f.close();
  const cfgPath = join(f.dir, 'station.json');
  writeFileSync(
    cfgPath,
    JSON.stringify({
      format: 'ifpp-station/1', name: 'retry', kind, store: 'store', journal: 'journal', reports: 'reports',
      ...(kind === 'panel-jig' ? { board: JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures-config/sim-jig-8.json'), 'utf8')).board } : {}),
      bridges: [{ id: 'b0', port: 'bridge0', slots: 1 }],
      slots: [{ id: 'S1', bridge: 'b0', channel: 0, row: 1, col: 1 }],
    }),
  );
  const config = await requireConfig(cfgPath);
  const sim = simHardware(config, { jig: kind === 'panel-jig' });
  const slot = sim.slots.get('S1')!;
  slot.insertCard(await euiccCardFromReel({ reel: f.reel, eid: f.eids[0]!, stateDir: join(f.dir, 'chips') }, 0));
  const bus = new EventBus();
  const st = await Station.open(config, { bus, hardware: sim.hardware });
  return { st, bus, slot, sim };
}

describe('retry', () => {
  /** Runs the socket station until the operator's abort has interrupted the first unit (chip left in). */
  async function abortedFirstUnit() {
    const h = await station('socket-programmer');
    const { st, bus } = h;
    let aborted = false;
    bus.on((e) => {
      if (e.type === 'slot.progress' && !aborted) {
        aborted = true;
        st.abort('operator abort');
      }
    });
    const running = st.run();
    expect(await nextEvent(bus, (e) => e.type === 'slot.result')).toMatchObject({ outcome: 'interrupted' });
    // The slot is free once the unit's clean-up (power off: microtasks only) is done.
    await new Promise((r) => setImmediate(r));
    return { ...h, running };
  }

  it('on a socket station: refused while aborted; then, with the chip still in, it reloads the slot at once', async () => {
    const { st, bus, running } = await abortedFirstUnit();
    expect(await st.retry('S9')).toEqual({ started: false, message: 'no slot S9 in this station' });
    expect(await st.retry('S1')).toEqual({ started: false, message: 'the station is aborted: press s to go on, then r' });
    st.resume();
    const installed = nextEvent(bus, (e) => e.type === 'slot.result');
    expect(await st.retry('S1')).toEqual({ started: true, message: 'retrying S1 now' });
    expect(await st.retry('S1')).toEqual({ started: false, message: 'S1 is busy: its unit is still running' });
    expect(await installed).toMatchObject({ outcome: 'installed', slot: 'S1' });
    await new Promise((r) => setImmediate(r));
    expect(await st.retry('S1')).toEqual({ started: false, message: 'S1: nothing to retry (its last unit was installed)' });
    st.requestStop('test done');
    const summary = await running;
    await st.close();
    expect(summary.byOutcome).toEqual({ interrupted: 1, installed: 1 });
  }, 120_000);

  it('on a socket station without the chip: says so, and the chip is loaded once it is put back', async () => {
    const { st, bus, slot, running } = await abortedFirstUnit();
    st.resume();
    const card = slot.removeCard()!;
    expect(await st.retry('S1')).toEqual({ started: false, message: 'no chip in S1: it is loaded when one is inserted' });
    const installed = nextEvent(bus, (e) => e.type === 'slot.result');
    slot.insertCard(card);
    expect(await installed).toMatchObject({ outcome: 'installed', slot: 'S1' });
    st.requestStop('test done');
    expect((await running).byOutcome).toEqual({ interrupted: 1, installed: 1 });
    await st.close();
  }, 120_000);

  it('on a panel jig a slot is not loaded alone: the answer says to start the next panel', async () => {
    const { st } = await station('panel-jig');
    const running = st.run();
    expect(await st.retry('S1')).toEqual({
      started: false,
      message: 'S1 is not loaded on its own on a panel jig: leave the chip in and start the next panel (every occupied slot is loaded)',
    });
    st.requestStop('test done');
    await running;
    await st.close();
  }, 60_000);
});
