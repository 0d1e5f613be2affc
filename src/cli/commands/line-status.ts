import { formatStatus, lineStatus } from '../../line/status.ts';
import { CliUsageError, parseOptions } from '../command.ts';
import { DB_HELP, DB_OPTION, withLineDb } from '../line-db.ts';

export const help = `Usage: ifpp line status --db URL [--json]

Shows the line now: each station with its heartbeat age, in-flight BPPs, stale leases,
assigned stock and outbox lag (journal records not yet received); every in-flight BPP with
its claim and lease (an expired lease is STALE, never released by itself); stock per batch by
state.

Options:
${DB_HELP}
  --json   the same as one JSON object`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { ...DB_OPTION, json: { type: 'boolean' } }, true);
  if (positionals.length) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
  const s = await withLineDb(values.db, (db, url) => lineStatus(db, url));
  process.stdout.write((values.json ? JSON.stringify(s, null, 2) : formatStatus(s)) + '\n');
  return 0;
}
