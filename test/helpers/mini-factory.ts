/**
 * A small simulated factory for station tests, built with the real tools: EUM output (eUICC
 * data + reel), one SM-DPf batch imported into a real BppStore, the eUICC data imported into a
 * real EuiccStore, and simulated cards reachable through an in-process UnitSlot (the T=0 path
 * of the bridge without the serial line).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CurveName } from '../../src/core/crypto/curves.ts';
import { createEumWorld } from '../../src/sim/eum/eum-tool.ts';
import { writeEumWorld } from '../../src/sim/eum/write-eum.ts';
import { bindBatch } from '../../src/sim/smdpf/bind-batch.ts';
import { defaultIdentityPaths, loadSmdpfIdentity } from '../../src/sim/smdpf/identity.ts';
import { loadProfileSource } from '../../src/sim/smdpf/profile-source.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import type { SimulatedEuicc } from '../../src/sim/euicc/euicc-card.ts';
import { BppStore } from '../../src/station/store/bpp-store.ts';
import { importBatch } from '../../src/station/store/import-batch.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { EuiccStore, importEuiccData } from '../../src/station/euicc-data/euicc-store.ts';
import { T0ApduChannel } from '../../src/transport/card/t0-apdu.ts';
import type { UnitSlot } from '../../src/station/hardware/card-slot.ts';

export interface MiniFactory {
  dir: string;
  reel: string;
  /** The EUM's eUICC data file (ifpp-euicc-data/1). */
  euiccData: string;
  eids: string[];
  store: BppStore;
  euicc: EuiccStore;
  batchDir: string;
  /** The chip `eid` in an in-process slot; its state kept in `stateDir` (default: the factory's chips folder). */
  card(eid: string, slotId?: string, stateDir?: string): Promise<{ card: SimulatedEuicc; slot: UnitSlot }>;
  close(): void;
}

export async function miniFactory(o: { chips: number; keys?: number; perEuicc?: number; curve?: CurveName; profileBytes?: number }): Promise<MiniFactory> {
  const dir = mkdtempSync(join(tmpdir(), 'ifpp-mini-'));
  const curve = o.curve ?? 'nist';
  const world = createEumWorld({ euiccs: o.chips, otks: o.keys ?? 2, curve });
  const eum = writeEumWorld(world, join(dir, 'eum'));
  const batch = await bindBatch({
    euiccData: eum.euiccData,
    profile: loadProfileSource(`synthetic:${o.profileBytes ?? 3000}`),
    dp: loadSmdpfIdentity(defaultIdentityPaths(eum.euiccData)),
    out: join(dir, 'batch'),
    perEuicc: o.perEuicc ?? 2,
    iccidStart: '894944999999999001',
  });
  const storeDir = join(dir, 'store');
  const store = BppStore.open(storeDir);
  await importBatch(store, batch.dir, { checks: bppChecks });
  await importEuiccData(storeDir, eum.euiccData, 'lot-1');
  const euicc = EuiccStore.open(storeDir);
  const eids = Array.from({ length: o.chips }, (_, i) => world.eidAt(i));
  const stateDir = join(dir, 'chips');
  return {
    dir,
    reel: eum.reel,
    euiccData: eum.euiccData,
    eids,
    store,
    euicc,
    batchDir: batch.dir,
    async card(eid, slotId = 'S1', chipsDir = stateDir) {
      const card = await euiccCardFromReel({ reel: eum.reel, eid, stateDir: chipsDir }, 0);
      const link = { exchange: async (t: Uint8Array) => (await card.transmitTpdu(t)).response };
      const slot: UnitSlot = {
        id: slotId,
        async activate() {
          return { atr: card.atr('cold'), fi: 372, di: 1 };
        },
        apdu: new T0ApduChannel(link),
        async powerOff() {
          card.powerOff();
        },
      };
      return { card, slot };
    },
    close() {
      store.close();
      euicc.close();
    },
  };
}
