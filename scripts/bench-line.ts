/**
 * Line benchmark: one throwaway PostgreSQL 15 server (as the tests start it), a metadata-only
 * inventory (rows without BPP bytes: the claim path never reads them), and 1, 2, 4, 8 simulated
 * stations (separate processes) × 16 slots claiming and settling through the station's own
 * PgInventory. Measures claim latency p50/p99, claims per second, the server's CPU (utime +
 * stime of every server process from /proc), the same claim path on the local store for
 * comparison, and a 1M-BPP inventory: bulk load rate and claim p99 at that size.
 *
 *   npm run bench:line -- [--stations 1,2,4,8] [--slots 16] [--claims 40] [--pace 1500] [--paced-claims 24]
 *                         [--whole-stations 4] [--whole-slots 4] [--whole-units 24] [--big 1000000] [--write]
 *   npm run bench:line -- --quick       every part at small sizes (a readiness check, under a minute)
 *
 * Also: the same claims at a station's own pace (each slot waits about a unit's card time
 * between claims: the latency a running line sees, not a saturation test), and whole
 * stations (`ifpp sim line`'s station processes, card time included): one station on its local
 * store against N stations on the line database (the throughput ratio). `--stations 0`,
 * `--whole-stations 0`, `--pace 0` or `--big 0` leave a part out (the ratio alone:
 * `--stations 0 --pace 0 --big 0`). Options given with --quick override its sizes. Each part's
 * wall time goes to stderr. Needs `npm run build` (the stations run dist/).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { migrate } from '../src/line/schema.ts';
import { openDb, type Db } from '../src/line/db.ts';
import { startPgCluster } from '../test/helpers/pg-cluster.ts';
import { benchEid, benchOtpk } from './bench-line-data.ts';
import { writeDocBlock } from './bench-station-doc.ts';

/** A mistyped option is a one-line message and exit 2, not a stack trace. */
function parseOrExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    process.stderr.write(`bench:line: ${(e as Error).message} (--help lists the options)\n`);
    process.exit(2);
  }
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FULL = { stations: '1,2,4,8', slots: '16', claims: '40', big: '1000000', pace: '1500', 'paced-claims': '24', 'whole-stations': '4', 'whole-slots': '4', 'whole-units': '24' };
const QUICK: typeof FULL = { stations: '1,2', slots: '16', claims: '5', big: '20000', pace: '200', 'paced-claims': '2', 'whole-stations': '2', 'whole-slots': '4', 'whole-units': '4' };
const given = parseOrExit(() => parseArgs({
  options: {
    ...(Object.fromEntries(Object.keys(FULL).map((k) => [k, { type: 'string' }])) as Record<keyof typeof FULL, { type: 'string' }>),
    quick: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
}).values);
if (given.help) {
  process.stdout.write(`Usage: npm run bench:line -- [options]     (run \`npm run build\` first: the stations run dist/)
  --stations LIST       station counts for the claim tables (default 1,2,4,8; 0 leaves the part out)
  --slots N             slots per station in the claim tables (default 16)
  --claims N            claims per slot at full speed (default 40)
  --pace MS             a unit's card time for the paced claims (default 1500; 0 leaves the part out)
  --paced-claims N      claims per slot at that pace (default 24)
  --whole-stations N    whole stations on the line against N x one local-store station (default 4; 0 leaves it out)
  --whole-slots N       slots per whole station (default 4)
  --whole-units N       units per whole station (default 24)
  --big N               BPP rows of the large inventory, metadata only (default 1000000; 0 leaves it out)
  --quick               every part at small sizes: a readiness check in under a minute (not with --write)
  --write               also put the tables into docs/performance.md (the bench-line block; a full run only)
The 4-station throughput ratio alone: --stations 0 --pace 0 --big 0
`);
  process.exit(0);
}
const values = { ...(given.quick ? QUICK : FULL), ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) } as typeof FULL & { write: boolean; quick: boolean };
if (values.quick && values.write) {
  process.stderr.write('bench:line: --quick is a readiness check; its figures are not written to docs/performance.md (leave out --write or --quick)\n');
  process.exit(2);
}
const stationCounts = values.stations.split(',').map(Number).filter((n) => n > 0);
const slots = Number(values.slots);
const claims = Number(values.claims);
const big = Number(values.big);
const pace = Number(values.pace);
const pacedClaims = Number(values['paced-claims']);
const wholeStations = Number(values['whole-stations']);
const wholeSlots = Number(values['whole-slots']);
const wholeUnits = Number(values['whole-units']);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const f2 = (x: number) => x.toFixed(2);

/** CPU seconds used so far by every process of the server (postmaster and its children). */
function serverCpuSeconds(dataDir: string): number {
  const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(f[1]);
      if (Number(p) !== pid && ppid !== pid) continue;
      total += (Number(f[11]) + Number(f[12])) / tick;
      // Backends that already exited are counted in the postmaster's children totals.
      if (Number(p) === pid) total += (Number(f[13]) + Number(f[14])) / tick;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Metadata-only rows for EIDs [from, from+count), two BPPs (two keys) per EID, via the importer's statement shape. */
async function loadRows(db: Db, batch: string, from: number, count: number): Promise<number> {
  const t = performance.now();
  await db.query(`INSERT INTO ifpp.batches (batch_id, smdpf_name, manifest) VALUES ($1, 'bench', '{}') ON CONFLICT DO NOTHING`, [batch]);
  const CH = 2000;
  for (let i = 0; i < count; i += CH) {
    const pos: number[] = [];
    const eid: Buffer[] = [];
    const otpk: Buffer[] = [];
    for (let n = from + i; n < from + Math.min(count, i + CH); n++) {
      for (const k of [0, 1]) {
        pos.push((n - from) * 2 + k);
        eid.push(Buffer.from(benchEid(n)));
        otpk.push(Buffer.from(benchOtpk(n, k)));
      }
    }
    await db.query(
      `INSERT INTO ifpp.bpps (batch_id, position, eid, otpk, transaction_id, iccid, sha256, bpp, state)
       SELECT $1, p, e, o, '\\x00'::bytea, '\\xff'::bytea, '\\x00'::bytea, NULL, 0 FROM unnest($2::int[], $3::bytea[], $4::bytea[]) AS u(p, e, o)`,
      [batch, pos, eid, otpk],
    );
  }
  return (performance.now() - t) / 1000;
}

function child(url: string, station: string, from: number, o: { claims?: number; pace?: number } = {}): Promise<{ claimMs: number[]; warmMs: number[]; settleMs: number[]; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const args = ['--url', url, '--station', station, '--slots', String(slots), '--claims', String(o.claims ?? claims), '--eid-from', String(from), '--pace', String(o.pace ?? 0)];
    const c = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'bench-line-child.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`station ${station} exited with ${code}`))));
  });
}

/** The same claim-then-settle on the local store, for N independent stations (separate stores). */
async function localBaseline(n: number): Promise<{ perSecond: number; p99: number }> {
  const { miniFactory } = await import('../test/helpers/mini-factory.ts');
  const { LocalInventory } = await import('../src/station/inventory/local-inventory.ts');
  const { BppState } = await import('../src/station/store/bpp-store.ts');
  const f = await miniFactory({ chips: slots, keys: 2, perEuicc: 2 });
  const inv = new LocalInventory(f.store);
  const lat: number[] = [];
  const t0 = performance.now();
  let done = 0;
  // One station's slots, each cycling over its chip's two BPPs (reset to available between rounds).
  await Promise.all(
    f.eids.map(async (eid) => {
      const { eidToBytes } = await import('../src/core/rsp/eid.ts');
      const key = eidToBytes(eid);
      const keys = f.store.findByEid(key).map((b) => b.otpk);
      for (let i = 0; i < claims; i++) {
        const a = performance.now();
        const r = await inv.claim({ eid: key, unusedOtpks: keys, unit: `u${i}`, excluded: new Set(), trustedCis: [] });
        if (r.kind !== 'claimed') throw new Error('local claim');
        await inv.inFlight(r.bpp);
        lat.push(performance.now() - a);
        await inv.settle(r.bpp, BppState.available);
        done++;
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  f.close();
  rmSync(f.dir, { recursive: true, force: true });
  // Independent stations on independent disks scale linearly: N times one station.
  return { perSecond: (n * done) / s, p99: pct(lat, 99) };
}

/** Busy share of all cores over a run, from /proc/stat. */
function cpuTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** One local-store station against N line stations, whole units with card time (ifpp sim line's stations). */
async function wholeStationRatio(pgc: ReturnType<typeof startPgCluster>) {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { buildWorld } = await import('../src/sim/world/build-world.ts');
  const { readWorld } = await import('../src/sim/world/world-files.ts');
  const { prepareLineDb } = await import('../src/cli/sim-line/prepare.ts');
  const { BppStore } = await import('../src/station/store/bpp-store.ts');
  const { importBatch } = await import('../src/station/store/import-batch.ts');
  const { bppChecks } = await import('../src/station/store/bpp-checks.ts');
  const { importEuiccData } = await import('../src/station/euicc-data/euicc-store.ts');
  // The compiled coordinator: its station processes run dist/ as a real install does.
  const { startSimLine } = (await import(new URL('../dist/cli/sim-line/run-line.js', import.meta.url).href)) as typeof import('../src/cli/sim-line/run-line.ts');
  const tmp = mkdtempSync(join(tmpdir(), 'ifpp-bench-whole-'));
  try {
    const run = async (name: string, stations: number, url: string | undefined) => {
      const w = await buildWorld({ out: join(tmp, name), slots: wholeSlots, units: stations * wholeUnits, kind: 'socket-programmer', profile: 'synthetic:4000', timeScale: 1 });
      if (url) {
        const db = openDb(url);
        await migrate(db, url);
        await prepareLineDb(db, url, w);
        await db.end();
      } else {
        const storeDir = join(w.dir, 'line', 'st-1', 'store');
        const store = BppStore.open(storeDir);
        await importBatch(store, join(w.dir, w.world.files.batch), { checks: bppChecks });
        store.close();
        await importEuiccData(storeDir, join(w.dir, w.world.files.euiccData), 'sim-eum');
      }
      let c0 = cpuTicks();
      const line = startSimLine({
        dir: w.dir,
        world: readWorld(w.dir).world,
        url,
        stations,
        slots: wholeSlots,
        timeScale: 1,
        seed: 1,
        failRate: 0,
        log: (l) => {
          if (/: started/.test(l)) c0 = cpuTicks();
        },
      });
      const r = await line.done;
      const c1 = cpuTicks();
      if (r.installed !== stations * wholeUnits) throw new Error(`${name}: ${r.installed} of ${stations * wholeUnits} installed`);
      return { units: r.installed, s: r.runMs / 1000, busy: (100 * (c1.busy - c0.busy)) / (c1.total - c0.total), cardMs: w.world.cardMs };
    };
    const local = await run('local', 1, undefined);
    const line = await run('line', wholeStations, await pgc.freshDb());
    return { local, line, cardMs: local.cardMs };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const started = performance.now();
let partStart = started;
/** Wall time of the part just finished, to stderr (kept out of the figures). */
const took = (part: string) => {
  const now = performance.now();
  process.stderr.write(`bench:line: ${part} took ${((now - partStart) / 1000).toFixed(0)} s\n`);
  partStart = now;
};
const cluster = startPgCluster();
const lines: string[] = [];
const out = (s: string) => {
  lines.push(s);
  process.stdout.write(s + '\n');
};
try {
  out(`- Line benchmark, ${new Date().toISOString()}`);
  out(`- Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}, PostgreSQL 15 (throwaway cluster on a unix socket; fsync off, synchronous_commit on), load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the start`);
  if (stationCounts.length) out(`- ${slots} slots per station, ${claims} claims per slot; each claim is one ifpp.claim_bpp call (EID lock, unsettled check, SKIP LOCKED pick, update), then one settlement`);
  out('');
  took('server start');
  if (stationCounts.length) out('| stations | claims | claim p50 ms | claim p99 ms | settle p99 ms | claims/s | server CPU s | server CPU per claim ms | local store claim+in-flight p99 ms | local N stations claims/s | ratio |');
  if (stationCounts.length) out('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const url = await cluster.freshDb();
  const db = openDb(url);
  await migrate(db, url);
  const dataDir = join(cluster.dir, 'data');
  let from = 0;
  for (const n of stationCounts) {
    const total = n * slots * claims;
    await loadRows(db, `b${n}`, from, total);
    await db.query('ANALYZE ifpp.bpps');
    const cpu0 = serverCpuSeconds(dataDir);
    const res = await Promise.all(Array.from({ length: n }, (_, i) => child(url, `S${i + 1}`, from + i * slots * claims)));
    const cpu = serverCpuSeconds(dataDir) - cpu0;
    const claimMs = res.flatMap((r) => r.claimMs);
    const settleMs = res.flatMap((r) => r.settleMs);
    const rate = total / Math.max(...res.map((r) => r.wallMs / 1000));
    const local = await localBaseline(n);
    out(`| ${n} | ${total} | ${f2(pct(claimMs, 50))} | ${f2(pct(claimMs, 99))} | ${f2(pct(settleMs, 99))} | ${rate.toFixed(0)} | ${cpu.toFixed(1)} | ${f2((cpu * 1000) / total)} | ${f2(local.p99)} | ${local.perSecond.toFixed(0)} | ${(rate / local.perSecond).toFixed(2)} |`);
    from += total;
  }
  if (stationCounts.length) took(`claims at full speed (${stationCounts.join(', ')} stations, with the local-store baseline)`);
  if (pace > 0 && pacedClaims > 0 && stationCounts.length) {
    out('');
    out(`Claims at a station's own pace: each slot claims, settles, then waits 0.5–1.5 × ${pace} ms (a unit's card time) before its next claim; ${pacedClaims} claims per slot.`);
    out('');
    out('| stations | slots | claims | offered claims/s | claim p50 ms | claim p99 ms | claim max ms | p99 ms, each slot\'s first claim left out | server CPU per claim ms |');
    out('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const n of stationCounts) {
      const total = n * slots * pacedClaims;
      await loadRows(db, `p${n}`, from, total);
      await db.query('ANALYZE ifpp.bpps');
      const cpu0 = serverCpuSeconds(dataDir);
      const res = await Promise.all(Array.from({ length: n }, (_, i) => child(url, `P${i + 1}`, from + i * slots * pacedClaims, { claims: pacedClaims, pace })));
      const cpu = serverCpuSeconds(dataDir) - cpu0;
      const claimMs = res.flatMap((r) => r.claimMs);
      const warmMs = res.flatMap((r) => r.warmMs);
      out(`| ${n} | ${n * slots} | ${total} | ${((n * slots * 1000) / pace).toFixed(0)} | ${f2(pct(claimMs, 50))} | ${f2(pct(claimMs, 99))} | ${f2(Math.max(...claimMs))} | ${f2(pct(warmMs, 99))} | ${f2((cpu * 1000) / total)} |`);
      from += total;
    }
    took('claims at a station\'s pace');
  }
  if (wholeStations > 0) {
    out('');
    const w = await wholeStationRatio(cluster);
    out(`Whole stations (ifpp sim line: real station processes on in-process simulated sockets, simulated eUICCs at time scale 1, ${w.cardMs} ms of chip time per unit, ${wholeSlots} slots each, no injected faults): one station on its local store against ${wholeStations} stations on the line database, ${wholeUnits} units per station.`);
    out('');
    out('| run | stations | units | run s | units/s | ratio |');
    out('| --- | --- | --- | --- | --- | --- |');
    out(`| local store | 1 | ${w.local.units} | ${f2(w.local.s)} | ${f2(w.local.units / w.local.s)} | |`);
    out(`| line (PostgreSQL) | ${wholeStations} | ${w.line.units} | ${f2(w.line.s)} | ${f2(w.line.units / w.line.s)} | ${f2(w.line.units / w.line.s / ((wholeStations * w.local.units) / w.local.s))} of ${wholeStations} × one station |`);
    out(`- CPU during the line run (user+system, all processes of the machine, from /proc/stat): ${w.line.busy.toFixed(0)} % of the ${cpus().length} cores; during the single-station run ${w.local.busy.toFixed(0)} %`);    took(`whole stations (1 local, ${wholeStations} on the line)`);
  }
  if (big > 0) {
    out('');
    const url2 = await cluster.freshDb();
    const db2 = openDb(url2);
    await migrate(db2, url2);
    const secs = await loadRows(db2, 'big', 10_000_000, big / 2);
    await db2.query('ANALYZE ifpp.bpps');
    const size = (await db2.query<{ s: string }>("SELECT pg_size_pretty(pg_total_relation_size('ifpp.bpps')) AS s")).rows[0]!.s;
    const r = await child(url2, 'BIG', 10_000_000);
    out(`- ${big.toLocaleString('en')} BPPs (metadata only: ${big / 2} EIDs × 2 keys, no BPP bytes): loaded in ${secs.toFixed(1)} s (${(big / secs).toFixed(0)} rows/s, the importer's unnest statement in chunks of 4000 rows), table + indexes ${size}`);
    out(`- claims at ${big.toLocaleString('en')}: one station × ${slots} slots × ${claims}: p50 ${f2(pct(r.claimMs, 50))} ms, p99 ${f2(pct(r.claimMs, 99))} ms`);
    await db2.end();
    took(`${big.toLocaleString('en')}-BPP inventory`);
  }
  await db.end();
} finally {
  cluster.stop();
  process.stderr.write(`bench:line: whole run ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}
if (values.write) {
  const doc = writeDocBlock(ROOT, 'bench-line', `Produced by \`npm run bench:line\`.\n\n${lines.map((l) => l.replace(/^- /, '')).join('\n')}`);
  process.stdout.write(`wrote ${doc}\n`);
}
