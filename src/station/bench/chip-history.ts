/**
 * What the station knows about one EID, for the bench: its CERT.EUICC verdict against the
 * imported eUICC data (chain up to the CI), and every attempt the journal holds for it (which
 * BPP, outcome, when, which station).
 */
import { existsSync } from 'node:fs';
import { isIfppError } from '../../core/errors.ts';
import type { StationConfig } from '../config/schema.ts';
import { EuiccStore } from '../euicc-data/euicc-store.ts';
import { journalPath } from '../journal/paths.ts';
import { scanJournal } from '../journal/scan.ts';
import { EuiccTrust } from '../orchestrator/euicc-trust.ts';

export interface CertificateVerdict {
  readonly verdict: 'ok' | 'unknown-eid' | 'invalid';
  readonly reason?: string;
}

export interface HistoryEntry {
  readonly at: string;
  readonly station: string | undefined;
  readonly unit: string;
  readonly outcome: string;
  readonly batchId?: string;
  readonly position?: number;
  readonly iccid?: string;
  readonly code?: string;
  readonly reason?: string;
  readonly repair?: boolean;
}

export function certificateVerdict(config: StationConfig, eid: string): CertificateVerdict {
  const store = EuiccStore.open(config.store, { readOnly: true });
  try {
    new EuiccTrust(store).certificateFor(eid);
    return { verdict: 'ok' };
  } catch (e) {
    if (!isIfppError(e)) throw e;
    return { verdict: e.code === 'EUICC_UNKNOWN' ? 'unknown-eid' : 'invalid', reason: e.message };
  } finally {
    store.close();
  }
}

export async function chipHistory(config: StationConfig, eid: string): Promise<HistoryEntry[]> {
  const path = journalPath(config);
  if (!existsSync(path)) return [];
  let station: string | undefined;
  const units = new Map<string, { station: string | undefined; iccid?: string }>();
  const repairs = new Set<string>();
  const out: HistoryEntry[] = [];
  await scanJournal(path, (r) => {
    if (r.type === 'station.start') station = String(r.station);
    if (r.type === 'bench.repair') repairs.add(String(r.unit));
    if ((r.type === 'unit.identified' || r.type === 'bpp.chosen') && r.eid === eid) {
      const u = units.get(String(r.unit)) ?? { station };
      if (typeof r.iccid === 'string') u.iccid = r.iccid;
      units.set(String(r.unit), u);
    }
    if ((r.type === 'unit.end' || r.type === 'unit.reconciled') && (r.eid === eid || units.has(String(r.unit)))) {
      const u = units.get(String(r.unit));
      out.push({
        at: r.at,
        station: u?.station ?? station,
        unit: String(r.unit),
        outcome: String(r.outcome),
        ...(typeof r.batchId === 'string' ? { batchId: r.batchId } : {}),
        ...(typeof r.position === 'number' ? { position: r.position } : {}),
        ...(u?.iccid ? { iccid: u.iccid } : {}),
        ...(typeof r.code === 'string' ? { code: r.code } : {}),
        ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
      });
    }
  });
  // bench.repair follows the attempt it marks.
  return out.map((h) => (repairs.has(h.unit.split('#')[0]!) ? { ...h, repair: true } : h));
}
