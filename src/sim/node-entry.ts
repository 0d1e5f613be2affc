/**
 * Simulator child processes run the same kind of code as their parent: compiled JavaScript
 * from dist/ in the package, TypeScript through tsx when the parent itself runs from src/
 * (vitest, scripts). Modules are named here by their source file (.ts); these map the name.
 * IFPP_SIM_CHILDREN=dist (the test suite sets it, after its global set-up built dist/) runs
 * the children from dist/ even under a parent from src/: the same code, without tsx compiling
 * each child's module graph again at every start.
 */
import { fileURLToPath } from 'node:url';

const COMPILED = !import.meta.url.endsWith('.ts');
const SRC = new URL('../', import.meta.url).href;
const DIST = new URL('../../dist/', import.meta.url).href;

/** URL of the module `sourceName` (e.g. '../jig/board-process.ts') relative to `base`. */
export function moduleUrl(sourceName: string, base: string): URL {
  let url = new URL(sourceName, base);
  if (!COMPILED && process.env.IFPP_SIM_CHILDREN === 'dist' && url.href.startsWith(SRC)) url = new URL(DIST + url.href.slice(SRC.length));
  if ((COMPILED || url.href.startsWith(DIST)) && url.pathname.endsWith('.ts')) url.pathname = url.pathname.slice(0, -3) + '.js';
  return url;
}

/** Path of the module `sourceName` relative to `base`, as a child process entry point. */
export function moduleFile(sourceName: string, base: string): string {
  return fileURLToPath(moduleUrl(sourceName, base));
}

/** Node arguments that run `file`: tsx by absolute URL for a source file, so the child may run in any folder. */
export function nodeArgs(file: string): string[] {
  return file.endsWith('.ts') ? ['--import', import.meta.resolve('tsx'), file] : [file];
}
