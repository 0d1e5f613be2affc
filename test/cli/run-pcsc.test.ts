/**
 * A station whose slots are PC/SC readers, end to end: `ifpp run --headless` (its own process,
 * through libpcsclite) -> a private pcscd with four vsmartcard readers -> four simulated eUICCs
 * (in this process, over the vpcd socket protocol, state in the world's chip files). Three chips
 * load, one is pulled mid-load (interrupted, with the cause, as on the bridge path), and put back
 * it loads its spare BPP; the journal, the report and the chips agree.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { VpcdCard } from '../../src/sim/vpcd/vpcd-card.ts';
import { buildWorld } from '../../src/sim/world/build-world.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import { importEuiccData } from '../../src/station/euicc-data/euicc-store.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { BppStore } from '../../src/station/store/bpp-store.ts';
import { importBatch } from '../../src/station/store/import-batch.ts';
import { pcscdUnavailable, startPcscd, type PrivatePcscd } from '../helpers/pcscd.ts';

const why = pcscdUnavailable();
if (why) console.warn(`[skip] PC/SC station tests: ${why}`);

const BIN = resolve('bin/ifpp.js');

type Ev = { type: string; t: number; slot?: string; outcome?: string; code?: string; reason?: string; eid?: string };

describe.skipIf(why !== undefined)('ifpp run on four PC/SC readers (pcscd + vpcd)', () => {
  let pcscd: PrivatePcscd;
  let world: string;
  let config: string;
  let eids: string[];
  const cards: VpcdCard[] = [];

  beforeAll(async () => {
    pcscd = await startPcscd(4);
    world = join(mkdtempSync(join(tmpdir(), 'ifpp-run-pcsc-')), 'world');
    const w = await buildWorld({ out: world, kind: 'socket-programmer', slots: 4, units: 4, spares: 1, profile: 'synthetic:3000', timeScale: 0 });
    // The same station, its slots in four readers instead of on bridges and a board.
    const base = JSON.parse(readFileSync(w.stationFile, 'utf8')) as Record<string, unknown>;
    delete base.board;
    delete base.bridges;
    const readers = pcscd.readers.map((r, i) => ({ id: `r${i}`, name: r.name.replace(/^IFPP /, 'ifpp*') }));
    const slots = readers.map((r, i) => ({ id: `R${i + 1}`, reader: r.id, row: 1, col: i + 1, socket: 'socket' }));
    config = join(world, 'station-pcsc.json');
    writeFileSync(config, JSON.stringify({ ...base, readers, slots }, null, 2));
    const cfg = await requireConfig(config);
    const store = BppStore.open(cfg.store);
    await importBatch(store, join(world, w.world.files.batch), { checks: bppChecks });
    store.close();
    await importEuiccData(cfg.store, join(world, w.world.files.euiccData), 'sim-eum');
    eids = [];
    for (let i = 0; i < 4; i++) {
      // The fourth chip is pulled at its 4th BPP load call.
      const card = await euiccCardFromReel({ reel: join(world, w.world.files.reel), stateDir: join(world, w.world.files.chipState), firstChip: i, ...(i === 3 ? { faults: { removeAtLoadCall: 4 } } : {}) });
      eids.push(card.eid);
      const v = new VpcdCard(card, { port: pcscd.readers[i]!.port });
      cards.push(v);
      v.insert();
    }
  }, 120_000);

  afterAll(async () => {
    for (const c of cards) c.close();
    await pcscd?.stop();
  });

  it('loads four chips in parallel; a chip pulled mid-load ends interrupted with the cause and, put back, loads its spare; journal and report agree', async () => {
    const p = spawn(process.execPath, [BIN, 'run', '--config', config, '--headless', '--units', '5', '--events', '-'], { env: pcscd.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (b) => (stderr += b));
    const events: Ev[] = [];
    const exited = new Promise<number>((r) => p.once('exit', (code) => r(code ?? -1)));
    for await (const line of createInterface({ input: p.stdout })) {
      const e = JSON.parse(line) as Ev;
      events.push(e);
      // The pulled chip goes back into its reader once its unit has ended.
      if (e.type === 'unit.done' && e.slot === 'R4' && e.outcome === 'interrupted') cards[3]!.insert();
    }
    const code = await exited;
    const done = events.filter((e) => e.type === 'unit.done');
    expect(done.map((e) => [e.slot, e.outcome]).sort(), stderr.slice(-3000)).toEqual([
      ['R1', 'installed'],
      ['R2', 'installed'],
      ['R3', 'installed'],
      ['R4', 'installed'],
      ['R4', 'interrupted'],
    ]);
    // Stopped with a unit interrupted (the chip was run again, the attempt stays on record).
    expect(code).toBe(3);
    const cut = events.find((e) => e.type === 'slot.result' && e.outcome === 'interrupted')!;
    expect(cut).toMatchObject({ slot: 'R4', code: 'CARD_REMOVED', reason: expect.stringMatching(/card removed during the load/) });
    // In parallel: every reader's first unit started before any of them ended.
    const starts = ['R1', 'R2', 'R3', 'R4'].map((s) => events.find((e) => e.type === 'slot.bpp-chosen' && e.slot === s)!.t);
    const firstEnd = Math.min(...done.map((e) => e.t));
    expect(Math.max(...starts)).toBeLessThan(firstEnd);

    // The journal has nothing open; the report counts every attempt.
    const report = await new Promise<{ code: number; out: string }>((r) => {
      const q = spawn(process.execPath, [BIN, 'report', '--config', config, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      q.stdout.on('data', (b) => (out += b));
      q.once('exit', (c) => r({ code: c ?? -1, out }));
    });
    expect(report.code).toBe(0);
    const rep = JSON.parse(report.out) as { open: string[]; units: number };
    expect(rep.open).toEqual([]);
    expect(rep.units).toBe(5);
    const reports = join(world, 'station', 'reports');
    const csvFile = readdirSync(reports).find((f) => f.startsWith('units-') && f.endsWith('.csv'))!;
    const csv = readFileSync(join(reports, csvFile), 'utf8').trim().split('\r\n');
    const cols = csv[0]!.split(',');
    const rows = csv.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
    expect(rows.filter((r) => r.eid === eids[3]).map((r) => r.outcome).sort()).toEqual(['installed', 'interrupted']);
    // The chips: each holds one profile and used one key; the pulled one burnt its first key
    // and used its spare.
    for (let i = 0; i < 4; i++) {
      const chip = JSON.parse(readFileSync(join(world, 'chips', `${eids[i]}.json`), 'utf8')) as { keys: { state: string }[]; profiles: unknown[] };
      expect(chip.profiles).toHaveLength(1);
      expect(chip.keys.filter((k) => k.state === 'consumed')).toHaveLength(i === 3 ? 2 : 1);
    }
  }, 180_000);
});
