/**
 * Simulator child processes run the same kind of code as their parent: compiled JavaScript
 * from dist/ in the package, TypeScript through tsx when the parent itself runs from src/
 * (vitest, scripts). Modules are named here by their source file (.ts); these map the name.
 */
import { fileURLToPath } from 'node:url';

const COMPILED = !import.meta.url.endsWith('.ts');

/** URL of the module `sourceName` (e.g. '../jig/board-process.ts') relative to `base`. */
export function moduleUrl(sourceName: string, base: string): URL {
  const url = new URL(sourceName, base);
  if (COMPILED && url.pathname.endsWith('.ts')) url.pathname = url.pathname.slice(0, -3) + '.js';
  return url;
}

/** Path of the module `sourceName` relative to `base`, as a child process entry point. */
export function moduleFile(sourceName: string, base: string): string {
  return fileURLToPath(moduleUrl(sourceName, base));
}

/** Node arguments that run `file`: tsx by absolute URL from source, so the child may run in any folder. */
export function nodeArgs(file: string): string[] {
  return COMPILED ? [file] : ['--import', import.meta.resolve('tsx'), file];
}
