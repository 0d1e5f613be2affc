/**
 * A simulated world's data in the line database, as an operator would put it there: the
 * schema migrations (ifpp line init), the eUICC data and the BPP batch (ifpp line euicc import,
 * ifpp line import), each only when the database lacks it.
 */
import { join } from 'node:path';
import type { Db } from '../../line/db.ts';
import { importBatchToLine, importEuiccDataToLine } from '../../line/import.ts';
import { migrate } from '../../line/schema.ts';
import type { BuiltWorld } from '../../sim/world/build-world.ts';
import { bppChecks } from '../../station/store/bpp-checks.ts';
import { SimLineError } from './run-line.ts';

export const SIM_EUICC_SET = 'sim-eum';

export async function prepareLineDb(db: Db, url: string, w: Pick<BuiltWorld, 'dir' | 'world'>, say: (s: string) => void = () => undefined): Promise<void> {
  const m = await migrate(db, url);
  if (m.applied.length) say(`line database: applied schema migrations ${m.applied.join(', ')}`);
  // Every simulated world numbers its chips alike: another world's BPPs for them would make these chips look provisioned.
  const other = await db.query<{ batch_id: string }>('SELECT batch_id FROM ifpp.bpps WHERE eid = $1 AND batch_id <> $2 LIMIT 1', [Buffer.from(w.world.eids.first, 'hex'), w.world.batch.batchId]);
  if (other.rowCount) {
    throw new SimLineError('SIM_LINE_OTHER_WORLD', `the line database already holds batch ${other.rows[0]!.batch_id} for the chips of this simulated world (another world's, with the same EIDs)`, {
      hint: 'give the simulated line a database of its own (createdb, then --db), or go on with the world that database was made for',
    });
  }
  const have = await db.query('SELECT 1 FROM ifpp.batches WHERE batch_id = $1', [w.world.batch.batchId]);
  if (!have.rowCount) {
    const r = await importBatchToLine(db, url, join(w.dir, w.world.files.batch), { checks: bppChecks });
    say(`imported batch ${r.batchId} into the line database: ${r.accepted} BPPs`);
  }
  const sets = await db.query('SELECT 1 FROM ifpp.euicc_sets WHERE name = $1', [SIM_EUICC_SET]);
  if (!sets.rowCount) {
    await importEuiccDataToLine(db, url, join(w.dir, w.world.files.euiccData), SIM_EUICC_SET);
    say('imported the eUICC data into the line database');
  }
}
