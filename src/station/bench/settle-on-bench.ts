/**
 * A chip on the repair bench whose unit a station stop left `unknown` (BF23 sent, no PIR
 * journaled; settled as unknown when that station restarted): its signed result is recovered
 * from the chip's notification list and the unit settled in the station's journal and
 * inventory, exactly as the station does when it sees the chip again (chip-seen-again.ts).
 * Attempts still open (a station that has not restarted, or one running now) are left to
 * that station.
 */
import type { StationConfig } from '../config/schema.ts';
import { EuiccStore } from '../euicc-data/euicc-store.ts';
import type { FpaClient } from '../fpa/fpa-client.ts';
import { loadDialect } from '../fpa/dialect-loader.ts';
import { openInventory } from '../inventory/open-inventory.ts';
import { Journal } from '../journal/journal.ts';
import { journalPath } from '../journal/paths.ts';
import { PendingChecks, type SeenAgainResult } from '../orchestrator/chip-seen-again.ts';
import { EuiccTrust } from '../orchestrator/euicc-trust.ts';
import { chipChecks } from '../orchestrator/reconcile.ts';
import { unitPolicyFor } from '../orchestrator/unit-policy.ts';

export async function settleOnBench(config: StationConfig, fpa: FpaClient, eid: string, where: string): Promise<SeenAgainResult[]> {
  const before = chipChecks((await Journal.read(journalPath(config))).records);
  if (!before.pending.some((p) => p.eid === eid) && !before.unfinished.some((u) => u.eid === eid)) return [];
  const { journal, existing } = await Journal.open(journalPath(config));
  try {
    const inventory = await openInventory(config, { journalPath: journal.path, existing: existing.records });
    const euicc = EuiccStore.open(config.store);
    try {
      const policy = unitPolicyFor(config, await loadDialect(config.loading.dialect));
      const { pending, unfinished } = chipChecks(existing.records);
      const checks = new PendingChecks(pending, { journal, inventory, trust: new EuiccTrust(euicc), endOfProduction: policy.endOfProduction }, unfinished);
      return await checks.settleFrom(eid, fpa, where);
    } finally {
      euicc.close();
      await inventory.close();
    }
  } finally {
    await journal.close();
  }
}
