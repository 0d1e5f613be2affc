/**
 * `ifpp validate <config> [--json]`: checks a station configuration without touching any
 * hardware, and lists every problem as `file:line path: message (hint)`.
 */
import { CliUsageError, parseOptions } from '../command.ts';
import { ConfigError } from '../../station/config/errors.ts';
import { loadConfig } from '../../station/config/load.ts';
import { formatProblem, type ConfigProblem } from '../../station/config/validate.ts';
import type { StationConfig } from '../../station/config/schema.ts';

export const help = `Usage: ifpp validate <config> [--json]

Checks a station configuration (.json, .jsonc, or a .ts/.mjs module) and reports every
problem with its place: file:line path: message (hint). No hardware is opened.

Options:
  --json    print one JSON object { ok, file, summary?, problems[] } instead of text

Exit status: 0 when the configuration is valid, 1 when it has problems or cannot be read.`;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function summarize(config: StationConfig): string {
  const enabled = config.slots.filter((s) => s.enabled).length;
  const disabled = config.slots.length - enabled;
  const carriers = [config.bridges.length || !config.readers?.length ? plural(config.bridges.length, 'bridge') : '', config.readers?.length ? plural(config.readers.length, 'PC/SC reader') : ''].filter(Boolean);
  return `${plural(config.slots.length, 'slot')}${disabled ? ` (${disabled} disabled)` : ''} on ${carriers.join(' and ')}, ${config.kind}`;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { json: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new CliUsageError(positionals.length === 0 ? 'name the configuration file to check' : 'give exactly one configuration file');
  const path = positionals[0]!;
  const json = values.json === true;

  let problems: ConfigProblem[];
  let file = path;
  let config: StationConfig | undefined;
  try {
    ({ problems, file, config } = await loadConfig(path));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // An unreadable file is one more problem of the same shape, so --json callers see one format.
    const { line, column } = e.details;
    if (typeof e.details.file === 'string') file = e.details.file;
    let message = e.message;
    if (typeof line === 'number' && typeof column === 'number') {
      const prefix = `${file}:${line}:${column}: `;
      message = `column ${column}: ${message.startsWith(prefix) ? message.slice(prefix.length) : message}`;
    } else if (message.startsWith(`${file}: `)) {
      message = message.slice(file.length + 2);
    }
    problems = [{ file, path: '', ...(typeof line === 'number' ? { line } : {}), message: `${e.code}: ${message}`, hint: e.hint ?? '' }];
  }

  if (json) {
    const out = { ok: problems.length === 0, file, ...(config ? { summary: summarize(config) } : {}), problems };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else if (problems.length > 0) {
    process.stdout.write(problems.map((p) => formatProblem(p)).join('\n') + '\n');
    process.stderr.write(`${file}: ${plural(problems.length, 'problem')}\n`);
  } else if (config) {
    process.stdout.write(`ok: ${summarize(config)} (${file})\n`);
  }
  return problems.length === 0 ? 0 : 1;
}
