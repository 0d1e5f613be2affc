import { assignChips, readEidList } from '../../line/assign.ts';
import { CliUsageError, parseOptions } from '../command.ts';
import { DB_HELP, DB_OPTION, withLineDb } from '../line-db.ts';

export const help = `Usage: ifpp line assign --db URL --station ID (--reel FILE | --eids FILE) [--json]

Pre-assigns the loadable BPPs of these chips to one station, so it can load them while the
line database is unreachable (docs/line-guide.md, "Offline operation"). No other station
claims a BPP assigned to another. BPPs already assigned elsewhere, claimed or spent are left
as they are, and listed.

Options:
${DB_HELP}
  --station ID  the station (its config's inventory.stationId)
  --reel FILE   a reel file (NDJSON): only each line's "eid" is read
  --eids FILE   a text file with one EID per line (# starts a comment)
  --json        print the result as JSON`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { ...DB_OPTION, station: { type: 'string' }, reel: { type: 'string' }, eids: { type: 'string' }, json: { type: 'boolean' } }, true);
  if (positionals.length) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.station) throw new CliUsageError('name the station with --station ID');
  if (!values.reel === !values.eids) throw new CliUsageError('give exactly one of --reel FILE or --eids FILE');
  const list = await readEidList((values.reel ?? values.eids)!);
  const r = await withLineDb(values.db, (db, url) => assignChips(db, url, values.station!, list.eids));
  if (values.json) process.stdout.write(JSON.stringify({ ...r, skippedLines: list.skipped }) + '\n');
  else {
    process.stdout.write(`station ${r.station}: ${r.assigned} BPPs assigned for ${r.chips} chips\n`);
    if (r.elsewhere.length) process.stdout.write(`  ${r.elsewhere.length} chips have their loadable BPPs assigned to another station: ${r.elsewhere.slice(0, 5).join(', ')}${r.elsewhere.length > 5 ? ', …' : ''}\n`);
    if (r.noBpp.length) process.stdout.write(`  ${r.noBpp.length} chips have no loadable BPP in the inventory: ${r.noBpp.slice(0, 5).join(', ')}${r.noBpp.length > 5 ? ', …' : ''}\n`);
    for (const s of list.skipped.slice(0, 10)) process.stdout.write(`  line ${s.line} skipped: ${s.reason}\n`);
  }
  return r.noBpp.length || r.elsewhere.length || list.skipped.length ? 1 : 0;
}
