import { isAbsolute, relative } from 'node:path';
import { lineReport } from '../../line/report.ts';
import { CliUsageError, parseOptions } from '../command.ts';
import { DB_HELP, DB_OPTION, withLineDb } from '../line-db.ts';

export const help = `Usage: ifpp line report --db URL [--out DIR] [--json]

Writes the Profile Loading Report of each batch (plr-<batch>-<time>.json, with every station's
eUICC-signed results and failures) and one unit CSV across all stations (units-line-<time>.csv),
in the formats of \`ifpp report\` (docs/report-format.md), from the station journals their
outboxes delivered to the database. Slots are named station/slot.

Options:
${DB_HELP}
  --out DIR   where to write (default: the current folder)
  --json      print a JSON summary

Exit status: 0 when written; 1 on an error, or when a BPP was pushed more than once.`;

function shown(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : p;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { ...DB_OPTION, out: { type: 'string' }, json: { type: 'boolean' } }, true);
  if (positionals.length) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
  const r = await withLineDb(values.db, (db, url) => lineReport(db, url, { outDir: values.out ?? '.' }));
  const acc = r.accounting;
  if (values.json) {
    process.stdout.write(
      JSON.stringify(
        { stations: r.stations, reports: r.plrs, csv: r.csv, byOutcome: acc.byOutcome, open: acc.open.map((u) => u.unit), duplicatesPushed: acc.duplicatesPushed, anomalies: acc.anomalies, lagging: r.lagging },
        null,
        2,
      ) + '\n',
    );
  } else {
    for (const p of r.plrs) process.stdout.write(`wrote ${shown(p.path)}: ${p.batchId === null ? 'units without a BPP' : `batch ${p.batchId}`}: ${p.counts.installed} installed, ${p.failures} failures\n`);
    process.stdout.write(`wrote ${shown(r.csv.path)}: ${r.csv.rows} unit attempts from ${r.stations.length} station(s)\n`);
    const warn: string[] = [];
    for (const l of r.lagging) warn.push(`station ${l.station} has ${l.lag} journal records not yet delivered: the report misses them until its outbox drains`);
    if (acc.open.length) warn.push(`${acc.open.length} unit attempts are open (in flight, or their station has not reconciled yet)`);
    for (const d of acc.duplicatesPushed) warn.push(`BPP ${d.batchId}#${d.position} was pushed ${d.sends.length} times (units ${d.sends.map((s) => s.unit).join(', ')})`);
    if (warn.length) process.stderr.write(warn.map((w) => `warning: ${w}`).join('\n') + '\n');
  }
  return acc.duplicatesPushed.length ? 1 : 0;
}
