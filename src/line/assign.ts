/**
 * `ifpp line assign`: pre-assigns the BPPs of a list of chips to one station, so that station
 * can load them while the database is unreachable (docs/line-guide.md, "Offline operation").
 * Only loadable, unclaimed BPPs are assigned; a BPP assigned to another station stays so.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { eidToBytes, isValidEid } from '../core/rsp/eid.ts';
import { dbError, inTransaction, type Db } from './db.ts';
import { LineError } from './errors.ts';

export interface EidList {
  eids: string[];
  skipped: { line: number; reason: string }[];
}

/**
 * EIDs from a reel file (NDJSON; only each line's `eid` is read, the header line is skipped) or
 * a plain list (one EID per line; `#` starts a comment).
 */
export async function readEidList(file: string): Promise<EidList> {
  const eids: string[] = [];
  const skipped: EidList['skipped'] = [];
  let line = 0;
  let rl;
  try {
    rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const raw of rl) {
      line++;
      const text = raw.replace(/#.*/, '').trim();
      if (!text) continue;
      let eid: unknown = text;
      if (text.startsWith('{')) {
        let obj: Record<string, unknown>;
        try {
          obj = JSON.parse(text) as Record<string, unknown>;
        } catch {
          skipped.push({ line, reason: 'not valid JSON' });
          continue;
        }
        if ('format' in obj) continue; // the file's header
        eid = obj.eid;
      }
      if (typeof eid !== 'string' || !isValidEid(eid)) skipped.push({ line, reason: 'not an EID (32 digits with valid check digits)' });
      else eids.push(eid);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LineError('LINE_EID_LIST_UNREADABLE', `cannot read the EID list ${file} (${code ?? (e as Error).message})`, { hint: 'give a reel file or a text file with one EID per line' });
  }
  return { eids, skipped };
}

export interface AssignResult {
  station: string;
  chips: number;
  /** BPPs now assigned to the station (newly or already). */
  assigned: number;
  /** Chips with a loadable BPP that is assigned to another station (left as they are). */
  elsewhere: string[];
  /** Chips with no loadable BPP in the inventory. */
  noBpp: string[];
}

export function checkStationId(id: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new LineError('LINE_BAD_STATION_ID', `"${id}" is not a usable station id (1-64 letters, digits, . _ -)`);
  return id;
}

export async function assignChips(db: Db, url: string, station: string, eids: readonly string[]): Promise<AssignResult> {
  checkStationId(station);
  const byHex = new Map([...new Set(eids)].map((e) => [Buffer.from(eidToBytes(e)).toString('hex'), e]));
  const keys = [...byHex.keys()].map((h) => Buffer.from(h, 'hex'));
  try {
    return await inTransaction(db, async (c) => {
      // Loadable = available (0) or failed before the secure channel (4), and not claimed.
      await c.query(
        `UPDATE ifpp.bpps SET assigned_station = $1, updated_at = now()
          WHERE eid = ANY($2::bytea[]) AND state IN (0, 4) AND claim_unit IS NULL AND assigned_station IS NULL`,
        [station, keys],
      );
      const r = await c.query<{ eid: Buffer; mine: string; other: string }>(
        `SELECT eid, count(*) FILTER (WHERE assigned_station = $1) AS mine, count(*) FILTER (WHERE assigned_station <> $1) AS other
           FROM ifpp.bpps WHERE eid = ANY($2::bytea[]) AND state IN (0, 4) GROUP BY eid`,
        [station, keys],
      );
      const seen = new Map(r.rows.map((x) => [x.eid.toString('hex'), x]));
      const res: AssignResult = { station, chips: keys.length, assigned: 0, elsewhere: [], noBpp: [] };
      for (const k of keys) {
        const row = seen.get(k.toString('hex'));
        const eid = byHex.get(k.toString('hex'))!;
        if (!row) res.noBpp.push(eid);
        else {
          res.assigned += Number(row.mine);
          if (Number(row.mine) === 0 && Number(row.other) > 0) res.elsewhere.push(eid);
        }
      }
      return res;
    });
  } catch (e) {
    throw dbError(e, url);
  }
}
