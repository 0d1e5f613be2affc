/**
 * `ifpp bench reprovision`: a replacement chip, or one whose load failed, gets the next
 * loadable BPP for its EID through the station's own unit runner, so the bench gives exactly
 * the station's guarantees: journal before every irreversible step, PIR signature and
 * transactionId verified, end-of-production step per the config's postChecks. The attempt is
 * marked as a repair in the journal (`bench.repair`), which the reports carry.
 */
import { EventBus, type StationEvent } from '../events.ts';
import type { StationConfig } from '../config/schema.ts';
import { EuiccStore } from '../euicc-data/euicc-store.ts';
import { Journal } from '../journal/journal.ts';
import { journalPath } from '../journal/paths.ts';
import { EuiccTrust } from '../orchestrator/euicc-trust.ts';
import type { UnitSlot } from '../hardware/card-slot.ts';
import { reconcileJournal } from '../orchestrator/reconcile.ts';
import { PendingChecks } from '../orchestrator/chip-seen-again.ts';
import { runUnit, type UnitResult } from '../orchestrator/unit-runner.ts';
import { unitPolicyFor } from '../orchestrator/unit-policy.ts';
import { loadDialect } from '../fpa/dialect-loader.ts';
import { openInventory } from '../inventory/open-inventory.ts';

export interface ReprovisionResult extends UnitResult {
  readonly events: readonly StationEvent[];
}

export async function reprovision(config: StationConfig, slot: UnitSlot, meta: { reader: string }): Promise<ReprovisionResult> {
  const { journal, existing } = await Journal.open(journalPath(config));
  const dialect = await loadDialect(config.loading.dialect);
  // The station's inventory (its local store, or its line's database), as `ifpp run` opens it.
  const inventory = await openInventory(config, { journalPath: journal.path, existing: existing.records }).catch(async (e: unknown) => {
    await journal.close();
    throw e;
  });
  const euicc = EuiccStore.open(config.store);
  try {
    // Attempts a crash left open are settled first, as at station start.
    const rec = await reconcileJournal(existing.records, journal, inventory);
    const bus = new EventBus();
    const events: StationEvent[] = [];
    bus.on((e) => void events.push(e));
    await journal.append('station.start', { station: `${config.name} (bench)`, config: config.source.file });
    const trust = new EuiccTrust(euicc);
    const policy = unitPolicyFor(config, dialect);
    // A unit a stop left unknown on this chip is settled from the chip first (its PIR recovered).
    const pending = new PendingChecks(rec.pending, { journal, inventory, trust, bus, endOfProduction: policy.endOfProduction }, rec.unfinished);
    const r = await runUnit(slot, { inventory, trust, journal, bus, policy, signal: new AbortController().signal, seen: (eid, fpa) => pending.settleFrom(eid, fpa, `bench reader "${meta.reader}"`) });
    await journal.append('bench.repair', { unit: r.unit, eid: r.eid, reader: meta.reader, outcome: r.outcome });
    await journal.append('station.stop', { station: `${config.name} (bench)`, config: config.source.file, reason: 'bench reprovision done' });
    return { ...r, events };
  } finally {
    await journal.close();
    await inventory.close();
    euicc.close();
  }
}
