import { basename } from 'node:path';
import { importBatchToLine } from '../../line/import.ts';
import { bppChecks } from '../../station/store/bpp-checks.ts';
import { CliUsageError, parseOptions } from '../command.ts';
import { DB_HELP, DB_OPTION, withLineDb } from '../line-db.ts';

export const help = `Usage: ifpp line import --db URL <batch-dir> [<batch-dir> ...] [--json]

Imports Esbpp batches into the line inventory with the same checks as \`ifpp bpp import\`
(manifest hashes, CERT.DPpb chain, every BF23 signature; bad BPPs are kept as rejected and
listed), streaming. Each batch goes in whole, in one transaction, or not at all.

Options:
${DB_HELP}
  --metadata-only  keep only the BPPs' metadata, not their bytes (benchmarks; no station
                   can load from such a batch)
  --json           one JSON report per batch on stdout`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { ...DB_OPTION, json: { type: 'boolean' }, 'metadata-only': { type: 'boolean' } }, true);
  if (positionals.length === 0) throw new CliUsageError('give at least one batch folder');
  let rejected = 0;
  await withLineDb(values.db, async (db, url) => {
    for (const dir of positionals) {
      const r = await importBatchToLine(db, url, dir, {
        checks: bppChecks,
        metadataOnly: values['metadata-only'] === true,
        ...(values.json ? {} : { onProgress: (phase, done, total) => process.stderr.write(`\r${basename(dir)}: ${phase === 'check' ? 'checked' : 'stored'} ${done}/${total}   `) }),
      });
      if (!values.json) process.stderr.write('\n');
      rejected += r.rejected.length;
      if (values.json) process.stdout.write(JSON.stringify(r) + '\n');
      else {
        process.stdout.write(`batch ${r.batchId}: ${r.accepted} accepted, ${r.rejected.length} rejected of ${r.count}\n`);
        for (const w of r.warnings) process.stdout.write(`  warning: ${w}\n`);
        for (const x of r.rejected.slice(0, 20)) process.stdout.write(`  rejected line ${x.line}${x.eid ? ` (EID ${x.eid})` : ''}: ${x.code} ${x.reason}\n`);
        if (r.rejected.length > 20) process.stdout.write(`  … ${r.rejected.length - 20} more (table ifpp.rejections)\n`);
      }
    }
  });
  return rejected ? 1 : 0;
}
