/**
 * A panel-jig station on the in-process jig and slots (no pins, no ptys), a chip of a fresh
 * mini factory's reel in each slot, events recorded.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { miniFactory } from './mini-factory.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { simHardware } from '../../src/sim/inprocess/sim-hardware.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import { EventBus, type StationEvent } from '../../src/station/events.ts';
import { Station } from '../../src/station/orchestrator/station.ts';

/** A panel-jig station with n slots (S1..Sn) on the in-process jig and slots, a chip of the reel in each. */
export async function openPanel(n: number) {
  const f = await miniFactory({ chips: n, keys: 2, perEuicc: 2 });
  f.close();
  const stateDir = join(f.dir, 'chips');
  const ids = Array.from({ length: n }, (_, i) => `S${i + 1}`);
  const cfgPath = join(f.dir, 'station.json');
  writeFileSync(
    cfgPath,
    JSON.stringify({
      format: 'ifpp-station/1', name: 'panel', kind: 'panel-jig', store: 'store', journal: 'journal', reports: 'reports',
      // The board's pins as on the simulated jig; nothing connects to its port (the jig is injected).
      board: JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures-config/sim-jig-8.json'), 'utf8')).board,
      bridges: [{ id: 'b0', port: 'bridge0', slots: n }],
      slots: ids.map((id, i) => ({ id, bridge: 'b0', channel: i, row: 1, col: i + 1 })),
    }),
  );
  const config = await requireConfig(cfgPath);
  const sim = simHardware(config, { jig: true });
  const card = (i: number) => euiccCardFromReel({ reel: f.reel, eid: f.eids[i]!, stateDir }, 0);
  for (const [i, id] of ids.entries()) sim.slots.get(id)!.insertCard(await card(i));
  const bus = new EventBus();
  const events: StationEvent[] = [];
  bus.on((e) => events.push(e));
  const station = await Station.open(config, { bus, hardware: sim.hardware });
  return { f, config, sim, jig: sim.jig!, ids, card, bus, events, station };
}
