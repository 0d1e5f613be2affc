/**
 * The serial layer alone: what one bridge exchange costs the host through serialport's stock
 * binding, the stock binding with a larger libuv thread pool, and the station's direct-I/O
 * binding (src/transport/bridge/fast-serial.ts), with the thread pool idle and with it busy
 * with appends + fdatasync like the journal's.
 *
 *   npm run bench:serial                      # 3 rounds of 300 exchanges per case
 *   npm run bench:serial -- --rounds 5 --exchanges 500
 *
 * Each case runs in its own process (UV_THREADPOOL_SIZE is read once, at the pool's start),
 * the cases interleaved round by round so that other load on the machine spreads over all of
 * them. The figure is the link floor of scripts/bench-station-link.ts: the host-side gap per
 * exchange (bridge answer sent → next request received), median over a case's exchanges, then
 * median over rounds. Prints a table and the ratios against the stock binding.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { fdatasync, write } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fastSerialBinding, stockSerialBinding } from '../src/transport/bridge/fast-serial.ts';
import { measureLinkFloor } from './bench-station-link.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    exchanges: { type: 'string', default: '300' },
    child: { type: 'boolean', default: false },
    binding: { type: 'string', default: 'fast' },
    load: { type: 'string', default: 'idle' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log('npm run bench:serial -- [--rounds N] [--exchanges N]');
  process.exit(0);
}

/** Keeps `n` appends + fdatasync in flight on the thread pool until stopped, as a busy journal does. */
function busyPool(dir: string, n = 4): () => void {
  let stop = false;
  const fd = openSync(join(dir, 'journal.bin'), 'a');
  const rec = Buffer.alloc(300, 0x41);
  const loop = () => {
    if (stop) return;
    write(fd, rec, () => fdatasync(fd, loop));
  };
  for (let i = 0; i < n; i++) loop();
  return () => {
    stop = true;
    setTimeout(() => closeSync(fd), 100);
  };
}

if (args.child) {
  const dir = mkdtempSync(join(tmpdir(), 'ifpp-bench-serial-'));
  const stopLoad = args.load === 'fsync' ? busyPool(dir) : () => undefined;
  const binding = args.binding === 'stock' ? stockSerialBinding : fastSerialBinding;
  const floor = await measureLinkFloor(ROOT, join(ROOT, 'scripts', 'bench-station-bridge.ts'), join(dir, 'link'), Number(args.exchanges), binding);
  stopLoad();
  console.log(JSON.stringify(floor));
  setTimeout(() => rmSync(dir, { recursive: true, force: true }), 150);
} else {
  const cases = [
    { name: 'stock binding', binding: 'stock', env: {} },
    { name: 'stock binding, UV_THREADPOOL_SIZE=16', binding: 'stock', env: { UV_THREADPOOL_SIZE: '16' } },
    { name: 'fast-serial (direct I/O)', binding: 'fast', env: {} },
  ];
  const loads = ['idle', 'fsync'];
  const medians = new Map<string, number[]>();
  mkdirSync(join(ROOT, 'var', 'bench'), { recursive: true });
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const load of loads) {
      for (const c of cases) {
        const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--binding', c.binding, '--load', load, '--exchanges', String(args.exchanges)], {
          cwd: ROOT,
          env: { ...process.env, ...c.env },
          encoding: 'utf8',
        });
        if (r.status !== 0) throw new Error(`${c.name} (${load}): exit ${r.status}\n${r.stderr}`);
        const floor = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { medianMs: number };
        const key = `${load}|${c.name}`;
        medians.set(key, [...(medians.get(key) ?? []), floor.medianMs]);
        process.stderr.write(`round ${round + 1} ${load.padEnd(5)} ${c.name}: ${floor.medianMs.toFixed(3)} ms\n`);
      }
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(`\nhost-side gap per exchange, ms (median of ${args.rounds} rounds × ${args.exchanges} exchanges); ratio = case / stock binding`);
  console.log('| thread pool | binding | ms per exchange | ratio |');
  console.log('|---|---|---|---|');
  for (const load of loads) {
    const base = med(medians.get(`${load}|stock binding`)!);
    for (const c of cases) {
      const m = med(medians.get(`${load}|${c.name}`)!);
      console.log(`| ${load === 'idle' ? 'idle' : 'busy (4 appends + fdatasync in flight)'} | ${c.name} | ${m.toFixed(3)} | ${(m / base).toFixed(2)} |`);
    }
  }
}
