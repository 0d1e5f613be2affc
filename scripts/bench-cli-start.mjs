// Start-up time of the command line: median (and min/max) of N runs of `ifpp --help`, each a
// new process, next to `node -e 0` on the same machine. Plain JavaScript, so it runs against an
// installed package as well as a checkout.
//
//   node scripts/bench-cli-start.mjs [--runs 10] [path/to/ifpp]   (default: this checkout's bin/ifpp.js)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 10;
const target = args[0] ?? fileURLToPath(new URL('../bin/ifpp.js', import.meta.url));

function time(cmd, argv) {
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}`);
  }
  ms.sort((a, b) => a - b);
  const mid = ms.length >> 1;
  const median = ms.length % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2;
  return { median, min: ms[0], max: ms[ms.length - 1] };
}

const fmt = (r) => `median ${r.median.toFixed(0)} ms (min ${r.min.toFixed(0)}, max ${r.max.toFixed(0)})`;
const node = time(process.execPath, ['-e', '0']);
const isJs = target.endsWith('.js');
const ifpp = time(isJs ? process.execPath : target, isJs ? [target, '--help'] : ['--help']);
console.log(`node -e 0:     ${fmt(node)}`);
console.log(`ifpp --help:   ${fmt(ifpp)}   (${target}; ${runs} runs each; node ${process.version})`);
