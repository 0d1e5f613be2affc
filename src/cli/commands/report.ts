/**
 * `ifpp report --config F [--batch ID] [--out DIR] [--json]`: writes the Profile Loading
 * Report of each batch (plus one for units that never got a BPP) and the per-unit
 * traceability CSV from the station journal, and prints what it wrote.
 */
import { relative, isAbsolute } from 'node:path';
import { CliUsageError, parseOptions } from '../command.ts';
import { requireConfig } from '../../station/config/load.ts';
import { generateReports } from '../../station/report/generate.ts';
import type { PlrCounts } from '../../station/report/plr.ts';
import { bppFate, type BppFate, type UnitAccount } from '../../station/report/accounting.ts';
import { slotTableLines } from '../../station/metrics/slot-report.ts';

export const help = `Usage: ifpp report --config <file> [--batch <id>] [--out <dir>] [--json]

Writes, from the station journal, the Profile Loading Report for the SM-DPf (one
plr-<batch>-<time>.json per batch, with the eUICC-signed installation results and every
failure; plr-unassigned-<time>.json for units that never got a BPP) and a per-unit
traceability CSV (units-<time>.csv), and per-slot figures (a table here, slots-<time>.csv:
units, first-pass yield, outcomes, failure codes, contact cycles, recent-yield flag). Every unit attempt is counted exactly once; attempts
still in flight when the station stopped are listed as "open". See docs/report-format.md.

Options:
  --config <file>  the station configuration (its "journal", "store" and "reports" folders)
  --batch <id>     only this batch (its report, and CSV rows of its units)
  --out <dir>      write here instead of the configuration's "reports" folder
  --json           print one JSON summary instead of text

Exit status: 0 when written; 1 on an error, or when a BPP was pushed more than once
(the reports are still written and name it).`;

const LABELS: Array<[keyof PlrCounts, string]> = [
  ['installed', 'installed'],
  ['failedKeyBurnt', 'failed (key burnt)'],
  ['failedBeforeSecureChannel', 'failed before secure channel'],
  ['noBpp', 'no BPP'],
  ['unreachable', 'unreachable'],
  ['interrupted', 'interrupted'],
  ['unknown', 'unknown'],
  ['open', 'open'],
];

function describeCounts(c: PlrCounts): string {
  const parts = LABELS.filter(([k]) => c[k] > 0).map(([k, label]) => `${c[k]} ${label}`);
  return parts.length ? parts.join(', ') : 'no units';
}

/** What became of the BPPs the attempts chose (every attempt's, not only each unit's last). */
function bppFates(units: readonly UnitAccount[]): Record<BppFate, number> {
  const c: Record<BppFate, number> = { loaded: 0, spent: 0, unknown: 0, unused: 0 };
  for (const u of units) {
    const f = bppFate(u);
    if (f) c[f]++;
  }
  return c;
}

function describeFates(c: Record<BppFate, number>): string {
  return `${c.loaded} loaded, ${c.spent} spent without a profile (key used), ${c.unknown} unknown (sent, no answer yet), ${c.unused} given back unused`;
}

function shown(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : p;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    config: { type: 'string' },
    batch: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.config) throw new CliUsageError('name the station configuration with --config <file>');
  const config = await requireConfig(values.config);
  const result = await generateReports({
    config,
    ...(values.batch !== undefined ? { batch: values.batch } : {}),
    ...(values.out !== undefined ? { outDir: values.out } : {}),
  });
  const { accounting: acc } = result;
  const fates = bppFates(values.batch === undefined ? acc.units : acc.units.filter((u) => u.batchId === values.batch));
  const total = result.plrs.reduce<PlrCounts | undefined>((sum, p) => {
    if (!sum) return { ...p.counts };
    for (const k of Object.keys(sum) as Array<keyof PlrCounts>) sum[k] += p.counts[k];
    return sum;
  }, undefined);

  if (values.json) {
    const out = {
      journal: result.journal,
      reports: result.plrs.map((p) => ({ path: p.path, batchId: p.batchId, smdpf: p.smdpf, counts: p.counts, results: p.results, failures: p.failures })),
      csv: result.csv,
      slots: { csv: result.slotsCsv, rows: result.slots.slots, bridges: result.slots.bridges, total: result.slots.total },
      units: result.csv.rows,
      bpps: fates,
      open: acc.open.filter((u) => values.batch === undefined || u.batchId === values.batch).map((u) => u.unit),
      duplicatesPushed: acc.duplicatesPushed,
      anomalies: acc.anomalies,
      warnings: result.warnings,
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else {
    const lines: string[] = [];
    for (const p of result.plrs) {
      const what = p.batchId === null ? 'units without a BPP' : `batch ${p.batchId}${p.smdpf ? ` (SM-DPf ${p.smdpf.name})` : ''}`;
      lines.push(`wrote ${shown(p.path)}: ${what}: ${describeCounts(p.counts)}`);
    }
    lines.push(`wrote ${shown(result.csv.path)}: ${result.csv.rows} unit attempt${result.csv.rows === 1 ? '' : 's'}`);
    if (total) lines.push(`total: ${describeCounts(total)}`);
    lines.push(`BPPs: ${describeFates(fates)}`);
    // Skipped chips (eidPolicy.unknownEid "skip") involve no BPP, so no PLR counts them.
    const skipped = acc.byOutcome.skipped;
    if (skipped && values.batch === undefined) lines.push(`skipped: ${skipped} unit attempt${skipped === 1 ? '' : 's'} with a chip not for this station (left untouched; in the CSV, in no PLR)`);
    lines.push(`wrote ${shown(result.slotsCsv.path)}: ${result.slotsCsv.rows} slot${result.slotsCsv.rows === 1 ? '' : 's'}`);
    lines.push('', 'per slot (whole journal):', ...slotTableLines(result.slots).map((l) => `  ${l}`), '');
    lines.push(`journal: ${result.journal.records} records up to seq ${result.journal.lastSeq ?? '-'}${result.journal.tornTail ? ' (a torn last line, never acknowledged, was ignored)' : ''}`);
    process.stdout.write(lines.join('\n') + '\n');
    const warn: string[] = [...result.warnings];
    if (total && total.open > 0) warn.push(`${total.open} unit attempt${total.open === 1 ? ' is' : 's are'} open (in flight when the station stopped): start the station to reconcile, then report again`);
    for (const a of acc.anomalies) warn.push(`journal seq ${a.seq}: ${a.code}: ${a.message}`);
    for (const d of acc.duplicatesPushed) warn.push(`BPP ${d.batchId}#${d.position} was pushed ${d.sends.length} times (units ${d.sends.map((s) => s.unit).join(', ')})`);
    if (warn.length) process.stderr.write(warn.map((w) => `warning: ${w}`).join('\n') + '\n');
  }
  return acc.duplicatesPushed.length ? 1 : 0;
}
