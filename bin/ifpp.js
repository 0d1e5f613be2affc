#!/usr/bin/env node
// Runs the compiled package: dist/ is built by `npm run build`, which `npm ci` runs through
// `prepare` and which ships in the tarball. No TypeScript is compiled at run time.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('ifpp: the compiled program (dist/) is missing; in a source checkout run: npm run build\n');
  process.exit(1);
}
await import(main.href);
