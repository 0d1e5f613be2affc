/**
 * `ifpp history <EID> --config F [--config G…] [--journal FILE…] [--json]`: every attempt for
 * one chip across the station's journals (and any others named), and its BPPs in the store.
 */
import { CliUsageError, parseOptions } from '../command.ts';
import { IfppError } from '../../core/errors.ts';
import { parseEid } from '../../core/rsp/eid.ts';
import { requireConfig } from '../../station/config/load.ts';
import { journalsIn, unitHistory, type HistoryAttempt } from '../../station/metrics/unit-history.ts';
import { existsSync } from 'node:fs';

export const help = `Usage: ifpp history <EID> --config <file> [--config <file>…] [--journal <file>…] [--json]

Lists every attempt to load the chip <EID> found in the station's journals (every *.ndjson in
its "journal" folder: the live journal and any kept beside it), oldest first: when, station
and slot, the BPP (batch#position, transaction id, ICCID), the outcome and its code, whether
the one-time key was burnt, when the attempt ended, and for an installed one whether its
end-of-production finish (postChecks) succeeded. Then every BPP the store holds for
the chip, with its state. Read-only: safe while the station runs.

Options:
  --config <file>   a station configuration (its journal folder and store); repeat for several stations
  --journal <file>  one more journal file to search (e.g. copied from another station); repeatable
  --json            print one JSON document instead of text

Exit status: 0 when the chip was found, 3 when no journal or store knows it, 1 on an error.`;

const yesNo = (b: boolean | 'unknown'): string => (b === 'unknown' ? 'unknown' : b ? 'yes' : 'no');

function line(a: HistoryAttempt): string {
  const bpp = a.batchId === null ? 'no BPP' : `BPP ${a.batchId}#${a.position ?? '?'}${a.transactionId ? ` tx ${a.transactionId}` : ''}${a.iccid ? ` ICCID ${a.iccid}` : ''}`;
  const what = a.outcome === 'installed' ? 'installed' : `${a.outcome}${a.code ? ` [${a.code}]` : ''}${a.stage ? ` at ${a.stage}` : ''}${a.reason ? `: ${a.reason}` : ''}`;
  return [
    `${a.started ?? '?'}  ${a.station}${a.repair ? ' (bench repair)' : ''} slot ${a.slot ?? '?'}  attempt ${a.attempt ?? '?'}  ${bpp}`,
    `    ${what}; key burnt: ${yesNo(a.keyBurnt)}; ended: ${a.ended ?? 'no (open: in flight when the station stopped)'}${a.settledBy === 'reconciled' ? ' (settled at a restart)' : ''}` +
      (a.finished === null ? '' : `; finished: ${a.finished ? 'yes (unused keys deleted / FPA services closed)' : 'NO (finishing failed)'}`),
  ].join('\n');
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { config: { type: 'string', multiple: true }, journal: { type: 'string', multiple: true }, json: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new CliUsageError(positionals.length ? `one EID, not ${positionals.length} arguments` : 'name the chip: ifpp history <EID> --config <file>');
  const configs = values.config ?? [];
  const extra = values.journal ?? [];
  if (!configs.length && !extra.length) throw new CliUsageError('name the station configuration with --config <file> (or a journal with --journal <file>)');
  const eid = parseEid(positionals[0]!);
  const journals: string[] = [];
  const stores: string[] = [];
  for (const file of configs) {
    const c = await requireConfig(file);
    journals.push(...journalsIn(c.journal));
    stores.push(c.store);
  }
  for (const j of extra) {
    if (!existsSync(j)) throw new IfppError('HISTORY_NO_JOURNAL', `no journal file ${j}`, { hint: 'check the path given to --journal' });
    journals.push(j);
  }
  const h = await unitHistory(eid, { journals, stores });
  const found = h.attempts.length > 0 || h.bpps.length > 0;
  if (values.json) {
    process.stdout.write(JSON.stringify(h, null, 2) + '\n');
    return found ? 0 : 3;
  }
  const out: string[] = [`EID ${eid}`];
  if (!h.attempts.length) out.push(`  no attempt in ${h.journals.length} journal${h.journals.length === 1 ? '' : 's'}`);
  else {
    const burnt = h.attempts.filter((a) => a.keyBurnt === true).length;
    const installed = h.attempts.filter((a) => a.outcome === 'installed').length;
    out.push(`  ${h.attempts.length} attempt${h.attempts.length === 1 ? '' : 's'}: ${installed} installed, ${burnt} key${burnt === 1 ? '' : 's'} burnt`);
    for (const a of h.attempts) out.push(line(a).replace(/^/gm, '  '));
  }
  if (h.bpps.length) {
    out.push('  BPPs in the store:');
    for (const b of h.bpps) out.push(`    ${b.batchId}#${b.position}  ${b.state}  tx ${b.transactionId}`);
  } else out.push(`  no BPP for this EID in ${h.stores.length ? h.stores.join(', ') : 'any store'}`);
  process.stdout.write(out.join('\n') + '\n');
  return found ? 0 : 3;
}
