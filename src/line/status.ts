/**
 * `ifpp line status`: what the line's database says now — stations with their heartbeat age
 * and outbox lag, in-flight BPPs with their leases (an expired lease is shown as stale, never
 * released), and stock per batch by state.
 */
import { eidFromBytes } from '../core/rsp/eid.ts';
import { BPP_STATE_NAMES, BppState } from '../station/store/bpp-store.ts';
import { dbError, type Db } from './db.ts';

export interface StationStatus {
  station: string;
  heartbeatAgeSeconds: number;
  /** Journal records the station wrote that the database has not received yet. */
  outboxLag: number;
  journalSeq: number;
  inFlight: number;
  staleLeases: number;
  assignedLoadable: number;
}

export interface InFlightBpp {
  bpp: string;
  batchId: string;
  position: number;
  eid: string;
  station: string | null;
  unit: string | null;
  claimedAt: string | null;
  leaseUntil: string | null;
  stale: boolean;
}

export interface BatchStock {
  batchId: string;
  smdpf: string;
  total: number;
  byState: Record<string, number>;
}

export interface LineStatus {
  at: string;
  schemaVersion: number;
  stations: StationStatus[];
  inFlight: InFlightBpp[];
  batches: BatchStock[];
}

export async function lineStatus(db: Db, url: string): Promise<LineStatus> {
  try {
    const [ver, now, st, fl, stock] = await Promise.all([
      db.query<{ v: number }>('SELECT max(version) AS v FROM ifpp.migrations'),
      db.query<{ now: Date }>('SELECT now() AS now'),
      db.query<{ station_id: string; age: number; journal_seq: string; journal_head: string; in_flight: string; stale: string; assigned: string }>(
        `SELECT s.station_id, extract(epoch FROM now() - s.seen_at)::float8 AS age, s.journal_seq, s.journal_head,
                (SELECT count(*) FROM ifpp.bpps b WHERE b.state = 1 AND b.claim_station = s.station_id) AS in_flight,
                (SELECT count(*) FROM ifpp.bpps b WHERE b.state = 1 AND b.claim_station = s.station_id AND b.lease_until < now()) AS stale,
                (SELECT count(*) FROM ifpp.bpps b WHERE b.state IN (0, 4) AND b.assigned_station = s.station_id) AS assigned
           FROM ifpp.stations s ORDER BY s.station_id`,
      ),
      db.query<{ batch_id: string; position: number; eid: Buffer; claim_station: string | null; claim_unit: string | null; claimed_at: Date | null; lease_until: Date | null; stale: boolean }>(
        `SELECT batch_id, position, eid, claim_station, claim_unit, claimed_at, lease_until, coalesce(lease_until < now(), true) AS stale
           FROM ifpp.bpps WHERE state = 1 ORDER BY claimed_at NULLS FIRST LIMIT 1000`,
      ),
      db.query<{ batch_id: string; smdpf_name: string; state: number; n: string }>(
        `SELECT b.batch_id, b.smdpf_name, p.state, count(*) AS n FROM ifpp.batches b JOIN ifpp.bpps p USING (batch_id)
          GROUP BY b.batch_id, b.smdpf_name, p.state ORDER BY b.batch_id, p.state`,
      ),
    ]);
    const batches = new Map<string, BatchStock>();
    for (const r of stock.rows) {
      let b = batches.get(r.batch_id);
      if (!b) batches.set(r.batch_id, (b = { batchId: r.batch_id, smdpf: r.smdpf_name, total: 0, byState: {} }));
      const name = BPP_STATE_NAMES[r.state as BppState] ?? `state ${r.state}`;
      b.byState[name] = Number(r.n);
      b.total += Number(r.n);
    }
    return {
      at: now.rows[0]!.now.toISOString(),
      schemaVersion: ver.rows[0]?.v ?? 0,
      stations: st.rows.map((r) => ({
        station: r.station_id,
        heartbeatAgeSeconds: Math.max(0, Math.round(r.age)),
        outboxLag: Math.max(0, Number(r.journal_head) - Number(r.journal_seq)),
        journalSeq: Number(r.journal_seq),
        inFlight: Number(r.in_flight),
        staleLeases: Number(r.stale),
        assignedLoadable: Number(r.assigned),
      })),
      inFlight: fl.rows.map((r) => ({
        bpp: `${r.batch_id}#${r.position}`,
        batchId: r.batch_id,
        position: r.position,
        eid: eidFromBytes(r.eid, { verify: false }),
        station: r.claim_station,
        unit: r.claim_unit,
        claimedAt: r.claimed_at?.toISOString() ?? null,
        leaseUntil: r.lease_until?.toISOString() ?? null,
        stale: r.stale,
      })),
      batches: [...batches.values()],
    };
  } catch (e) {
    throw dbError(e, url);
  }
}

export function formatStatus(s: LineStatus): string {
  const out: string[] = [`line database (schema ${s.schemaVersion}) at ${s.at}`, ''];
  out.push('stations:');
  if (!s.stations.length) out.push('  none has connected yet');
  for (const st of s.stations) {
    out.push(
      `  ${st.station.padEnd(16)} heartbeat ${String(st.heartbeatAgeSeconds).padStart(5)} s ago  in flight ${st.inFlight}${st.staleLeases ? ` (${st.staleLeases} STALE lease${st.staleLeases === 1 ? '' : 's'})` : ''}  assigned ${st.assignedLoadable}  outbox lag ${st.outboxLag}`,
    );
  }
  out.push('', 'in-flight BPPs:');
  if (!s.inFlight.length) out.push('  none');
  for (const f of s.inFlight) {
    out.push(`  ${f.bpp}  EID ${f.eid}  station ${f.station ?? '-'}  since ${f.claimedAt ?? '-'}  lease ${f.leaseUntil ?? '-'}${f.stale ? '  STALE (never released by expiry: restart the station, or ifpp line release)' : ''}`);
  }
  out.push('', 'stock per batch:');
  if (!s.batches.length) out.push('  no batch imported');
  for (const b of s.batches) {
    out.push(`  ${b.batchId} (${b.smdpf}): ${b.total} BPPs — ${Object.entries(b.byState).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  }
  return out.join('\n');
}
