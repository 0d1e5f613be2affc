/**
 * GENS09/GENS10: the station never holds a clear-text profile or a binding key, so no station
 * module may reach simulator or decryption code through its imports. This walks the real
 * import graph (static and dynamic imports) from every station-side module.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|tsx)$/.test(f) && !f.endsWith('.d.ts') ? [p] : [];
  });
}

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec && spec.startsWith('.')) out.push(resolve(dirname(file), spec));
  }
  return out;
}

function closure(entries: string[]): Map<string, string> {
  // file -> the file that first imported it (for a readable failure path)
  const seen = new Map<string, string>();
  const stack = entries.map((e) => [e, '(entry)'] as const);
  for (const [e, from] of stack) seen.set(e, from);
  const todo = [...entries];
  while (todo.length) {
    const f = todo.pop()!;
    for (const dep of localImports(f)) {
      if (!seen.has(dep)) {
        seen.set(dep, f);
        if (existsSync(dep)) todo.push(dep);
      }
    }
  }
  return seen;
}

function chain(seen: Map<string, string>, f: string): string {
  const parts = [relative(root, f)];
  let cur = seen.get(f);
  while (cur && cur !== '(entry)') {
    parts.push(relative(root, cur));
    cur = seen.get(cur);
  }
  return parts.reverse().join(' -> ');
}

const forbidden = [join(src, 'sim') + '/', join(src, 'binding') + '/'];

describe('import graph', () => {
  const stationSide = [...walk(join(src, 'station')), ...walk(join(src, 'line')), ...walk(join(src, 'transport')), ...walk(join(src, 'ui')), ...walk(join(src, 'core'))];
  const stationCommands = ['bpp-inspect.ts', 'validate.ts', 'run.ts', 'probe.ts', 'report.ts', 'bpp-import.ts', 'bpp-list.ts', 'euicc-import.ts', 'line-init.ts', 'line-import.ts', 'line-euicc-import.ts', 'line-assign.ts', 'line-status.ts', 'line-release.ts', 'line-report.ts', 'bench.ts']
    .map((f) => join(src, 'cli', 'commands', f))
    .filter(existsSync);

  it('finds the station-side modules it checks', () => {
    expect(stationSide.length).toBeGreaterThan(5);
  });

  it('station, line, transport, ui, core and station CLI commands never reach sim/ or binding/', () => {
    const seen = closure([...stationSide, ...stationCommands]);
    const bad = [...seen.keys()].filter((f) => forbidden.some((p) => f.startsWith(p)));
    expect(bad.map((f) => chain(seen, f))).toEqual([]);
  });

  it('station, transport and core know nothing of the UI (the UI renders the state it is given)', () => {
    const seen = closure([...walk(join(src, 'station')), ...walk(join(src, 'line')), ...walk(join(src, 'transport')), ...walk(join(src, 'core'))]);
    const bad = [...seen.keys()].filter((f) => f.startsWith(join(src, 'ui') + '/'));
    expect(bad.map((f) => chain(seen, f))).toEqual([]);
  });

  it('core imports nothing outside core', () => {
    const seen = closure(walk(join(src, 'core')));
    const bad = [...seen.keys()].filter((f) => f.startsWith(src) && !f.startsWith(join(src, 'core') + '/'));
    expect(bad.map((f) => chain(seen, f))).toEqual([]);
  });

  it('the checker itself sees a forbidden import where one exists (sim unbind reaches binding/)', () => {
    const seen = closure([join(src, 'cli', 'main.ts')]);
    // main.ts loads commands lazily; the walker must follow dynamic imports to find this.
    expect([...seen.keys()].some((f) => f.startsWith(join(src, 'binding') + '/'))).toBe(true);
  });
});
