/**
 * The layering rules, checked on the real import graph (static imports, `import type` and
 * dynamic imports included; see docs/architecture.md):
 *
 * - GENS09/GENS10: the station never holds a clear-text profile or a binding key, so no
 *   station-side module (station, line, transport, ui, core, the station's CLI commands) may
 *   reach simulator or decryption code;
 * - the UI renders the state it is given: station, line, transport and core never reach ui/;
 * - core imports nothing outside core; transport never reaches station/ or line/ (drivers know
 *   nothing of orchestration);
 * - sim/ imports from station/ only its config and the hardware seam it implements;
 * - the orchestrator (its strategies included) builds no hardware: nothing in
 *   station/orchestrator/ reaches a driver (transport/) or the jig controller (station/jig/) at
 *   run time, but station.ts through hardware/open-hardware.ts (the default hardware, built only
 *   when none is injected), and no other file of it imports open-hardware.ts;
 * - no import cycles anywhere in src/ (among imports that load a module at run time);
 * - docs/architecture.md's tree lists every folder of src/ (and none that is gone).
 *
 * The rules are functions over a source root, so the last tests can show each one failing on a
 * small tree that breaks it.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|tsx)$/.test(f) && !f.endsWith('.d.ts') ? [p] : [];
  });
}

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

/** Relative imports of a file; `runtimeOnly` leaves out `import type` / `export type` (erased when compiled). */
function localImports(file: string, runtimeOnly = false): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (runtimeOnly && /^\s*;?\s*(?:import|export)\s+type\s/.test(m[0])) continue;
    if (spec && spec.startsWith('.')) out.push(resolve(dirname(file), spec));
  }
  return out;
}

/**
 * file -> the file that first imported it (for a readable failure path). `skip(from, dep)`
 * leaves an import out (not followed).
 */
function closure(entries: string[], opts: { runtimeOnly?: boolean; skip?: (from: string, dep: string) => boolean } = {}): Map<string, string> {
  const seen = new Map<string, string>();
  for (const e of entries) seen.set(e, '(entry)');
  const todo = [...entries];
  while (todo.length) {
    const f = todo.pop()!;
    for (const dep of localImports(f, opts.runtimeOnly)) {
      if (opts.skip?.(f, dep)) continue;
      if (!seen.has(dep)) {
        seen.set(dep, f);
        if (existsSync(dep)) todo.push(dep);
      }
    }
  }
  return seen;
}

function chain(base: string, seen: Map<string, string>, f: string): string {
  const parts = [relative(base, f)];
  for (let cur = seen.get(f); cur && cur !== '(entry)'; cur = seen.get(cur)) parts.push(relative(base, cur));
  return parts.reverse().join(' -> ');
}

const under = (src: string, ...dirs: string[]) => (f: string) => dirs.some((d) => f.startsWith(join(src, d) + '/'));

/** Chains from `from` (files) to any file under `to` (folders of src). */
function reaches(src: string, from: string[], to: string[]): string[] {
  const seen = closure(from);
  return [...seen.keys()].filter(under(src, ...to)).map((f) => chain(src, seen, f));
}

/** Station commands: every command in cli/main.ts not marked `simulator: true`, as files. */
function stationCommands(src: string): string[] {
  const main = readFileSync(join(src, 'cli', 'main.ts'), 'utf8');
  const out: string[] = [];
  for (const line of main.split('\n')) {
    const m = /\{ name: '[^']+',.*import\('(\.\/commands\/[^']+)'\)/.exec(line);
    if (m && !/simulator: true/.test(line)) out.push(resolve(join(src, 'cli'), m[1]!));
  }
  return out;
}

const rules = {
  noSimulatorInStation(src: string): string[] {
    const stationSide = ['station', 'line', 'transport', 'ui', 'core'].flatMap((d) => walk(join(src, d)));
    return reaches(src, [...stationSide, ...stationCommands(src)], ['sim', 'binding']);
  },
  noUiBelow(src: string): string[] {
    return reaches(src, ['station', 'line', 'transport', 'core'].flatMap((d) => walk(join(src, d))), ['ui']);
  },
  coreAlone(src: string): string[] {
    const seen = closure(walk(join(src, 'core')));
    return [...seen.keys()].filter((f) => f.startsWith(src + '/') && !under(src, 'core')(f)).map((f) => chain(src, seen, f));
  },
  transportBelowStation(src: string): string[] {
    return reaches(src, walk(join(src, 'transport')), ['station', 'line']);
  },
  simUsesOnlyConfigAndSeam(src: string): string[] {
    const out: string[] = [];
    for (const f of walk(join(src, 'sim'))) {
      for (const dep of localImports(f)) {
        if (under(src, 'station')(dep) && !under(src, 'station/config', 'station/hardware')(dep)) out.push(`${relative(src, f)} -> ${relative(src, dep)}`);
      }
    }
    return out;
  },
  orchestratorBuildsNoHardware(src: string): string[] {
    const orchestrator = walk(join(src, 'station', 'orchestrator'));
    const station = join(src, 'station', 'orchestrator', 'station.ts');
    const openHardware = join(src, 'station', 'hardware', 'open-hardware.ts');
    const out = orchestrator.filter((f) => f !== station && localImports(f).includes(openHardware)).map((f) => `${relative(src, f)} -> ${relative(src, openHardware)}`);
    // Each file on its own, so every one that reaches a driver is named.
    for (const f of orchestrator) {
      const seen = closure([f], { runtimeOnly: true, skip: (from, dep) => from === station && dep === openHardware });
      out.push(...[...seen.keys()].filter(under(src, 'transport', 'station/jig')).map((d) => chain(src, seen, d)));
    }
    return out;
  },
  noCycles(src: string): string[] {
    // Tarjan's strongly connected components over every module of src, on the imports that
    // load a module at run time (a cycle of `import type` alone is erased by the compiler).
    const files = walk(src);
    const edges = new Map(files.map((f) => [f, localImports(f, true).filter((d) => existsSync(d))]));
    let next = 0;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[] = [];
    const visit = (v: string): void => {
      index.set(v, next);
      low.set(v, next++);
      stack.push(v);
      onStack.add(v);
      for (const w of edges.get(v) ?? []) {
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) !== index.get(v)) return;
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || edges.get(v)!.includes(v)) cycles.push(scc.map((f) => relative(src, f)).sort().join(' <-> '));
    };
    for (const f of files) if (!index.has(f)) visit(f);
    return cycles;
  },
};

describe('import graph', () => {
  const src = join(root, 'src');

  it('derives the station commands from the CLI table and checks every command file is in it', () => {
    const cmds = stationCommands(src).map((f) => relative(join(src, 'cli', 'commands'), f));
    expect(cmds).toContain('run.ts');
    expect(cmds).toContain('probe.ts');
    expect(cmds.some((c) => c.startsWith('sim-'))).toBe(false);
    const main = readFileSync(join(src, 'cli', 'main.ts'), 'utf8');
    const unlisted = readdirSync(join(src, 'cli', 'commands')).filter((f) => f.endsWith('.ts') && !main.includes(`./commands/${f}`));
    expect(unlisted).toEqual([]);
  });

  it('station, line, transport, ui, core and station CLI commands never reach sim/ or binding/', () => {
    expect(rules.noSimulatorInStation(src)).toEqual([]);
  });

  it('station, line, transport and core know nothing of the UI (the UI renders the state it is given)', () => {
    expect(rules.noUiBelow(src)).toEqual([]);
  });

  it('core imports nothing outside core', () => {
    expect(rules.coreAlone(src)).toEqual([]);
  });

  it('transport never reaches station/ or line/', () => {
    expect(rules.transportBelowStation(src)).toEqual([]);
  });

  it('sim/ imports from station/ only its config and the hardware seam', () => {
    expect(rules.simUsesOnlyConfigAndSeam(src)).toEqual([]);
  });

  it('the orchestrator and its strategies build no hardware (only station.ts opens the default)', () => {
    expect(rules.orchestratorBuildsNoHardware(src)).toEqual([]);
  });

  it('no import cycles (run-time imports)', () => {
    expect(rules.noCycles(src)).toEqual([]);
  });

  it('docs/architecture.md lists every folder of src/, and no folder that is gone', () => {
    // The tree at the top of the doc: a folder line is "<2 spaces per level>name/ description"
    // (a description's own continuation lines are indented further).
    const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
    const tree = /```\n(src\/[\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const listed: string[] = [];
    const stack: string[] = [];
    for (const line of tree.split('\n')) {
      const m = /^( *)([\w.-]+)\/(?: |$)/.exec(line);
      if (!m || m[1]!.length > 12) continue;
      const depth = m[1]!.length / 2;
      stack.length = depth;
      stack.push(m[2]!);
      listed.push(stack.join('/'));
    }
    const folders = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .flatMap((d) => [join(dir, d.name), ...folders(join(dir, d.name))]);
    const actual = ['src', ...folders(src).map((d) => relative(root, d))].sort();
    expect(listed.sort()).toEqual(actual);
  });

  it('the checker follows dynamic imports (sim unbind, loaded lazily by main.ts, reaches binding/)', () => {
    const seen = closure([join(src, 'cli', 'main.ts')]);
    expect([...seen.keys()].some(under(src, 'binding'))).toBe(true);
  });
});

describe('each rule fails when broken', () => {
  // A small tree that breaks every rule once.
  const src = join(mkdtempSync(join(tmpdir(), 'ifpp-arch-')), 'src');
  const put = (file: string, text: string) => {
    mkdirSync(dirname(join(src, file)), { recursive: true });
    writeFileSync(join(src, file), text);
  };
  put('cli/main.ts', "const commands = [\n  { name: 'run', summary: 'x', load: () => import('./commands/run.ts') },\n  { name: 'sim x', summary: 'x', simulator: true, load: () => import('./commands/sim-x.ts') },\n];\n");
  put('cli/commands/run.ts', "import { bind } from '../../binding/bind.ts';\n");
  put('cli/commands/sim-x.ts', "import { bind } from '../../binding/bind.ts';\n");
  put('binding/bind.ts', 'export const bind = 1;\n');
  put('core/a.ts', "import type { Slot } from '../station/hardware/slot.ts';\n");
  put('station/hardware/slot.ts', "export type Slot = {};\nimport { render } from '../../ui/render.ts';\n");
  put('ui/render.ts', 'export const render = 1;\n');
  put('transport/driver.ts', "import { Station } from '../station/orchestrator/station.ts';\n");
  put('station/orchestrator/station.ts', "import { a } from './b.ts';\nexport const Station = a;\n");
  put('station/orchestrator/b.ts', "import { Station } from './station.ts';\nexport const a = 1;\n");
  // A cycle of type imports alone is not one at run time.
  put('station/t1.ts', "import type { B } from './t2.ts';\nexport type A = B;\n");
  put('station/t2.ts', "import type { A } from './t1.ts';\nexport type B = number;\n");
  // A strategy that builds its own bridge driver, and one that opens the default hardware.
  put('station/orchestrator/strategies/own-bridge.ts', "import type { Slot } from '../../hardware/slot.ts';\nimport { BridgeDriver } from '../../../transport/bridge/bridge-driver.ts';\n");
  put('station/orchestrator/strategies/own-hardware.ts', "import { openStationHardware } from '../../hardware/open-hardware.ts';\n");
  put('station/hardware/open-hardware.ts', "import { BridgeDriver } from '../../transport/bridge/bridge-driver.ts';\nexport const openStationHardware = 1;\n");
  put('transport/bridge/bridge-driver.ts', 'export class BridgeDriver {}\n');
  put('sim/slots.ts', "import { Station } from '../station/orchestrator/station.ts';\nimport type { Slot } from '../station/hardware/slot.ts';\n");

  it('derives only the non-simulator commands', () => {
    expect(stationCommands(src).map((f) => relative(src, f))).toEqual(['cli/commands/run.ts']);
  });

  it('a station command reaching binding/', () => {
    expect(rules.noSimulatorInStation(src)).toEqual(['cli/commands/run.ts -> binding/bind.ts']);
  });

  it('station reaching ui/', () => {
    expect(rules.noUiBelow(src)).toEqual(['station/hardware/slot.ts -> ui/render.ts']);
  });

  it('core importing station', () => {
    expect(rules.coreAlone(src)).toContain('core/a.ts -> station/hardware/slot.ts');
  });

  it('transport importing station', () => {
    expect(rules.transportBelowStation(src)).toContain('transport/driver.ts -> station/orchestrator/station.ts');
  });

  it('sim importing more of station than config and the seam', () => {
    expect(rules.simUsesOnlyConfigAndSeam(src)).toEqual(['sim/slots.ts -> station/orchestrator/station.ts']);
  });

  it('an orchestrator strategy building a driver or opening the default hardware', () => {
    expect(rules.orchestratorBuildsNoHardware(src).sort()).toEqual([
      'station/orchestrator/strategies/own-bridge.ts -> transport/bridge/bridge-driver.ts',
      'station/orchestrator/strategies/own-hardware.ts -> station/hardware/open-hardware.ts',
      'station/orchestrator/strategies/own-hardware.ts -> station/hardware/open-hardware.ts -> transport/bridge/bridge-driver.ts',
    ]);
  });

  it('a cycle', () => {
    expect(rules.noCycles(src)).toEqual(['station/orchestrator/b.ts <-> station/orchestrator/station.ts']);
  });
});
