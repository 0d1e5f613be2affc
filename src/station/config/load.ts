/**
 * Reads a station configuration file: `.json` (strict), `.jsonc` (comments and trailing
 * commas allowed), or a module (`.ts`, `.mts`, `.js`, `.mjs`) whose default export is the
 * config or a (possibly async) function returning it. Relative paths inside the config resolve
 * against the config file's folder.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isIfppError } from '../../core/errors.ts';
import { ConfigError } from './errors.ts';
import { JsonSyntaxError, lineOf, parseJsonWithPositions } from './json-locate.ts';
import { formatProblem, validateStationConfig, type ConfigProblem, type ValidationResult } from './validate.ts';
import type { StationConfig } from './schema.ts';
import { isDialectModulePath } from '../fpa/dialect.ts';
import { loadDialect } from '../fpa/dialect-loader.ts';

export interface LoadedConfig extends ValidationResult {
  /** The file as shown in problems (relative to the working directory when inside it). */
  file: string;
}

const JSON_EXTS = new Set(['.json', '.jsonc']);
const MODULE_EXTS = new Set(['.ts', '.mts', '.js', '.mjs']);

function displayName(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

export async function loadConfig(path: string, opts: { cwd?: string } = {}): Promise<LoadedConfig> {
  const cwd = opts.cwd ?? process.cwd();
  const abs = resolve(cwd, path);
  const file = displayName(abs, cwd);
  const ext = extname(abs).toLowerCase();
  if (!JSON_EXTS.has(ext) && !MODULE_EXTS.has(ext)) {
    throw new ConfigError('CONFIG_UNSUPPORTED', `${file}: unsupported config file type "${ext || '(none)'}"`, {
      hint: 'use .json, .jsonc (JSON with comments), or a .ts/.mjs module with a default export',
    });
  }
  try {
    if (!statSync(abs).isFile()) throw new ConfigError('CONFIG_UNREADABLE', `${file} is not a file`, { hint: 'name the config file itself' });
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new ConfigError('CONFIG_UNREADABLE', `cannot read ${file} (${code ?? (e as Error).message})`, { hint: 'check the file permissions', cause: e });
    throw new ConfigError('CONFIG_NOT_FOUND', `config file ${file} not found`, { hint: 'check the path; a relative path starts at the current folder', cause: e });
  }
  const dir = dirname(abs);
  if (JSON_EXTS.has(ext)) return checkDialectModule(loadJson(abs, file, dir, ext === '.jsonc'));
  const raw = await loadModule(abs, file);
  return checkDialectModule({ file, ...validateStationConfig(raw, { file, dir, source: abs }) });
}

/** Loads a dialect module the config names, so a broken one is a config problem, not a start-up crash. */
async function checkDialectModule(r: LoadedConfig): Promise<LoadedConfig> {
  if (!r.config || !isDialectModulePath(r.config.loading.dialect)) return r;
  try {
    await loadDialect(r.config.loading.dialect);
    return r;
  } catch (e) {
    if (!isIfppError(e)) throw e;
    return { file: r.file, config: undefined, problems: [...r.problems, { file: r.file, path: 'loading.dialect', message: e.message, hint: e.hint ?? '' }] };
  }
}

function loadJson(abs: string, file: string, dir: string, jsonc: boolean): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ConfigError('CONFIG_UNREADABLE', `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      hint: 'check the file permissions',
      cause: e,
    });
  }
  let parsed;
  try {
    parsed = parseJsonWithPositions(text, { jsonc });
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    const { line, column } = e.at;
    throw new ConfigError('CONFIG_SYNTAX', `${file}:${line}:${column}: ${e.message}`, {
      hint: /comment/.test(e.message) && !jsonc ? 'rename the file to .jsonc to allow comments' : 'fix the JSON syntax at that line',
      details: { file, line, column },
    });
  }
  const { positions } = parsed;
  const result = validateStationConfig(parsed.value, { file, dir, source: abs, locate: (path) => lineOf(positions, path) });
  // JSON.parse would keep the last of two equal keys without a word; say so.
  const dupes: ConfigProblem[] = parsed.duplicateKeys.map((d) => ({
    file,
    path: d.path,
    line: d.at.line,
    message: `duplicate key (first written at line ${d.first.line})`,
    hint: 'only one of them would count; remove the other',
  }));
  if (dupes.length === 0) return { file, ...result };
  const problems = [...dupes, ...result.problems].sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
  return { file, config: undefined, problems };
}

/** Compiled (dist/): modules end in .js. From source (vitest, tsx) TypeScript imports just work. */
const COMPILED = !import.meta.url.endsWith('.ts');
let selfResolveRegistered = false;

/** Lets the config import `ifpp-station/config` from wherever it lives (self-resolve-hooks.ts). */
function registerSelfResolve(): void {
  if (selfResolveRegistered || !COMPILED) return;
  selfResolveRegistered = true;
  register(new URL('./self-resolve-hooks.js', import.meta.url), { data: { packageJsonUrl: new URL('../../../package.json', import.meta.url).href } });
}

/** Node 22.18+ and 23.6+ strip TypeScript types themselves; Node 20 cannot. */
function nodeRunsTypeScript(): boolean {
  return Boolean((process.features as { typescript?: string | false }).typescript);
}

/**
 * Imports the config module. A .ts/.mts config on a Node that cannot run TypeScript goes
 * through tsx when it is installed (it is, in a source checkout); otherwise a clear error.
 */
async function importConfigModule(abs: string, file: string): Promise<{ default?: unknown }> {
  registerSelfResolve();
  const url = pathToFileURL(abs).href;
  if (!COMPILED || !/\.m?ts$/.test(abs) || nodeRunsTypeScript()) return (await import(url)) as { default?: unknown };
  let tsImport: (specifier: string, parent: string) => Promise<unknown>;
  try {
    ({ tsImport } = (await import(import.meta.resolve('tsx/esm/api'))) as { tsImport: typeof tsImport });
  } catch {
    throw new ConfigError('CONFIG_TYPESCRIPT_UNSUPPORTED', `${file}: Node ${process.version} cannot load a TypeScript config`, {
      hint: 'write it as .mjs (the same module without type annotations; defineStation still types it in an editor), or run ifpp on Node 22.18 or later, which runs TypeScript itself',
    });
  }
  return (await tsImport(url, import.meta.url)) as { default?: unknown };
}

async function loadModule(abs: string, file: string): Promise<unknown> {
  let mod: { default?: unknown };
  try {
    mod = await importConfigModule(abs, file);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const err = wrapModuleError(e, file, 'cannot load');
    // A .ts/.js file outside an ESM package is compiled as CommonJS, which cannot load the
    // ESM layout helpers; the .mts/.mjs extension makes it a module wherever it lives.
    if (/\.(ts|js)$/.test(abs) && /require\(\)|ERR_REQUIRE|ES Module/.test(err.message)) {
      throw new ConfigError(err.code, err.message, { hint: `rename it to .${abs.endsWith('.ts') ? 'mts' : 'mjs'} (outside a package with "type": "module", .${abs.slice(-2)} files load as CommonJS)`, cause: e });
    }
    throw err;
  }
  if (mod.default === undefined) {
    throw new ConfigError('CONFIG_MODULE_FAILED', `${file} has no default export`, { hint: 'end the module with `export default defineStation({ … })`' });
  }
  if (typeof mod.default !== 'function') return mod.default;
  try {
    return await (mod.default as () => unknown)();
  } catch (e) {
    throw wrapModuleError(e, file, 'the config function failed');
  }
}

function wrapModuleError(e: unknown, file: string, what: string): ConfigError {
  if (isIfppError(e)) return new ConfigError(e.code, `${file}: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}), details: e.details, cause: e });
  // Keep the first lines: transpiler errors put the failing line and column on line 2.
  const msg = (e instanceof Error ? e.message : String(e)).split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' ');
  return new ConfigError('CONFIG_MODULE_FAILED', `${file}: ${what}: ${msg}`, { hint: 'run the module on its own (npx tsx <file>) to see the full error', cause: e });
}

/** loadConfig for the station: the config, or a ConfigError listing every problem. */
export async function requireConfig(path: string, opts: { cwd?: string } = {}): Promise<StationConfig> {
  const { config, problems, file } = await loadConfig(path, opts);
  if (config) return config;
  const n = problems.length;
  throw new ConfigError('CONFIG_INVALID', `${file} has ${n} problem${n === 1 ? '' : 's'}:\n${problems.map((p) => '  ' + formatProblem(p)).join('\n')}`, {
    hint: `run: ifpp validate ${file}`,
    details: { problems },
  });
}
