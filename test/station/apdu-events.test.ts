/**
 * The slot detail's exchange summary is filled from real APDUs: the station reports every APDU
 * of a unit (slot.apdu: command and header, status word, time), here from a unit loaded on the
 * in-process panel jig, and the UI's detail pane built from those events shows the count, the
 * not-OK answers and the latest exchanges instead of "none yet".
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
import { describeApdu } from '../../src/station/orchestrator/apdu-tap.ts';
import { createViewModel, reduceAll } from '../../src/ui/state/view-model.ts';
import { detailLines } from '../../src/ui/components/DetailPane.tsx';

describe('APDU events', () => {
  it('a loaded unit reports each APDU; the detail pane shows the count, failures and latest exchanges', async () => {
    const f = await miniFactory({ chips: 1, keys: 2, perEuicc: 2 });
    f.close();
    const cfgPath = join(f.dir, 'station.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({
        format: 'ifpp-station/1', name: 'panel', kind: 'panel-jig', store: 'store', journal: 'journal', reports: 'reports',
        board: JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures-config/sim-jig-8.json'), 'utf8')).board,
        bridges: [{ id: 'b0', port: 'bridge0', slots: 1 }],
        slots: [{ id: 'S1', bridge: 'b0', channel: 0, row: 1, col: 1 }],
      }),
    );
    const config = await requireConfig(cfgPath);
    const sim = simHardware(config, { jig: true });
    sim.slots.get('S1')!.insertCard(await euiccCardFromReel({ reel: f.reel, eid: f.eids[0]!, stateDir: join(f.dir, 'chips') }, 0));
    const bus = new EventBus();
    const events: StationEvent[] = [];
    bus.on((e) => events.push(e));
    const station = await Station.open(config, { bus, hardware: sim.hardware });
    sim.jig!.once('prompt', () => setImmediate(() => sim.jig!.pressStart()));
    const summary = await station.run({ units: 1 });
    await station.close();
    expect(summary.byOutcome).toEqual({ installed: 1 });

    const apdus = events.filter((e) => e.type === 'slot.apdu');
    const progress = events.filter((e) => e.type === 'slot.progress');
    expect(apdus.every((a) => a.slot === 'S1')).toBe(true);
    // At least one APDU per load call, plus the selection and identification before them.
    expect(apdus.length).toBeGreaterThan(progress.length);
    expect(apdus[0]!.summary).toMatch(/^SELECT 00A40400 \+\d+ B$/);
    expect(apdus.filter((a) => a.summary.startsWith('STORE DATA')).length).toBeGreaterThanOrEqual(progress.length);
    // The command header only: no command data reaches the events.
    for (const a of apdus) expect(a.summary).toMatch(/^([A-Z]+( [A-Z]+)*|INS [0-9A-F]{2}) [0-9A-F]{8}( \+\d+ B)?$/);
    for (const a of apdus) expect(a.micros).toBeGreaterThanOrEqual(0);
    const notOk = apdus.filter((a) => !(a.sw === '9000' || /^(61|91)/.test(a.sw))).length;

    const model = reduceAll(createViewModel(), events);
    const slot = model.slots['S1']!;
    expect(slot.apduCount).toBe(apdus.length);
    expect(slot.apduErrors).toBe(notOk);
    const text = detailLines(model, slot, events.at(-1)!.t, 100, 40)
      .map((line) => line.map((seg) => seg.text).join(''))
      .join('\n');
    expect(text).toContain(`APDUs ${apdus.length} sent, ${notOk} not OK`);
    expect(text).not.toContain('none yet');
    expect(text).toContain(`${apdus.at(-1)!.summary} → ${apdus.at(-1)!.sw}`);
  }, 120_000);

  it('describeApdu names the command, its header and data length', () => {
    expect(describeApdu(Uint8Array.of(0x80, 0xe2, 0x91, 0x00, 0x03, 1, 2, 3))).toBe('STORE DATA 80E29100 +3 B');
    expect(describeApdu(Uint8Array.of(0x00, 0xc0, 0x00, 0x00, 0x20))).toBe('GET RESPONSE 00C00000');
    expect(describeApdu(Uint8Array.of(0x00, 0x12, 0x00, 0x00))).toBe('INS 12 00120000');
    expect(describeApdu(Uint8Array.of(0x00, 0x12))).toBe('short APDU 0012');
  });
});
