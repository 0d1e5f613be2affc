/**
 * A chip's history: every attempt the station's journals hold for one EID (when, which station
 * and slot, which BPP, the outcome and code, whether the one-time key was burnt, when it
 * ended, whether the end-of-production finish ran) and every BPP the store holds for it with its state. Built for returned units and
 * the repair bench: one command answers "what happened to this chip?".
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { toHex } from '../../core/bytes.ts';
import { eidToBytes } from '../../core/rsp/eid.ts';
import { scanJournal } from '../journal/scan.ts';
import { keyBurnt, stageOf, UnitAccountant, type UnitStatus } from '../report/accounting.ts';
import { BPP_STATE_NAMES, BppStore } from '../store/bpp-store.ts';
import { WEAR_FILE } from './wear-ledger.ts';

export interface HistoryAttempt {
  /** Station name (from the journal's station.start records), else the journal's path. */
  station: string;
  journal: string;
  unit: string;
  attempt: number | null;
  slot: string | null;
  started: string | null;
  /** When the attempt ended (its unit.end or restart reconciliation); null while open. */
  ended: string | null;
  /** Installed attempts: whether the end-of-production finish (keys deleted, FPA closed) succeeded; null when not tried. */
  finished: boolean | null;
  settledBy: 'end' | 'reconciled' | 'open';
  batchId: string | null;
  position: number | null;
  transactionId: string | null;
  iccid: string | null;
  outcome: UnitStatus;
  stage: string | null;
  code: string | null;
  reason: string | null;
  keyBurnt: boolean | 'unknown';
  pirVerified: boolean | null;
  millis: number | null;
  /** A repair at a bench reader (`ifpp bench reprovision`), not a production load. */
  repair: boolean;
}

export interface HistoryBpp {
  store: string;
  batchId: string;
  position: number;
  transactionId: string;
  state: string;
}

export interface UnitHistory {
  eid: string;
  attempts: HistoryAttempt[];
  bpps: HistoryBpp[];
  journals: string[];
  stores: string[];
}

/** The journal files of a journal folder: the live one and any kept beside it (rotated, copied from other stations). */
export function journalsIn(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => f.endsWith('.ndjson') && f !== WEAR_FILE)
    .sort()
    .map((f) => join(folder, f));
}

export async function unitHistory(eid: string, sources: { journals: string[]; stores: string[] }): Promise<UnitHistory> {
  const attempts: HistoryAttempt[] = [];
  const journals = [...new Set(sources.journals)];
  for (const path of journals) {
    const acc = new UnitAccountant();
    await scanJournal(path, (r) => acc.add(r));
    const result = acc.result();
    const station = result.stations.join(', ') || basename(dirname(path));
    for (const u of result.units) {
      if (u.eid !== eid) continue;
      attempts.push({
        station,
        journal: path,
        unit: u.unit,
        attempt: u.attempt ?? null,
        slot: u.slot ?? null,
        started: u.started ?? u.firstAt,
        ended: u.ended ?? null,
        finished: u.finished ?? null,
        settledBy: u.settledBy,
        batchId: u.batchId ?? null,
        position: u.position ?? null,
        transactionId: u.transactionId ?? null,
        iccid: u.iccid ?? null,
        outcome: u.status,
        stage: u.status === 'installed' ? null : stageOf(u),
        code: u.code ?? null,
        reason: u.reason ?? u.reconciledHow ?? null,
        keyBurnt: keyBurnt(u),
        pirVerified: u.pir ? u.pir.verified : null,
        millis: u.millis ?? null,
        repair: u.repair === true,
      });
    }
  }
  attempts.sort((a, b) => (a.started ?? '').localeCompare(b.started ?? ''));
  const bpps: HistoryBpp[] = [];
  const stores = [...new Set(sources.stores)];
  for (const dir of stores) {
    const store = BppStore.open(dir, { readOnly: true });
    try {
      for (const b of store.findByEid(eidToBytes(eid))) {
        bpps.push({ store: dir, batchId: b.batchId, position: b.position, transactionId: toHex(b.transactionId), state: BPP_STATE_NAMES[b.state] });
      }
    } finally {
      store.close();
    }
  }
  return { eid, attempts, bpps, journals, stores };
}
