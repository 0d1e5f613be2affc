/**
 * A line station's copy of the BPPs assigned to it (`ifpp line assign`), so it can keep loading
 * those chips while the database is unreachable (docs/line-guide.md, "Offline operation"),
 * also when it is started while the database is away. The bytes go to files in the station's
 * store folder; the metadata and the batch manifests go to `index.json` beside them (written
 * whole, then renamed, at every refresh: the heartbeat's). A BPP this station has claimed (its
 * journal names it, or it was claimed in this run) is never offered again.
 */
import { existsSync, fsyncSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesEqual, fromHex, toHex } from '../core/bytes.ts';
import type { BatchManifest } from '../core/formats/batch-manifest.ts';
import { BppState } from '../station/store/bpp-store.ts';
import type { ClaimRequest, InventoryBpp } from '../station/inventory/inventory.ts';
import type { Db } from './db.ts';

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const INDEX = 'index.json';
const INDEX_FORMAT = 'ifpp-line-assigned/1';

interface SavedBpp {
  batchId: string;
  position: number;
  eid: string;
  otpk: string;
  transactionId: string;
  iccid: string;
  state: number;
}

interface SavedIndex {
  format: typeof INDEX_FORMAT;
  station: string;
  savedAt: string;
  manifests: Record<string, BatchManifest>;
  bpps: SavedBpp[];
}

/** What a saved copy holds (an offline start reads it). */
export interface SavedCopy {
  savedAt: string;
  manifests: Map<string, BatchManifest>;
  count: number;
  chips: number;
}

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

  /**
   * Loadable, unclaimed BPPs assigned to `station`; bytes fetched only for those not yet on
   * disk. The metadata and `manifests` are saved for a start without the database.
   */
  async refresh(db: Db, station: string, manifests: ReadonlyMap<string, BatchManifest>): Promise<number> {
    const rows = (
      await db.query<{ batch_id: string; position: number; eid: Buffer; otpk: Buffer; transaction_id: Buffer; iccid: Buffer; state: number }>(
        `SELECT batch_id, position, eid, otpk, transaction_id, iccid, state FROM ifpp.bpps
          WHERE assigned_station = $1 AND state IN (0, 4) AND claim_unit IS NULL AND bpp IS NOT NULL`,
        [station],
      )
    ).rows;
    const list: InventoryBpp[] = [];
    for (const r of rows) {
      const b: InventoryBpp = { batchId: r.batch_id, position: r.position, eid: u8(r.eid), otpk: u8(r.otpk), transactionId: u8(r.transaction_id), iccid: u8(r.iccid), state: r.state as BppState };
      const f = this.file(b);
      if (!existsSync(f)) {
        const bytes = (await db.query<{ bpp: Buffer }>('SELECT bpp FROM ifpp.bpps WHERE batch_id = $1 AND position = $2', [b.batchId, b.position])).rows[0]?.bpp;
        if (!bytes) continue;
        writeFileSync(f + '.tmp', bytes);
        renameSync(f + '.tmp', f);
      }
      list.push(b);
    }
    this.index(list);
    const used = new Set(list.map((b) => b.batchId));
    const saved: SavedIndex = {
      format: INDEX_FORMAT,
      station,
      savedAt: new Date().toISOString(),
      manifests: Object.fromEntries([...manifests].filter(([id]) => used.has(id))),
      bpps: list.map((b) => ({ batchId: b.batchId, position: b.position, eid: toHex(b.eid), otpk: toHex(b.otpk), transactionId: toHex(b.transactionId), iccid: toHex(b.iccid), state: b.state })),
    };
    writeDurably(join(this.dir, INDEX), Buffer.from(JSON.stringify(saved)));
    return list.length;
  }

  /** The copy saved by the last refresh (any earlier run), or undefined when there is none. */
  load(station: string): SavedCopy | undefined {
    let saved: SavedIndex;
    try {
      saved = JSON.parse(readFileSync(join(this.dir, INDEX), 'utf8')) as SavedIndex;
    } catch {
      return undefined;
    }
    if (saved?.format !== INDEX_FORMAT || saved.station !== station || !Array.isArray(saved.bpps)) return undefined;
    const list = saved.bpps
      .map((b): InventoryBpp => ({ batchId: b.batchId, position: b.position, eid: fromHex(b.eid), otpk: fromHex(b.otpk), transactionId: fromHex(b.transactionId), iccid: fromHex(b.iccid), state: b.state as BppState }))
      .filter((b) => existsSync(this.file(b)));
    this.index(list);
    return { savedAt: saved.savedAt, manifests: new Map(Object.entries(saved.manifests ?? {})), count: list.length, chips: this.byEid.size };
  }

  private index(list: InventoryBpp[]): void {
    const next = new Map<string, InventoryBpp[]>();
    for (const b of list) {
      const key = toHex(b.eid);
      next.set(key, [...(next.get(key) ?? []), b]);
    }
    this.byEid = next;
  }

  /** Assigned BPPs not yet claimed by this station. */
  get size(): number {
    let n = 0;
    for (const l of this.byEid.values()) n += l.filter((b) => !this.claimed.has(`${b.batchId}/${b.position}`)).length;
    return n;
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

/** The index: written to a temporary name, synced, then renamed (a crash leaves the old one or the new one). */
function writeDurably(path: string, bytes: Uint8Array): void {
  writeFileSync(path + '.tmp', bytes);
  const fd = openSync(path + '.tmp', 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(path + '.tmp', path);
}
