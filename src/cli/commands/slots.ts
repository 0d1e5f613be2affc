/**
 * `ifpp slots --config F [--json]`: per-slot figures over the journal, contact cycles against
 * their limits, service state and the recent-yield flag. Read-only: safe while the station runs.
 */
import { CliUsageError, parseOptions } from '../command.ts';
import { requireConfig } from '../../station/config/load.ts';
import { journalPath } from '../../station/journal/paths.ts';
import { scanJournal } from '../../station/journal/scan.ts';
import { UnitAccountant } from '../../station/report/accounting.ts';
import { JournalError } from '../../station/journal/errors.ts';
import { slotReport, slotTableLines } from '../../station/metrics/slot-report.ts';

export const help = `Usage: ifpp slots --config <file> [--json]

Shows each slot of the station: units, first-pass yield (all time and recent), outcomes, its
most frequent failure codes, contact cycles against its maintenance limit, and whether it is in
service. See also: ifpp slots reset-cycles.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { config: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length) throw new CliUsageError(`unknown slots command "${positionals[0]}" (known: reset-cycles)`);
  if (!values.config) throw new CliUsageError('name the station configuration with --config <file>');
  const config = await requireConfig(values.config);
  const acc = new UnitAccountant();
  try {
    await scanJournal(journalPath(config), (r) => acc.add(r));
  } catch (e) {
    if (!(e instanceof JournalError && e.code === 'JOURNAL_NOT_FOUND')) throw e;
  }
  const report = slotReport(config, acc.result().units);
  if (values.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(slotTableLines(report).join('\n') + '\n');
  return 0;
}
