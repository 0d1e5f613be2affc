/**
 * A line station's copy of the BPPs assigned to it (`ifpp line assign`), so it can keep loading
 * those chips while the database is unreachable (docs/line-guide.md, "Offline operation"). The
 * bytes go to files in the station's store folder, the metadata stays in memory; it is
 * refreshed with every heartbeat. A BPP this station has claimed (its journal names it, or it
 * was claimed in this run) is never offered again.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { bytesEqual, toHex } from '../core/bytes.ts';
import { BppState } from '../station/store/bpp-store.ts';
import type { ClaimRequest, InventoryBpp } from '../station/inventory/inventory.ts';
import type { Db } from './db.ts';

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export class AssignedCache {
  private byEid = new Map<string, InventoryBpp[]>();
  /** "batch/position" of BPPs this station has claimed: never offered again. */
  readonly claimed = new Set<string>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(b: Pick<InventoryBpp, 'batchId' | 'position'>): string {
    return join(this.dir, `${b.batchId.replace(/[^A-Za-z0-9._-]/g, '_')}--${b.position}.bpp`);
  }

  /** Loadable, unclaimed BPPs assigned to `station`; bytes fetched only for those not yet on disk. */
  async refresh(db: Db, station: string): Promise<number> {
    const rows = (
      await db.query<{ batch_id: string; position: number; eid: Buffer; otpk: Buffer; transaction_id: Buffer; iccid: Buffer; state: number }>(
        `SELECT batch_id, position, eid, otpk, transaction_id, iccid, state FROM ifpp.bpps
          WHERE assigned_station = $1 AND state IN (0, 4) AND claim_unit IS NULL AND bpp IS NOT NULL`,
        [station],
      )
    ).rows;
    const next = new Map<string, InventoryBpp[]>();
    for (const r of rows) {
      const b: InventoryBpp = { batchId: r.batch_id, position: r.position, eid: u8(r.eid), otpk: u8(r.otpk), transactionId: u8(r.transaction_id), iccid: u8(r.iccid), state: r.state as BppState };
      const f = this.file(b);
      if (!existsSync(f)) {
        const bytes = (await db.query<{ bpp: Buffer }>('SELECT bpp FROM ifpp.bpps WHERE batch_id = $1 AND position = $2', [b.batchId, b.position])).rows[0]?.bpp;
        if (!bytes) continue;
        writeFileSync(f + '.tmp', bytes);
        renameSync(f + '.tmp', f);
      }
      const key = toHex(b.eid);
      next.set(key, [...(next.get(key) ?? []), b]);
    }
    this.byEid = next;
    return rows.length;
  }

  /** An assigned BPP for this chip, as the online claim would pick it (none when nothing fits). */
  pick(req: ClaimRequest): InventoryBpp | undefined {
    const list = this.byEid.get(toHex(req.eid)) ?? [];
    return list.find((b) => {
      const key = `${b.batchId}/${b.position}`;
      return !this.claimed.has(key) && !req.excluded.has(key) && req.unusedOtpks.some((k) => bytesEqual(k, b.otpk));
    });
  }

  has(b: Pick<InventoryBpp, 'batchId' | 'position'>): boolean {
    return existsSync(this.file(b));
  }

  read(b: Pick<InventoryBpp, 'batchId' | 'position'>): Uint8Array {
    return new Uint8Array(readFileSync(this.file(b)));
  }
}
