/**
 * A station must not run blind: with no eUICC data, or no BPP it could load, every chip would
 * end as `no-bpp` (a whole reel set aside) without anyone having imported anything. `ifpp run`
 * refuses to start then, unless told to (--allow-empty), and says what to import. A station
 * on its own store only: a line station's stock is the line database's (docs/line-guide.md).
 */
import type { StationConfig } from '../config/schema.ts';
import type { EuiccStore } from '../euicc-data/euicc-store.ts';
import type { Inventory } from '../inventory/inventory.ts';
import { BppState } from '../store/bpp-store.ts';
import { StationError } from './station-error.ts';

export const NOTHING_TO_LOAD = 'NOTHING_TO_LOAD';

/** What is missing, as phrases; empty when the station has something to load. */
export function missingStock(inventory: Inventory, euicc: EuiccStore): string[] {
  const missing: string[] = [];
  if (euicc.infos.reduce((n, i) => n + i.count, 0) === 0) missing.push('no eUICC data (no chip could be checked)');
  const counts = [...inventory.counts().values()];
  const loadable = counts.reduce((n, c) => n + c[BppState.available] + c[BppState.failedBeforeSecureChannel], 0);
  if (loadable === 0) missing.push(counts.length === 0 ? 'no BPP batch' : `no loadable BPP (${counts.length} batch${counts.length === 1 ? '' : 'es'}, every BPP used or retired)`);
  return missing;
}

/** Throws NOTHING_TO_LOAD naming what is missing and the import commands. */
export function refuseToRunBlind(config: StationConfig, inventory: Inventory, euicc: EuiccStore): void {
  // A line station's stock is the line database's, which may not answer at start (an offline
  // start loads from its saved assignment): the line's own start checks apply there.
  if (inventory.kind !== 'local') return;
  const missing = missingStock(inventory, euicc);
  if (missing.length === 0) return;
  const cfg = config.source.file;
  const steps = `import them: ifpp euicc import --config ${cfg} <euicc-data.ndjson>, then ifpp bpp import --config ${cfg} <batch-dir>`;
  throw new StationError(NOTHING_TO_LOAD, `the station's store has ${missing.join(' and ')}: every chip would end as no-bpp`, {
    hint: `${steps}; or start anyway with --allow-empty`,
    details: { store: config.store, missing },
  });
}
