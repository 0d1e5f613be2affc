import { basename } from 'node:path';
import { requireConfig } from '../../station/config/load.ts';
import { BppStore } from '../../station/store/bpp-store.ts';
import { EuiccStore } from '../../station/euicc-data/euicc-store.ts';
import { importBatch } from '../../station/store/import-batch.ts';
import { bppChecks } from '../../station/store/bpp-checks.ts';
import { CliUsageError, parseOptions } from '../command.ts';

export const help = `Usage: ifpp bpp import --config F <batch-dir> [<batch-dir> ...] [--json]

Imports Esbpp batches (docs/formats.md) into the station's BPP store: checks the manifest
hashes, the CERT.DPpb chain to the batch's CI and every BF23 signature, streaming, and keeps
the good BPPs when some are bad (each rejected one is listed with its index line and EID).
Each index line must agree with its BPP (transactionId, ICCID in the metadata, EID check
digits) and, when the chip's eUICC data is imported (ifpp euicc import), name one of its
one-time keys; import the eUICC data first. A batch whose manifest count differs from its
index, or with an empty index, is refused as a whole.

Importing a batch that is already in the store completes it: the BPPs refused the first time
(a truncated or damaged copy) are taken from this copy when they pass every check, and the
command says how many. The copy must carry the same index (its manifest's SHA-256); BPPs
already in the store are left as they are. A batch with nothing refused is complete and is
not imported again (BATCH_ALREADY_IMPORTED).`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { config: { type: 'string' }, json: { type: 'boolean' } }, true);
  if (!values.config) throw new CliUsageError('--config is required');
  if (positionals.length === 0) throw new CliUsageError('give at least one batch folder');
  const config = await requireConfig(values.config);
  const store = BppStore.open(config.store);
  const euicc = EuiccStore.open(config.store, { readOnly: true });
  let failed = 0;
  try {
    for (const dir of positionals) {
      const r = await importBatch(store, dir, {
        checks: bppChecks,
        chipKeys: (eid) => euicc.oneTimeKeys(eid),
        onProgress: values.json ? undefined : (done, total) => process.stderr.write(`\r${basename(dir)}: ${done}/${total}`),
      });
      if (!values.json) process.stderr.write('\n');
      failed += r.rejected.length;
      if (values.json) process.stdout.write(JSON.stringify(r) + '\n');
      else {
        if (r.completed !== undefined) {
          process.stdout.write(
            `batch ${r.batchId} was in the store: ${r.completed} BPP${r.completed === 1 ? '' : 's'} refused before added from this copy; now ${r.accepted} accepted, ${r.rejected.length} rejected of ${r.count}\n`,
          );
        } else process.stdout.write(`batch ${r.batchId}: ${r.accepted} accepted, ${r.rejected.length} rejected of ${r.count}\n`);
        for (const w of r.warnings) process.stdout.write(`  warning: ${w}\n`);
        for (const x of r.rejected.slice(0, 20)) process.stdout.write(`  rejected line ${x.line}${x.eid ? ` (EID ${x.eid})` : ''}: ${x.code} ${x.reason}\n`);
        if (r.rejected.length > 20) process.stdout.write(`  … ${r.rejected.length - 20} more in ${config.store}/batches/${r.batchId}/rejected.ndjson\n`);
      }
    }
  } finally {
    store.close();
    euicc.close();
  }
  return failed ? 1 : 0;
}
