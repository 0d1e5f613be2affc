// Second half of `npm run build` (after `tsc -b tsconfig.build.json`): copies the files the
// compiled code loads beside itself that tsc does not emit (the pty helper), and removes
// outputs whose source is gone, so a renamed module never lingers in dist/ or the tarball.
// Plain JavaScript: it runs where only the compiler is installed.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
const ASSETS = /\.(py)$/;

function* walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

for (const file of walk(src)) {
  if (!ASSETS.test(file)) continue;
  const out = join(dist, relative(src, file));
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(file, out);
}

for (const file of walk(dist)) {
  const rel = relative(dist, file);
  if (rel === '.tsbuildinfo') continue;
  const stem = rel.replace(/(\.d\.ts|\.js|\.py)$/, '');
  const sources = ASSETS.test(rel) ? [rel] : [`${stem}.ts`, `${stem}.tsx`];
  if (!sources.some((s) => existsSync(join(src, s)))) rmSync(file);
}
