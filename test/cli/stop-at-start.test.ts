/**
 * SIGINT / SIGTERM during start-up (stores open, reconciliation, devices): the station stops
 * cleanly as soon as the step under way ends, before any unit starts, with the documented exit
 * code 0 (docs/operator-guide.md, "Exit codes") instead of dying by the signal. In-process, the
 * signal is delivered to the process's handlers (process.emit, synchronously) at a known point
 * of the start-up: while the station checks its stock. And once for real: a SIGTERM sent by the
 * kernel to an `ifpp run` process while it opens its bridge.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BridgeSim } from '../../src/sim/bridge/bridge-sim.ts';
import type { PtyDevice } from '../../src/sim/pty/pty-device.ts';
import { BppState } from '../../src/station/store/bpp-store.ts';
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

/** A factory with one chip and a one-socket programmer config on its store (port bridge0). */
async function oneSocketStation(name: string) {
  const f = await miniFactory({ chips: 1, keys: 2, perEuicc: 1 });
  f.close();
  const cfgPath = join(f.dir, 'station.json');
  writeFileSync(
    cfgPath,
    JSON.stringify({
      format: 'ifpp-station/1', name, kind: 'socket-programmer', store: 'store', journal: 'journal', reports: 'reports',
      bridges: [{ id: 'b0', port: 'bridge0', slots: 1 }],
      slots: [{ id: 'S1', bridge: 'b0', channel: 0, row: 1, col: 1 }],
    }),
  );
  return { f, cfgPath };
}

describe('a stop signal during start-up', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s: the station closes again before any unit, exit 0, nothing loaded', async (sig) => {
    const { f, cfgPath } = await oneSocketStation('stop-at-start');
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

describe('a stop signal during start-up, sent to a real ifpp run process', () => {
  it('SIGTERM while the station opens its bridge: start-up ends, the station closes again, exit 0, nothing half-written', async () => {
    const { f, cfgPath } = await oneSocketStation('stop-at-start-process');
    // A chip is in the socket: a station that went on would load it at once.
    const card = await euiccCardFromReel({ reel: f.reel, eid: f.eids[0]!, stateDir: join(f.dir, 'chips') }, 0);
    const sim = await BridgeSim.start({ slots: 1, link: join(f.dir, 'bridge0'), timeScale: 0, cards: [card] });
    // The bridge's answer to the station's first question (INFO) is held until the process says
    // it has the signal: the signal then lands in the middle of start-up (journal, store and
    // reconciliation done, devices opening), whatever the machine's load.
    const pty = (sim as unknown as { pty: PtyDevice }).pty;
    const write = pty.write.bind(pty);
    const held: (Uint8Array | string)[] = [];
    let holding = true;
    pty.write = (d) => void (holding ? held.push(d) : write(d));
    const release = () => {
      holding = false;
      for (const d of held.splice(0)) write(d);
    };
    const child = spawn(process.execPath, [resolve(import.meta.dirname, '../../bin/ifpp.js'), 'run', '--config', cfgPath, '--headless', '--units', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (holding && stderr.includes('SIGTERM: stopping as soon as start-up ends')) release();
      });
      sim.on('line', (dir, line) => {
        if (dir === 'rx' && / INFO/.test(line) && holding && child.exitCode === null) child.kill('SIGTERM');
      });
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (c, sg) => r([c, sg])));
      expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
      expect(stderr).toContain('station stopped (SIGTERM during start-up): 0 units');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await sim.close();
    }
    // Nothing loaded, nothing half-written: no unit in the journal and no torn line, every BPP
    // still available, the chip without a profile.
    expect(card.chip.state.profiles).toEqual([]);
    const { records, tornTail } = await Journal.read(join(f.dir, 'journal', 'journal.ndjson'));
    expect(tornTail).toBe(false);
    expect(records.filter((r) => r.type.startsWith('unit.') || r.type === 'bpp.chosen' || r.type === 'bf23.sending')).toEqual([]);
    const store = BppStore.open(join(f.dir, 'store'));
    try {
      for (const c of store.counts().values()) expect(c[BppState.inFlight] + c[BppState.installed] + c[BppState.failedKeyBurnt]).toBe(0);
    } finally {
      store.close();
    }
  }, 60_000);
});
