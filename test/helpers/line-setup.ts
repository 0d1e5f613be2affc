/**
 * Set-up shared by the line tests that run stations: a fresh line database with a factory's
 * batch and eUICC data imported, and a socket-programmer station config on that database.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/line/db.ts';
import { migrate } from '../../src/line/schema.ts';
import { importBatchToLine, importEuiccDataToLine } from '../../src/line/import.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import type { StationConfig } from '../../src/station/config/schema.ts';
import type { MiniFactory } from './mini-factory.ts';
import type { PgCluster } from './pg-cluster.ts';

/** A fresh line database with the batch and the eUICC data (default: the factory's) imported. The caller ends `db`. */
export async function freshLine(pg: PgCluster, f: MiniFactory, euiccData = f.euiccData): Promise<{ url: string; db: Db; batchId: string }> {
  const url = await pg.freshDb();
  const db = openDb(url);
  await migrate(db, url);
  const { batchId } = await importBatchToLine(db, url, f.batchDir, { checks: bppChecks });
  await importEuiccDataToLine(db, url, euiccData, 'lot-1');
  return { url, db, batchId };
}

/** Writes `dir/station.json`: a socket programmer named `name` with `slots` sockets on bridge port `bridge0`, inventory on the line at `url`. */
export async function lineStationConfig(dir: string, name: string, url: string, slots: number, extra: object = {}): Promise<StationConfig> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'station.json'),
    JSON.stringify({
      name,
      kind: 'socket-programmer',
      store: 'store',
      journal: 'journal',
      reports: 'reports',
      bridges: [{ id: 'b0', port: 'bridge0', slots }],
      slots: Array.from({ length: slots }, (_, i) => ({ id: `S${i + 1}`, bridge: 'b0', channel: i, row: 1, col: i + 1 })),
      inventory: { kind: 'postgres', url, stationId: name, heartbeatSeconds: 1, leaseSeconds: 60 },
      ...extra,
    }),
  );
  return requireConfig(join(dir, 'station.json'));
}
