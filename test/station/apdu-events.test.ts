/**
 * The slot detail's exchange summary is filled from real APDUs: the station reports every APDU
 * of a unit (slot.apdu: command and header, status word, time), here from a unit loaded on the
 * in-process panel jig, and the UI's detail pane built from those events shows the count, the
 * not-OK answers and the latest exchanges instead of "none yet".
 */
import { describe, expect, it } from 'vitest';
import { openPanel } from '../helpers/panel.ts';
import { describeApdu } from '../../src/station/orchestrator/apdu-tap.ts';
import { createViewModel, reduceAll } from '../../src/ui/state/view-model.ts';
import { detailLines } from '../../src/ui/components/DetailPane.tsx';

describe('APDU events', () => {
  it('a loaded unit reports each APDU; the detail pane shows the count, failures and latest exchanges', async () => {
    const { sim, events, station } = await openPanel(1);
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
