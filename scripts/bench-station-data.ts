/**
 * Factory data for the station benchmark, built once with the real tools and reused: EUM output
 * (eUICC data + reel), one SM-DPf batch of TS.48-size BPPs (one per chip), and a pristine store
 * holding that batch and the eUICC data. Every benchmark run copies the pristine store, so runs
 * never see each other's consumed BPPs; the chips start fresh from the reel in each new bridge
 * process.
 *
 * Lives under var/bench/ (gitignored). Rebuilt when the parameters change.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEumWorld } from '../src/sim/eum/eum-tool.ts';
import { writeEumWorld } from '../src/sim/eum/write-eum.ts';
import { bindBatch } from '../src/sim/smdpf/bind-batch.ts';
import { defaultIdentityPaths, loadSmdpfIdentity } from '../src/sim/smdpf/identity.ts';
import { loadProfileSource } from '../src/sim/smdpf/profile-source.ts';
import { BppStore } from '../src/station/store/bpp-store.ts';
import { importBatch } from '../src/station/store/import-batch.ts';
import { bppChecks } from '../src/station/store/bpp-checks.ts';
import { importEuiccData } from '../src/station/euicc-data/euicc-store.ts';

export interface BenchData {
  dir: string;
  chips: number;
  profile: string;
  reel: string;
  eids: string[];
  /** The store to copy for each run (batch + eUICC data imported). */
  pristineStore: string;
  bppBytes: number;
}

interface Meta {
  version: number;
  chips: number;
  profile: string;
  curve: string;
  eids: string[];
  bppBytes: number;
}

const VERSION = 1;

export async function prepareBenchData(root: string, chips: number, profile: string, log: (s: string) => void): Promise<BenchData> {
  const curve = 'nist';
  const metaPath = join(root, 'meta.json');
  if (existsSync(metaPath)) {
    const m = JSON.parse(readFileSync(metaPath, 'utf8')) as Meta;
    if (m.version === VERSION && m.profile === profile && m.curve === curve && m.chips >= chips) {
      return { dir: root, chips: m.chips, profile, reel: join(root, 'eum', 'reel.ndjson'), eids: m.eids, pristineStore: join(root, 'store'), bppBytes: m.bppBytes };
    }
  }
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const t0 = performance.now();
  log(`building factory data: ${chips} chips, profile ${profile} (once; reused by later runs)`);
  const world = createEumWorld({ euiccs: chips, otks: 2, curve });
  const eum = writeEumWorld(world, join(root, 'eum'));
  log(`  EUM: ${chips} chips in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const t1 = performance.now();
  const batch = await bindBatch({
    euiccData: eum.euiccData,
    profile: loadProfileSource(profile),
    dp: loadSmdpfIdentity(defaultIdentityPaths(eum.euiccData)),
    out: join(root, 'batch'),
    perEuicc: 1,
    iccidStart: '894944999999990001',
    batchId: 'bench-batch',
  });
  log(`  SM-DPf: ${batch.count} BPPs bound in ${((performance.now() - t1) / 1000).toFixed(1)} s (${batch.bppsPerSecond.toFixed(0)} /s)`);
  const storeDir = join(root, 'store');
  const store = BppStore.open(storeDir);
  try {
    await importBatch(store, batch.dir, { checks: bppChecks });
  } finally {
    store.close();
  }
  await importEuiccData(storeDir, eum.euiccData, 'bench-lot');
  const eids = Array.from({ length: chips }, (_, i) => world.eidAt(i));
  const dataFile = batch.files.find((f) => f.name !== 'index.ndjson');
  const bppBytes = dataFile ? Math.round(dataFile.bytes / batch.count) : 0;
  const meta: Meta = { version: VERSION, chips, profile, curve, eids, bppBytes };
  writeFileSync(metaPath, JSON.stringify(meta));
  log(`  store ready in ${((performance.now() - t0) / 1000).toFixed(1)} s; BPP size ${bppBytes} bytes`);
  return { dir: root, chips, profile, reel: eum.reel, eids, pristineStore: storeDir, bppBytes };
}

/** A fresh copy of the pristine store for one run. */
export function copyStore(data: BenchData, dest: string): void {
  rmSync(dest, { recursive: true, force: true });
  cpSync(data.pristineStore, dest, { recursive: true });
}
