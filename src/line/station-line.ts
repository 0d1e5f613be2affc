/**
 * A station on a line: its PostgreSQL inventory plus what keeps it in step with the database —
 * the journal outbox (drained every second), the heartbeat (leases), a local copy of the line's
 * eUICC data (CERT.EUICC lookups stay local and work offline), and, at start, claims this
 * station holds that its journal never names (it stopped between the claim and bpp.chosen):
 * nothing was sent for those, so they are given back, audited. Started while the database is
 * unreachable, it runs from its saved copy of its assigned BPPs and does the database's part
 * of the start when the database first answers.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InventoryConfig } from '../station/config/schema.ts';
import { importEuiccData } from '../station/euicc-data/euicc-store.ts';
import type { Inventory } from '../station/inventory/inventory.ts';
import type { JournalRecord } from '../station/journal/journal.ts';
import { dbError, isUnreachable, type Db } from './db.ts';
import { JournalOutbox } from './outbox.ts';
import { PgInventory } from './pg-inventory.ts';

export interface LineStationContext {
  storeDir: string;
  journalPath: string;
  existing: readonly JournalRecord[];
  /** Outbox period (default 1000 ms). */
  outboxMs?: number;
}

export async function openLineInventory(cfg: Extract<InventoryConfig, { kind: 'postgres' }>, ctx: LineStationContext): Promise<Inventory> {
  const inv = await PgInventory.open({
    url: cfg.url,
    stationId: cfg.stationId,
    leaseSeconds: cfg.leaseSeconds,
    heartbeatSeconds: cfg.heartbeatSeconds,
    cacheDir: join(ctx.storeDir, 'line-assigned'),
    offlineStart: true,
  });
  // eUICC data the line holds and the store lacks: at start (or when the database first
  // answers), then at every heartbeat (a lot imported mid-shift), one copy at a time.
  let started = false;
  let copying: Promise<void> = Promise.resolve();
  const copyNew = () =>
    (copying = copying
      .catch(() => undefined)
      .then(async () => {
        for (const c of await copyEuiccData(inv.database, cfg.url, ctx.storeDir)) {
          if (started) inv.notice({ code: 'LINE_EUICC_DATA', message: `copied eUICC data "${c.name}" (${c.count} chips) from the line database: its chips can be loaded` });
        }
      }));
  try {
    inv.noteJournaled(ctx.existing.flatMap((r) => (r.type === 'bpp.chosen' && typeof r.batchId === 'string' && typeof r.position === 'number' ? [`${r.batchId}/${r.position}`] : [])));
    const units = new Set(ctx.existing.flatMap((r) => (typeof r.unit === 'string' ? [r.unit] : [])));
    // Now, or (started without the database) when it first answers; claims of this run are never orphans.
    await inv.whenOnline(async () => {
      await copyNew();
      await inv.releaseOrphans(new Set([...units, ...inv.unitsThisRun]));
    });
    let told = '';
    inv.onHeartbeat(async () => {
      try {
        await copyNew();
      } catch (e) {
        // The database going away is the heartbeat's to report; a copy that fails is the operator's to know (once).
        if (isUnreachable(e)) throw e;
        const message = `could not copy the line's eUICC data into this station's store: ${(e as Error).message}`;
        if (message !== told) inv.notice({ code: 'LINE_EUICC_DATA_FAILED', message });
        told = message;
      }
    });
    started = true;
  } catch (e) {
    await inv.close();
    throw e;
  }
  const outbox = new JournalOutbox(inv.database, cfg.url, cfg.stationId, ctx.journalPath, cfg.leaseSeconds);
  await outbox.drain().catch(() => undefined); // the database may be away: the timer retries
  outbox.start(ctx.outboxMs ?? 1000);
  inv.onClose(async () => {
    await outbox.stop();
    await outbox.drain().catch(() => undefined);
  });
  return inv;
}

/** eUICC data sets the line holds that the station's store lacks, imported with the local importer; returns those copied. */
async function copyEuiccData(db: Db, url: string, storeDir: string): Promise<{ name: string; count: number }[]> {
  let sets: { name: string; info: Record<string, unknown> }[];
  try {
    sets = (await db.query<{ name: string; info: Record<string, unknown> }>('SELECT name, info FROM ifpp.euicc_sets ORDER BY name')).rows;
  } catch (e) {
    throw dbError(e, url);
  }
  const copied: { name: string; count: number }[] = [];
  for (const s of sets) {
    if (existsSync(join(storeDir, 'euicc', s.name))) continue;
    const work = mkdtempSync(join(tmpdir(), 'ifpp-line-euicc-copy-'));
    try {
      const rows = (await db.query<{ eid: Buffer; cert_euicc: Buffer }>('SELECT eid, cert_euicc FROM ifpp.euicc_certs WHERE set_name = $1 ORDER BY eid', [s.name])).rows;
      const { eum, curve, eumCertificate, ciCertificate } = s.info;
      const lines = [JSON.stringify({ format: 'ifpp-euicc-data/1', eum, curve, eumCertificate, ciCertificate, count: rows.length })];
      for (const r of rows) lines.push(JSON.stringify({ eid: r.eid.toString('hex'), certEuicc: r.cert_euicc.toString('base64') }));
      const file = join(work, `${s.name}.ndjson`);
      writeFileSync(file, lines.join('\n') + '\n');
      await importEuiccData(storeDir, file, s.name);
      copied.push({ name: s.name, count: rows.length });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return copied;
}
