/**
 * Production metrics on the real station (bridge simulator on a pty, no jig board): contact
 * cycles persist across a restart, the maintenance limit takes a slot out of service and
 * `ifpp slots reset-cycles` brings it back (journaled with who/when), the Prometheus endpoint
 * serves the run's counts, summaries reach the event stream, `ifpp report` writes the per-slot
 * section, and `ifpp history` lists every attempt of a chip retried after a burnt key.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { miniFactory } from '../helpers/mini-factory.ts';
import { BridgeSim } from '../../src/sim/bridge/bridge-sim.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import { Station } from '../../src/station/orchestrator/station.ts';
import { EventBus, type EventOf, type StationEvent } from '../../src/station/events.ts';
import { Journal } from '../../src/station/journal/journal.ts';
import { serveMetrics } from '../../src/station/metrics/prometheus.ts';
import { generateReports } from '../../src/station/report/generate.ts';
import { runUnit } from '../../src/station/orchestrator/unit-runner.ts';
import { EuiccTrust } from '../../src/station/orchestrator/euicc-trust.ts';
import { LocalInventory } from '../../src/station/inventory/local-inventory.ts';
import * as resetCycles from '../../src/cli/commands/slots-reset-cycles.ts';
import * as history from '../../src/cli/commands/history.ts';
import * as slotsCmd from '../../src/cli/commands/slots.ts';

/** Runs a CLI command module in-process and returns its exit code and stdout. */
async function cli(mod: { run(args: string[]): Promise<number> }, args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await mod.run(args);
    return { code, out: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

/** A one-slot socket programmer on bridge0 in `dir`; returns the config file's path. */
function oneSlotConfig(dir: string, slot: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, 'station.json');
  writeFileSync(
    path,
    JSON.stringify({
      name: 'metrics', kind: 'socket-programmer', store: 'store', journal: 'journal', reports: 'reports',
      bridges: [{ id: 'b0', port: 'bridge0', slots: 1 }],
      slots: [{ id: slot, bridge: 'b0', channel: 0, row: 1, col: 1 }],
      ...extra,
    }),
  );
  return path;
}

function metricValue(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('production metrics on the running station', () => {
  it('counts cycles across a restart, stops a worn slot until reset-cycles, serves matching metrics and reports per slot', async () => {
    const f = await miniFactory({ chips: 6, keys: 2, perEuicc: 2 });
    f.close();
    const stateDir = join(f.dir, 'chips');
    let next = 0;
    const newCard = () => euiccCardFromReel({ reel: f.reel, eid: f.eids[next++]!, stateDir }, 0);
    const sim = await BridgeSim.start({ slots: 1, link: join(f.dir, 'bridge0'), timeScale: 0, cards: [await newCard()] });
    const cfgPath = oneSlotConfig(f.dir, 'S1', { maintenance: { sockets: { socket: { cycleLimit: 3, warnAtPercent: 60 } } }, metrics: { summaryEverySeconds: 0 } });
    const config = await requireConfig(cfgPath);
    const swapOnDone = (bus: EventBus) =>
      bus.on((e) => {
        if (e.type !== 'unit.done') return;
        setImmediate(async () => {
          sim.removeCard(0);
          sim.insertCard(0, await newCard());
        });
      });

    // Run 1: two units, scraped from the metrics endpoint.
    const bus1 = new EventBus();
    const events1: StationEvent[] = [];
    bus1.on((e) => events1.push(e));
    swapOnDone(bus1);
    const server = await serveMetrics(bus1, 0);
    const st1 = await Station.open(config, { bus: bus1, bridgeOptions: { heartbeatMs: 0 } });
    const sum1 = await st1.run({ units: 2 });
    await st1.close();
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    const text = await res.text();
    await server.close();
    expect(res.status).toBe(200);
    expect(sum1.byOutcome).toEqual({ installed: 2 });
    expect(metricValue(text, 'ifpp_units_total', 'slot="S1",outcome="installed"')).toBe(2);
    expect(metricValue(text, 'ifpp_units_first_pass_total', 'slot="S1"')).toBe(2);
    expect(metricValue(text, 'ifpp_unit_duration_seconds_count', 'slot="S1",outcome="installed"')).toBe(2);
    expect(metricValue(text, 'ifpp_slot_cycles', 'slot="S1"')).toBe(2);
    expect(metricValue(text, 'ifpp_slot_cycle_limit', 'slot="S1"')).toBe(3);
    expect(metricValue(text, 'ifpp_slot_service', 'slot="S1",status="warning"')).toBe(1);
    expect(metricValue(text, 'ifpp_slot_first_pass_yield', 'slot="S1",scope="run"')).toBe(1);
    expect(metricValue(text, 'ifpp_slot_state', 'slot="S1",state="pass"')).toBe(1);
    const stock = events1.filter((e): e is EventOf<'store.stock'> => e.type === 'store.stock').at(-1)!;
    expect(metricValue(text, 'ifpp_bpp_available', `batch="${stock.batches[0]!.batchId}"`)).toBe(stock.batches[0]!.available);
    const finals = events1.filter((e): e is EventOf<'station.summary'> => e.type === 'station.summary');
    expect(finals.map((s) => [s.final, s.units, s.byOutcome])).toEqual([[true, 2, { installed: 2 }]]);
    expect(events1.findIndex((e) => e.type === 'station.summary')).toBeLessThan(events1.findIndex((e) => e.type === 'station.stopped'));

    // Run 2 (a restart): the count goes on from 2; the third contact reaches the limit.
    const bus2 = new EventBus();
    const events2: StationEvent[] = [];
    bus2.on((e) => events2.push(e));
    swapOnDone(bus2);
    let refused = 0;
    bus2.on((e) => {
      if (e.type !== 'slot.state' || e.code !== 'SLOT_OUT_OF_SERVICE') return;
      refused++;
      setImmediate(async () => {
        // The technician services the pins and resets the counter; then re-seats the unit.
        const r = await cli(resetCycles, ['--config', cfgPath, '--slot', 'S1', '--by', 'tester', '--note', 'pins replaced']);
        expect(r.code).toBe(0);
        expect(r.out).toMatch(/reset from 3 to 0 .* by tester/);
        sim.removeCard(0);
        sim.insertCard(0, await newCard());
      });
    });
    const st2 = await Station.open(config, { bus: bus2, bridgeOptions: { heartbeatMs: 0 } });
    expect(st2.metrics.wear('S1').cycles).toBe(2);
    const sum2 = await st2.run({ units: 2 });
    await st2.close();
    await sim.close();
    expect(sum2.byOutcome).toEqual({ installed: 2 });
    expect(refused).toBe(1);
    const service = events2.filter((e): e is EventOf<'slot.service'> => e.type === 'slot.service').map((e) => [e.status, e.cycles, e.resetBy ?? null]);
    expect(service).toEqual([
      ['warning', 2, null],
      ['out-of-service', 3, null],
      ['ok', 0, 'tester'],
    ]);
    const { records } = await Journal.read(join(config.journal, 'journal.ndjson'));
    const resets = records.filter((r) => r.type === 'slot.cycles-reset');
    expect(resets).toHaveLength(1);
    expect(resets[0]).toMatchObject({ slot: 'S1', by: 'tester', cycles: 3, note: 'pins replaced' });
    expect(typeof resets[0]!.resetAt).toBe('string');
    const stats = events2.filter((e): e is EventOf<'slot.stats'> => e.type === 'slot.stats').at(-1)!;
    expect(stats).toMatchObject({ run: { units: 2 }, history: { units: 4, fpy: 1 }, cycles: 1, service: 'ok' });

    // ifpp slots: the same figures and wear, read-only.
    const slotsOut = await cli(slotsCmd, ['--config', cfgPath, '--json']);
    expect(slotsOut.code).toBe(0);
    expect(JSON.parse(slotsOut.out).slots[0]).toMatchObject({ slot: 'S1', units: 4, fpy: 1, cycles: 1, cycleLimit: 3, service: 'ok', yieldFlag: null });
    const slotsText = await cli(slotsCmd, ['--config', cfgPath]);
    expect(slotsText.out).toMatch(/^S1\s+b0\s+4\s+4\s+100\.0%\s+100\.0%\s+4\s+0\s+0\s+1\/3\s+ok/m);

    // ifpp report: the per-slot section and CSV over the whole journal.
    const rep = await generateReports({ config, now: new Date('2026-01-01T00:00:00Z') });
    expect(rep.slots.slots).toHaveLength(1);
    expect(rep.slots.slots[0]).toMatchObject({ slot: 'S1', bridge: 'b0', units: 4, installed: 4, fpy: 1, cycles: 1, cycleLimit: 3, service: 'ok' });
    const csv = readFileSync(rep.slotsCsv.path, 'utf8').split('\r\n');
    expect(csv[0]).toMatch(/^slot,bridge,configured,units,judged,installed,passFirstTime,fpy/);
    expect(csv[1]).toMatch(/^S1,b0,true,4,4,4,4,1\.0000,/);
  });

  it('ifpp history lists every attempt of a chip retried after a burnt key, and its BPPs in the store', async () => {
    const f = await miniFactory({ chips: 2, keys: 2, perEuicc: 2 });
    const { journal } = await Journal.open(join(f.dir, 'journal', 'journal.ndjson'));
    const eid = f.eids[1]!;
    const { card, slot } = await f.card(eid, 'S7');
    card.faults.muteAtLoadCall = 5; // the first attempt dies after BF23: its key is burnt
    const r = await runUnit(slot, {
      inventory: new LocalInventory(f.store),
      trust: new EuiccTrust(f.euicc),
      journal,
      bus: new EventBus(),
      signal: new AbortController().signal,
      policy: { blockSize: 255, useLogicalChannel: false, maxAttemptsPerChip: 2, verifyProfileListed: true },
    });
    await journal.close();
    f.close();
    expect([r.outcome, r.attempts]).toEqual(['installed', 2]);
    const cfgPath = oneSlotConfig(f.dir, 'S7');
    const json = await cli(history, [eid, '--config', cfgPath, '--json']);
    expect(json.code).toBe(0);
    const h = JSON.parse(json.out) as { attempts: Array<Record<string, unknown>>; bpps: Array<Record<string, unknown>> };
    expect(h.attempts.map((a) => [a.attempt, a.slot, a.outcome, a.keyBurnt])).toEqual([
      [1, 'S7', 'failed-key-burnt', true],
      [2, 'S7', 'installed', true],
    ]);
    expect(h.attempts[0]!.batchId).toBe(h.attempts[1]!.batchId);
    expect(h.attempts[0]!.position).not.toBe(h.attempts[1]!.position);
    for (const a of h.attempts) expect(typeof a.ended).toBe('string');
    expect(h.attempts.map((a) => a.finished)).toEqual([null, null]); // finishing is off by default
    expect(h.bpps.map((b) => b.state).sort()).toEqual(['failed (key burnt)', 'installed']);
    const text = await cli(history, [eid, '--config', cfgPath]);
    expect(text.out).toMatch(/2 attempts: 1 installed, 2 keys burnt/);
    expect(text.out).toMatch(/failed-key-burnt \[/);
    const none = await cli(history, [f.eids[0]!, '--config', cfgPath]);
    expect(none.code).toBe(0); // its BPPs are in the store, never tried
    expect(none.out).toMatch(/no attempt in 1 journal/);
  });
});
