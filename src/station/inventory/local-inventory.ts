/**
 * The single station's inventory: its embedded local store, with the behaviour it always had.
 * claim() only picks (nothing is written); the state byte goes in flight in inFlight(), after
 * the journal's bpp.chosen, so restart reconciliation from the journal alone stays complete.
 * One station owns every BPP here, so no attempt of another station can be unsettled.
 */
import { bytesEqual } from '../../core/bytes.ts';
import { BppState, StoreError, type BppStore, type StoredBpp } from '../store/bpp-store.ts';
import { chipTrustsBatch } from '../store/batch-trust.ts';
import type { BatchManifest } from '../../core/formats/batch-manifest.ts';
import type { BppRef, ClaimRequest, ClaimResult, Inventory, InventoryBpp } from './inventory.ts';

export class LocalInventory implements Inventory {
  readonly kind = 'local' as const;

  constructor(readonly store: BppStore) {}

  async findByEid(eid: Uint8Array): Promise<InventoryBpp[]> {
    return this.store.findByEid(eid);
  }

  async claim(req: ClaimRequest): Promise<ClaimResult> {
    const loadable = this.store.loadable(req.eid, req.unusedOtpks).filter((b) => !req.excluded.has(`${b.batchId}/${b.position}`));
    // Prefer a batch whose CI the chip lists in EUICCInfo2; if none is listed, let the chip decide
    // (PrepareFactoryLoad refuses an untrusted CERT.DPpb before any key is touched).
    const bpp = loadable.find((c) => chipTrustsBatch(this.store, c.batchId, req.trustedCis)) ?? loadable[0];
    return bpp ? { kind: 'claimed', bpp } : { kind: 'none' };
  }

  inFlight(b: InventoryBpp): Promise<void> {
    return this.store.setStateDurable(b, BppState.inFlight);
  }

  async readBpp(b: InventoryBpp): Promise<Uint8Array> {
    const stored = 'fileNo' in b ? (b as StoredBpp) : this.store.findByEid(b.eid).find((x) => x.batchId === b.batchId && x.position === b.position && bytesEqual(x.otpk, b.otpk));
    if (!stored) throw new StoreError('STORE_UNKNOWN_BPP', `BPP ${b.batchId}#${b.position} is not in the store ${this.store.dir}`);
    return this.store.readBpp(stored);
  }

  manifest(batchId: string): BatchManifest {
    return this.store.manifest(batchId);
  }

  async stateOf(b: BppRef): Promise<BppState | undefined> {
    return this.store.batchIds().includes(b.batchId) ? this.store.stateAt(b.batchId, b.position) : undefined;
  }

  settle(b: BppRef, state: BppState): Promise<void> {
    return this.store.setStateDurable(b, state);
  }

  /** One station: its own journal names the attempt, so only the state is checked. */
  async settleRecovered(b: BppRef): Promise<boolean> {
    const s = await this.stateOf(b);
    if (s !== BppState.inFlight && s !== BppState.failedKeyBurnt) return false;
    await this.store.setStateDurable(b, BppState.installed);
    return true;
  }

  async settleMoved(): Promise<'already-settled'> {
    return 'already-settled';
  }

  counts(): Map<string, Record<BppState, number>> {
    return this.store.counts();
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
