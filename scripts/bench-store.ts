/**
 * BPP store benchmark at factory scale: imports batches of 10k, 100k and 1M BPPs with the
 * station's importer (every BPP hash-checked, parsed and its BF23 signature verified) and
 * looks BPPs up by EID as the station does per unit.
 *
 *   npm run bench:store -- [--sizes 10000,100000,1000000] [--templates 256] [--lookups 20000]
 *                          [--profile synthetic] [--keep]
 *
 * The batches are synthetic but valid: a few hundred BPPs are bound for real (simulated EUM and
 * SM-DPf, src/sim/), and each batch repeats them under distinct synthetic EIDs (valid check
 * digits), one per index line, with every BPP stored as its own bytes in the data files. A
 * BF23 signature covers the BPP and the one-time key but not the EID, so every repeated BPP
 * still verifies against the key in its index line: the importer runs all its checks, nothing
 * is skipped. What is not realistic: the transaction ids and ICCIDs repeat, and a repeated BPP
 * could not load into the chip its index line names (it is bound to its template's chip).
 *
 * Prints import rate, lookup p50/p99, peak and mean RSS of the importing and of the looking-up
 * process, and disk use; PASS/FAIL against the targets. Batches and stores go to
 * var/bench/store/ and are removed after each size unless --keep.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createEumWorld } from '../src/sim/eum/eum-tool.ts';
import { writeEumWorld } from '../src/sim/eum/write-eum.ts';
import { BufferedFileWriter } from '../src/sim/eum/file-writer.ts';
import { bindBatch, type IndexLine } from '../src/sim/smdpf/bind-batch.ts';
import { RollingDataWriter } from '../src/sim/smdpf/data-files.ts';
import { defaultIdentityPaths, loadSmdpfIdentity } from '../src/sim/smdpf/identity.ts';
import { loadProfileSource } from '../src/sim/smdpf/profile-source.ts';
import type { DeliveredManifest } from '../src/core/formats/batch-manifest.ts';
import { EID_PREFIX, syntheticEid } from './bench-store-eids.ts';
import { writeDocBlock } from './bench-station-doc.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = join(ROOT, 'var', 'bench', 'store');

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    templates: { type: 'string', default: '256' },
    lookups: { type: 'string', default: '20000' },
    profile: { type: 'string', default: 'synthetic' },
    keep: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`Usage: npm run bench:store -- [options]
  --sizes LIST      batch sizes (default 10000,100000,1000000)
  --templates N     BPPs bound for real and repeated (default 256)
  --lookups N       findByEid calls timed per size, one in ten for an EID not in the batch (default 20000)
  --profile P       profile to bind: synthetic (TS.48 size) or a SAIP DER file
  --keep            keep the generated batches and stores under var/bench/store/
  --write           also put the table into docs/performance.md (the bench-store block)
`);
  process.exit(0);
}
const log = (s: string) => process.stderr.write(s + '\n');

interface Template {
  bpp: Uint8Array;
  line: IndexLine;
}

interface Templates {
  manifest: DeliveredManifest;
  items: Template[];
}

/** Binds the templates once with the real tools; reused while the parameters stay the same. */
async function templates(k: number, profile: string): Promise<Templates> {
  const dir = join(BENCH, 'templates');
  const metaPath = join(dir, 'meta.json');
  const batchDir = join(dir, 'batch');
  const fresh = existsSync(metaPath) && (() => {
    const m = JSON.parse(readFileSync(metaPath, 'utf8')) as { k: number; profile: string };
    return m.k === k && m.profile === profile;
  })();
  if (!fresh) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const t0 = performance.now();
    const world = createEumWorld({ euiccs: k, otks: 1, curve: 'nist' });
    const eum = writeEumWorld(world, join(dir, 'eum'));
    const b = await bindBatch({
      euiccData: eum.euiccData,
      profile: loadProfileSource(profile),
      dp: loadSmdpfIdentity(defaultIdentityPaths(eum.euiccData)),
      out: batchDir,
      perEuicc: 1,
      iccidStart: '894944999999990001',
    });
    writeFileSync(metaPath, JSON.stringify({ k, profile }));
    log(`templates: ${b.count} BPPs bound for real in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const manifest = JSON.parse(readFileSync(join(batchDir, 'manifest.json'), 'utf8')) as DeliveredManifest;
  const lines = readFileSync(join(batchDir, 'index.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as IndexLine);
  const data = new Map<string, Buffer>();
  const items = lines.map((line) => {
    let d = data.get(line.file);
    if (!d) data.set(line.file, (d = readFileSync(join(batchDir, line.file))));
    return { line, bpp: new Uint8Array(d.subarray(line.offset, line.offset + line.length)) };
  });
  return { manifest, items };
}

/** A batch of n BPPs: template i % k under synthetic EID i, each one its own bytes in the data files. */
function generate(t: Templates, n: number, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const data = new RollingDataWriter(dir);
  const index = new BufferedFileWriter(join(dir, 'index.ndjson'));
  for (let i = 0; i < n; i++) {
    const tp = t.items[i % t.items.length]!;
    const pos = data.append(tp.bpp);
    const line: IndexLine = { ...tp.line, eid: syntheticEid(EID_PREFIX, i), file: pos.file, offset: pos.offset };
    index.writeLine(JSON.stringify(line));
  }
  const files = [...data.close(), { name: 'index.ndjson', ...index.close() }];
  const manifest: DeliveredManifest = { ...t.manifest, batchId: `synthetic-${n}`, createdAt: new Date().toISOString(), count: n, files };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}

/** Bytes a directory occupies on disk (allocated blocks). */
function du(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? du(p) : statSync(p).blocks * 512;
  }
  return total;
}

function child(argv: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'bench-store-child.ts'), ...argv], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench-store-child ${argv[0]} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>);
    });
  });
}

interface SizeResult {
  n: number;
  generateS: number;
  imp: Record<string, number>;
  look: Record<string, number>;
  batchBytes: number;
  storeBytes: number;
  indexBytes: number;
  stateBytes: number;
}

const MiB = 2 ** 20;
const sizes = args.sizes.split(',').map((s) => Number(s.trim()));
mkdirSync(BENCH, { recursive: true });
const t = await templates(Number(args.templates), args.profile);
const bppBytes = Math.round(t.items.reduce((a, x) => a + x.bpp.length, 0) / t.items.length);
log(`${t.items.length} templates, BPP ${bppBytes} bytes on average`);

const results: SizeResult[] = [];
for (const n of sizes) {
  const batchDir = join(BENCH, `batch-${n}`);
  const storeDir = join(BENCH, `store-${n}`);
  log(`size ${n}: generating the batch (${((n * bppBytes) / 2 ** 30).toFixed(1)} GiB of BPPs)`);
  const g0 = performance.now();
  generate(t, n, batchDir);
  const generateS = (performance.now() - g0) / 1000;
  rmSync(storeDir, { recursive: true, force: true });
  log(`size ${n}: importing`);
  const imp = await child(['import', '--store', storeDir, '--batch', batchDir]);
  log(`size ${n}: ${imp.perSecond!.toFixed(0)} BPPs/s; looking up`);
  const look = await child(['lookup', '--store', storeDir, '--eid-prefix', EID_PREFIX, '--count', String(n), '--lookups', args.lookups]);
  const bdir = join(storeDir, 'batches', `synthetic-${n}`);
  const r: SizeResult = {
    n,
    generateS,
    imp,
    look,
    batchBytes: du(batchDir),
    storeBytes: du(storeDir),
    indexBytes: statSync(join(bdir, 'index.bin')).size,
    stateBytes: statSync(join(bdir, 'state.bin')).size,
  };
  results.push(r);
  log(`size ${n}: lookup p50 ${(look.p50Ms! * 1000).toFixed(1)} µs, p99 ${(look.p99Ms! * 1000).toFixed(1)} µs; import peak RSS ${(imp.rssPeakBytes! / MiB).toFixed(0)} MiB`);
  if (!args.keep) {
    rmSync(batchDir, { recursive: true, force: true });
    rmSync(storeDir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ report

const c = cpus();
const out: string[] = [];
out.push(`BPP store benchmark, ${new Date().toISOString()}`);
out.push(`Node ${process.version}, ${platform()} ${release()}, ${c.length} × ${c[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the end`);
out.push(`Synthetic batches: ${t.items.length} BPPs bound for real (${bppBytes} bytes on average), repeated under distinct EIDs; every import check runs (hash, structure, BF23 signature)`);
out.push('');
const head = ['BPPs', 'import /s', 'import s', 'import RSS peak / mean MiB', 'lookup p50 µs', 'lookup p99 µs', 'lookup max µs', 'lookup RSS peak / mean MiB', 'store open ms', 'stock count ms', 'store on disk', 'of which index + state', 'batch delivered'];
const rows = results.map((r) => [
  r.n.toLocaleString('en'),
  r.imp.perSecond!.toFixed(0),
  (r.imp.ms! / 1000).toFixed(1),
  `${(r.imp.rssPeakBytes! / MiB).toFixed(0)} / ${(r.imp.rssMeanBytes! / MiB).toFixed(0)}`,
  (r.look.p50Ms! * 1000).toFixed(1),
  (r.look.p99Ms! * 1000).toFixed(1),
  (r.look.maxMs! * 1000).toFixed(0),
  `${(r.look.rssPeakBytes! / MiB).toFixed(0)} / ${(r.look.rssMeanBytes! / MiB).toFixed(0)}`,
  r.look.openMs!.toFixed(1),
  r.look.countsMs!.toFixed(1),
  gib(r.storeBytes),
  `${((r.indexBytes + r.stateBytes) / MiB).toFixed(1)} MiB`,
  gib(r.batchBytes),
]);
const all = [head, ...rows];
const w = head.map((_, i) => Math.max(...all.map((x) => x[i]!.length)));
const line = (x: string[]) => '| ' + x.map((v, i) => v.padEnd(w[i]!)).join(' | ') + ' |';
out.push(line(head), '| ' + w.map((k) => '-'.repeat(k)).join(' | ') + ' |', ...rows.map(line));
out.push('');

function gib(b: number): string {
  return b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / MiB).toFixed(0)} MiB`;
}

const bad = results.filter((r) => r.imp.rejected !== 0 || r.imp.accepted !== r.n || r.look.indexed !== r.n);
for (const r of bad) out.push(`WARN  size ${r.n}: accepted ${r.imp.accepted}, rejected ${r.imp.rejected}, indexed ${r.look.indexed}`);
const largest = results[results.length - 1];
const smallest = results[0];
if (largest) out.push(`${largest.look.p99Ms! < 1 ? 'PASS' : 'FAIL'}  lookup p99 < 1 ms at ${largest.n.toLocaleString('en')} BPPs: ${(largest.look.p99Ms! * 1000).toFixed(1)} µs`);
if (largest && smallest && largest !== smallest) {
  // "Does not grow": the largest batch's peaks within 10 % (and 8 MiB of noise) of the smallest's.
  for (const [what, a, b] of [
    ['import', smallest.imp.rssPeakBytes!, largest.imp.rssPeakBytes!],
    ['lookup', smallest.look.rssPeakBytes!, largest.look.rssPeakBytes!],
  ] as const) {
    const ok = b <= a * 1.1 + 8 * MiB;
    out.push(`${ok ? 'PASS' : 'FAIL'}  ${what} RSS does not grow with batch size: peak ${(a / MiB).toFixed(0)} MiB at ${smallest.n.toLocaleString('en')}, ${(b / MiB).toFixed(0)} MiB at ${largest.n.toLocaleString('en')}`);
  }
}
process.stdout.write(out.join('\n') + '\n');
if (args.write) {
  const cmd = `npm run bench:store${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  log(`wrote ${writeDocBlock(ROOT, 'bench-store', [`Produced by \`${cmd}\`.`, '', ...out].join('\n'))}`);
}
writeFileSync(join(BENCH, 'results.json'), JSON.stringify({ at: new Date().toISOString(), bppBytes, templates: t.items.length, results }, null, 2));
