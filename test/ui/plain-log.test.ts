import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/station/events.ts';
import type { StationEvent } from '../../src/station/events.ts';
import { attachPlainLog, createPlainLog } from '../../src/ui/plain-log.ts';
import { T0, jig, started } from './helpers.tsx';

function logOf(events: StationEvent[], opts = {}): string[] {
  const out: string[] = [];
  const log = createPlainLog((l) => out.push(l), opts);
  for (const e of events) log(e);
  return out;
}

describe('plain log', () => {
  it('writes one readable line per event, with ISO time and the slot', () => {
    const out = logOf([
      started(jig(1, 2)),
      { type: 'slot.state', t: T0 + 1000, slot: 'A1', state: 'fail', reason: 'card rejected segment 7', code: 'EUICC_6A80' },
      { type: 'station.prompt', t: T0 + 2000, message: 'Load panel' },
      { type: 'bridge.disconnected', t: T0 + 3000, bridge: 'b0', reason: 'USB unplugged' },
    ]);
    expect(out).toEqual([
      '2025-01-06T08:00:00.000Z -    station line-3 started (config jig-8.json, panel-jig, 2 slots)',
      '2025-01-06T08:00:01.000Z A1   ✗ FAIL: card rejected segment 7 [EUICC_6A80]',
      '2025-01-06T08:00:02.000Z -    OPERATOR: Load panel',
      '2025-01-06T08:00:03.000Z -    bridge b0 DISCONNECTED: USB unplugged',
    ]);
  });

  it('logs progress in steps, not at 10 Hz, and APDUs only when asked', () => {
    const events: StationEvent[] = [];
    for (let i = 0; i <= 100; i++) {
      events.push({ type: 'slot.progress', t: T0 + i * 100, slot: 'A1', bytesSent: i * 100, bytesTotal: 10_000, segmentsSent: i, segmentsTotal: 100 });
      events.push({ type: 'slot.apdu', t: T0 + i * 100, slot: 'A1', summary: `STORE DATA ${i}`, sw: '9000', micros: 900 });
    }
    const out = logOf(events, { timestamps: false });
    expect(out.map((l) => /\((\d+)%/.exec(l)?.[1])).toEqual(['0', '25', '50', '75', '100']);
    expect(logOf(events, { timestamps: false, apdus: true }).filter((l) => l.includes('APDU'))).toHaveLength(101);
  });

  it('attaches to a bus and writes lines to a stream', () => {
    const bus = new EventBus();
    const chunks: string[] = [];
    const off = attachPlainLog(bus, { write: (c: string) => chunks.push(c) }, { timestamps: false });
    bus.emit({ type: 'station.phase', t: T0, phase: 'paused', reason: 'operator' });
    off();
    bus.emit({ type: 'station.phase', t: T0, phase: 'running' });
    expect(chunks).toEqual(['-    phase PAUSED: operator\n']);
  });
});
