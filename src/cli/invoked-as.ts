/**
 * The command as the user invoked it, for hints that name a follow-up command: `ifpp` through
 * an installed bin link, `npx ifpp` through a project's node_modules/.bin, and
 * `node bin/ifpp.js` (relative when inside the current folder) when run by path.
 */
import { basename, isAbsolute, relative, sep } from 'node:path';

export function invokedAs(script: string | undefined = process.argv[1], cwd: string = process.cwd()): string {
  if (!script) return 'ifpp';
  if (basename(script) === 'ifpp') return script.includes(`${sep}node_modules${sep}.bin${sep}`) ? 'npx ifpp' : 'ifpp';
  const rel = relative(cwd, script);
  return `node ${rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : script}`;
}
