/**
 * A simulated world's batch and eUICC data into its station's store, as an operator would
 * import them (`ifpp bpp import`, `ifpp euicc import`); what is already there is not imported
 * again. Shared by `ifpp sim station` and `ifpp sim world --import`.
 */
import { join } from 'node:path';
import type { WorldDescription } from '../sim/world/world-files.ts';
import type { StationConfig } from '../station/config/schema.ts';
import { EuiccStore, importEuiccData } from '../station/euicc-data/euicc-store.ts';
import { bppChecks } from '../station/store/bpp-checks.ts';
import { BppStore } from '../station/store/bpp-store.ts';
import { importBatch } from '../station/store/import-batch.ts';

export const SIM_EUICC_DATA_NAME = 'sim-eum';

/** Imports what is missing; returns one line per import made. */
export async function importWorld(dir: string, world: WorldDescription, config: StationConfig): Promise<string[]> {
  const said: string[] = [];
  const store = BppStore.open(config.store);
  try {
    if (!store.batchIds().includes(world.batch.batchId)) {
      const r = await importBatch(store, join(dir, world.files.batch), { checks: bppChecks });
      said.push(`imported batch ${r.batchId}: ${r.accepted} BPPs`);
    }
  } finally {
    store.close();
  }
  const euicc = EuiccStore.open(config.store);
  const haveData = euicc.names.includes(SIM_EUICC_DATA_NAME);
  euicc.close();
  if (!haveData) {
    const r = await importEuiccData(config.store, join(dir, world.files.euiccData), SIM_EUICC_DATA_NAME);
    said.push(`imported eUICC data ${SIM_EUICC_DATA_NAME}: ${r.count} chips`);
  }
  return said;
}

/** The commands that import a world's data by hand, relative to the current folder. */
export function importCommands(ifpp: string, dir: string, world: WorldDescription): string[] {
  const station = join(dir, world.files.station);
  return [
    `${ifpp} euicc import --config ${station} --name ${SIM_EUICC_DATA_NAME} ${join(dir, world.files.euiccData)}`,
    `${ifpp} bpp import --config ${station} ${join(dir, world.files.batch)}`,
  ];
}
