/**
 * SIGINT / SIGTERM during start-up (stores open, reconciliation, devices): the station stops
 * cleanly as soon as the step under way ends, before any unit starts, with the documented exit
 * code 0 (docs/operator-guide.md, "Exit codes") instead of dying by the signal. The signal is
 * delivered to the process's handlers (process.emit, synchronously) at a known point of the
 * start-up: while the station checks its stock.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { miniFactory } from '../helpers/mini-factory.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { simHardware } from '../../src/sim/inprocess/sim-hardware.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import { BppStore } from '../../src/station/store/bpp-store.ts';
import { LocalInventory } from '../../src/station/inventory/local-inventory.ts';
import type { Inventory } from '../../src/station/inventory/inventory.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { runStation } from '../../src/cli/run-station.ts';
import { StopSignals } from '../../src/cli/stop-signals.ts';
import { EXIT, runExitCode } from '../../src/cli/exit-codes.ts';

describe('a stop signal during start-up', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s: the station closes again before any unit, exit 0, nothing loaded', async (sig) => {
    const f = await miniFactory({ chips: 1, keys: 2, perEuicc: 1 });
    f.close();
    const cfgPath = join(f.dir, 'station.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({
        format: 'ifpp-station/1', name: 'stop-at-start', kind: 'socket-programmer', store: 'store', journal: 'journal', reports: 'reports',
        bridges: [{ id: 'b0', port: 'bridge0', slots: 1 }],
        slots: [{ id: 'S1', bridge: 'b0', channel: 0, row: 1, col: 1 }],
      }),
    );
    const config = await requireConfig(cfgPath);
    // A chip is in the socket: a station that went on would load it at once.
    const sim = simHardware(config);
    const card = await euiccCardFromReel({ reel: f.reel, eid: f.eids[0]!, stateDir: join(f.dir, 'chips') }, 0);
    sim.slots.get('S1')!.insertCard(card);
    const store = BppStore.open(config.store);
    const local = new LocalInventory(store);
    const inventory: Inventory = Object.assign(Object.create(local) as Inventory, {
      counts: () => {
        process.emit(sig, sig); // the operator's Ctrl+C (or the supervisor's SIGTERM) arrives now
        return local.counts();
      },
    });
    const notices: string[] = [];
    const stops = new StopSignals((s) => notices.push(s));
    let summary;
    try {
      summary = await runStation(config, { headless: true, events: join(f.dir, 'events.ndjson'), stops, open: { hardware: sim.hardware, inventory } });
    } finally {
      stops.dispose();
    }
    expect(notices).toEqual([sig]);
    expect(summary).toEqual({ units: 0, byOutcome: {}, reason: `${sig} during start-up` });
    expect(runExitCode(summary, false)).toBe(EXIT.ok);
    expect(card.chip.state.profiles).toEqual([]);
    const { records } = await Journal.read(join(config.journal, 'journal.ndjson'));
    expect(records.filter((r) => r.type.startsWith('unit.'))).toEqual([]);
  }, 60_000);
});
