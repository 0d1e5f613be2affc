/**
 * `ifpp bench` on the real PC/SC stack: the CLI (its own process, through libpcsclite) -> a
 * private pcscd -> vpcd -> `ifpp sim vpcd` serving a world's simulated eUICC, whose state file
 * is the ground truth the answers are checked against.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/sim/world/build-world.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import { importEuiccData } from '../../src/station/euicc-data/euicc-store.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { BppStore } from '../../src/station/store/bpp-store.ts';
import { importBatch } from '../../src/station/store/import-batch.ts';
import { pcscdUnavailable, startPcscd, type PrivatePcscd } from '../helpers/pcscd.ts';
import { run as benchRun } from '../../src/cli/commands/bench.ts';
import { run as reportRun } from '../../src/cli/commands/report.ts';
import { readdirSync } from 'node:fs';
import { isIfppError } from '../../src/core/errors.ts';

const why = pcscdUnavailable();
if (why) console.warn(`[skip] ifpp bench PC/SC tests: ${why}`);

const BIN = resolve('bin/ifpp.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>;
}

describe.skipIf(why !== undefined)('ifpp bench through pcscd + vpcd', () => {
  let pcscd: PrivatePcscd;
  let world: string;
  let eids: string[];
  const vpcds: { proc: ChildProcessWithoutNullStreams; lines: AsyncIterator<string> }[] = [];
  let env: NodeJS.ProcessEnv;

  function ifpp(...args: string[]): Promise<Run> {
    return new Promise((done) => {
      const p = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (b) => (stdout += b));
      p.stderr.on('data', (b) => (stderr += b));
      p.on('exit', (code) => {
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(stdout) as Record<string, unknown>;
        } catch {
          /* text output */
        }
        done({ code: code ?? -1, stdout, stderr, json });
      });
    });
  }

  /** The same command in this process (a new process per command costs seconds): stdout captured. */
  async function bench(...args: string[]): Promise<Run> {
    let stdout = '';
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    }) as typeof process.stdout.write;
    let code: number;
    let stderr = '';
    try {
      code = await benchRun(args);
    } catch (e) {
      if (!isIfppError(e)) throw e;
      code = e.code === 'CLI_USAGE' ? 2 : 1;
      stderr = e.message;
    } finally {
      process.stdout.write = write;
    }
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(stdout) as Record<string, unknown>;
    } catch {
      /* text output */
    }
    return { code, stdout, stderr, json };
  }

  function startVpcd(i: number, extra: string[]): void {
    const proc = spawn(process.execPath, [BIN, 'sim', 'vpcd', '--world', world, '--eid', eids[i]!, '--port', String(pcscd.readers[i]!.port), '--quiet', ...extra], { env, stdio: 'pipe' });
    vpcds[i] = { proc, lines: createInterface({ input: proc.stdout })[Symbol.asyncIterator]() };
  }

  /** Next vpcd event line with this event name. */
  async function vpcdEvent(i: number, event: string): Promise<Record<string, unknown>> {
    for (;;) {
      const n = await vpcds[i]!.lines.next();
      if (n.done) throw new Error(`sim vpcd ${i} ended before "${event}"`);
      const o = JSON.parse(n.value) as Record<string, unknown>;
      if (o.event === event) return o;
    }
  }

  const station = () => join(world, 'station.json');
  const stateOf = (eid: string) => JSON.parse(readFileSync(join(world, 'chips', `${eid}.json`), 'utf8')) as { keys: { state: string }[]; profiles: { iccid: string; state: string; nickname?: string }[]; notifications?: unknown[] };

  beforeAll(async () => {
    pcscd = await startPcscd(2);
    const dir = mkdtempSync(join(tmpdir(), 'ifpp-bench-'));
    env = { ...pcscd.env, IFPP_BENCH_TRACE: join(dir, 'trace.json') };
    // For the in-process commands: libpcsclite reads the socket name once, at the first context.
    process.env.PCSCLITE_CSOCK_NAME = pcscd.socket;
    process.env.IFPP_BENCH_TRACE = env.IFPP_BENCH_TRACE;
    world = join(dir, 'world');
    const w = await buildWorld({ out: world, slots: 2, units: 2, spares: 1, profile: 'synthetic:3000', timeScale: 0 });
    eids = [w.world.eids.first, w.world.eids.last];
    // The operator's imports: the world's batch and eUICC data into the station store.
    const config = await requireConfig(w.stationFile);
    const store = BppStore.open(config.store);
    await importBatch(store, join(world, w.world.files.batch), { checks: bppChecks });
    store.close();
    await importEuiccData(config.store, join(world, w.world.files.euiccData), 'sim-eum');
    for (let i = 0; i < 2; i++) {
      startVpcd(i, i === 1 ? ['--faults', '{"removeAtLoadCall":4}'] : []);
      await vpcdEvent(i, 'connected');
    }
  }, 120_000);

  afterAll(async () => {
    for (const v of vpcds) v.proc.stdin.end();
    await Promise.all(vpcds.map((v) => new Promise((r) => (v.proc.exitCode !== null ? r(null) : v.proc.once('exit', r)))));
    await pcscd?.stop();
  });

  it('info --json matches the chip state file: EID, no profiles, keys unused, FPA open, CERT.EUICC ok, no history', async () => {
    const r = await ifpp('bench', 'info', '--reader', pcscd.readers[0]!.name, '--config', station(), '--json');
    expect(r.code, r.stderr).toBe(0);
    const s = stateOf(eids[0]!);
    expect(r.json).toMatchObject({ ok: true, eid: eids[0], eidCheckDigits: 'ok', fpaServices: 'open', profiles: [], certificate: { verdict: 'ok' }, history: [] });
    expect(r.json.oneTimeKeys).toEqual({ unused: s.keys.filter((k) => k.state === 'unused').length, consumed: 0 });
    expect((r.json.oneTimeKeys as { unused: number }).unused).toBe(2);
  }, 60_000);

  it('refuses profile changes while the chip is in production, saying how to finish it', async () => {
    const r = await ifpp('bench', 'profiles', 'enable', '8949449999999990023', '--reader', 'IFPP*00 00', '--json');
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, code: 'BENCH_IN_PRODUCTION' });
    expect(String(r.json.hint)).toMatch(/ifpp bench finish/);
    const ambiguous = await bench('info', '--reader', 'IFPP vpcd', '--json');
    expect(ambiguous.json).toMatchObject({ ok: false, code: 'PCSC_READER_AMBIGUOUS' });
  }, 60_000);

  it('reprovision loads a BPP with the station guarantees; finish leaves no unused key; then LPA commands change the chip', async () => {
    const reader = pcscd.readers[0]!.name;
    const rp = await bench('reprovision', '--reader', reader, '--config', station(), '--json');
    expect(rp.code, rp.stdout + rp.stderr).toBe(0);
    expect(rp.json).toMatchObject({ ok: true, outcome: 'installed', eid: eids[0] });
    const iccid = String(rp.json.iccid);
    expect(stateOf(eids[0]!).profiles.map((p) => p.iccid)).toEqual([iccid]);

    const fin = await bench('finish', '--reader', reader, '--json');
    expect(fin.json).toMatchObject({ ok: true, keysDeleted: 1, fpaClosed: true, fpaServices: 'closed', oneTimeKeys: { unused: 0 } });
    expect(stateOf(eids[0]!).keys.filter((k) => k.state === 'unused')).toHaveLength(0);

    expect((await bench('profiles', 'enable', iccid, '--reader', reader, '--json')).json).toMatchObject({ ok: true, profiles: [{ iccid, state: 'enabled', class: 'operational' }] });
    expect((await bench('profiles', 'nickname', iccid, 'Field spare', '--reader', reader, '--json')).json).toMatchObject({ ok: true, profiles: [{ nickname: 'Field spare' }] });
    expect(stateOf(eids[0]!).profiles[0]).toMatchObject({ state: 'enabled', nickname: 'Field spare' });
    expect((await bench('profiles', 'disable', iccid, '--reader', reader, '--json')).json).toMatchObject({ ok: true, profiles: [{ state: 'disabled' }] });

    const nl = await bench('notifications', 'list', '--reader', reader, '--json');
    expect(nl.json).toMatchObject({ ok: true, notifications: [{ event: 'install', iccid }] });
    const seq = (nl.json.notifications as { seqNumber: number }[])[0]!.seqNumber;
    expect((await bench('notifications', 'remove', String(seq), '--reader', reader, '--json')).json).toMatchObject({ ok: true, removed: [seq], notifications: [] });
    expect(stateOf(eids[0]!).notifications).toEqual([]);

    const noYes = await bench('profiles', 'delete', iccid, '--reader', reader);
    expect(noYes.code).toBe(2);
    expect((await bench('profiles', 'delete', iccid, '--reader', reader, '--yes', '--json')).json).toMatchObject({ ok: true, profiles: [] });
    expect(stateOf(eids[0]!).profiles).toEqual([]);

    const info = await bench('info', '--reader', reader, '--config', station(), '--json');
    expect(info.json).toMatchObject({ ok: true, history: [{ outcome: 'installed', iccid, repair: true }] });

    const trace = await bench('trace');
    expect(trace.code).toBe(0);
    expect(trace.stdout).toMatch(/^ifpp bench info on IFPP vpcd/);
    expect(trace.stdout).toMatch(/> 80e2/);
  }, 120_000);

  it('a card pulled mid-load ends the repair as interrupted with the cause; back in the reader, reprovision loads the spare BPP', async () => {
    const reader = pcscd.readers[1]!.name;
    const first = await bench('reprovision', '--reader', reader, '--config', station(), '--json');
    expect(first.code).toBe(1);
    expect(first.json).toMatchObject({ ok: false, outcome: 'interrupted' });
    // The same outcome and code as a chip pulled from a bridge slot.
    expect(first.json).toMatchObject({ code: 'CARD_REMOVED', reason: expect.stringMatching(/card removed during the load: its BPP is spent/) });
    // One key burnt (which one depends on the BPP the store chose), the other still unused.
    expect(stateOf(eids[1]!).keys.map((k) => k.state).sort()).toEqual(['consumed', 'unused']);

    // Back in the reader at once (the technician puts the same chip back).
    vpcds[1]!.proc.stdin.write('insert\n');
    await vpcdEvent(1, 'inserted');
    const second = await bench('reprovision', '--reader', reader, '--config', station(), '--json');
    expect(second.json, JSON.stringify(second.json)).toMatchObject({ ok: true, outcome: 'installed', eid: eids[1] });
    expect(stateOf(eids[1]!).keys.map((k) => k.state)).toEqual(['consumed', 'consumed']);
    const info = await bench('info', '--reader', reader, '--config', station(), '--json');
    const history = info.json.history as { outcome: string; repair?: boolean }[];
    expect(history.map((h) => [h.outcome, h.repair])).toEqual([
      ['interrupted', true],
      ['installed', true],
    ]);

    // The PLR and the CSV carry the repairs.
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(await reportRun(['--config', station()])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    const reports = join(world, 'station', 'reports');
    const files = readdirSync(reports);
    const csv = readFileSync(join(reports, files.find((f) => f.startsWith('units-') && f.endsWith('.csv'))!), 'utf8').trim().split('\r\n');
    const cols = csv[0]!.split(',');
    const rows = csv.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
    expect(rows.filter((r) => r.eid === eids[1]).map((r) => [r.outcome, r.repair]), `${files.join(' ')}\n${csv.slice(0, 4).join('\n')}`).toEqual([
      ['interrupted', 'true'],
      ['installed', 'true'],
    ]);
    const plr = files.filter((f) => f.endsWith('.json')).map((f) => readFileSync(join(reports, f), 'utf8')).join('\n');
    expect(plr).toMatch(/"repair": ?true/);
  }, 120_000);
});
