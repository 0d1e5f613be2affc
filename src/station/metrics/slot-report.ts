/**
 * The per-slot section of `ifpp report` and the table of `ifpp slots`: each slot's figures over
 * the whole journal, its bridge, its contact cycles against its limit, and the recent-yield
 * flag. Rows for every slot the config names (a slot with no unit yet shows zeros) and for any
 * slot the journal names that the config no longer has.
 */
import { existsSync } from 'node:fs';
import type { StationConfig } from '../config/schema.ts';
import { DEFAULTS } from '../config/schema.ts';
import type { UnitAccount } from '../report/accounting.ts';
import { writeCsv, type CsvValue } from '../report/csv.ts';
import { RecentYield } from './recent-yield.ts';
import { SlotStatsTable, isJudged, unitsFromAccounts, type SlotFigures } from './slot-stats.ts';
import { WearLedger, wearPath } from './wear-ledger.ts';
import { slotWear, type WearStatus } from './wear-policy.ts';
import { OUTCOME_CODES } from '../report/accounting.ts';

export type SlotReportConfig = Pick<StationConfig, 'journal'> & Partial<Pick<StationConfig, 'slots' | 'kind' | 'maintenance' | 'metrics'>>;

export interface SlotReportRow extends SlotFigures {
  slot: string;
  bridge: string | null;
  /** In the config (false: only the journal names it). */
  configured: boolean;
  cycles: number | null;
  cycleLimit: number | null;
  service: WearStatus | null;
  recentYield: number | null;
  yieldFlag: string | null;
}

export interface SlotReport {
  slots: SlotReportRow[];
  bridges: Array<SlotFigures & { bridge: string }>;
  total: SlotFigures;
}

export function slotReport(config: SlotReportConfig, accounts: Iterable<UnitAccount>): SlotReport {
  const units = unitsFromAccounts(accounts);
  const table = new SlotStatsTable(units);
  const recent = new RecentYield(config.metrics?.recentYield ?? DEFAULTS.metrics.recentYield);
  for (const u of units) if (isJudged(u.outcome)) recent.add(u.slot, u.passFirstTime);
  const flags = new Map(recent.flags().map((f) => [f.slot, f.message]));
  const ledgerFile = wearPath(config);
  const ledger = existsSync(ledgerFile) ? WearLedger.open(ledgerFile) : undefined;
  const cfgSlots = config.slots ?? [];
  const ids = [...cfgSlots.map((s) => s.id), ...table.slots().filter((id) => !cfgSlots.some((s) => s.id === id)).sort()];
  const slots = ids.map((id): SlotReportRow => {
    const cfg = cfgSlots.find((s) => s.id === id);
    const wear = cfg && config.kind ? slotWear({ kind: config.kind, ...(config.maintenance ? { maintenance: config.maintenance } : {}) }, cfg, ledger?.cycles(id) ?? 0) : undefined;
    return {
      slot: id,
      bridge: cfg?.bridge ?? null,
      configured: cfg !== undefined,
      ...table.get(id),
      cycles: wear?.cycles ?? (ledger ? ledger.cycles(id) : null),
      cycleLimit: wear?.limit ?? null,
      service: wear?.status ?? null,
      recentYield: recent.yieldOf(id)?.yield ?? null,
      yieldFlag: flags.get(id) ?? null,
    };
  });
  const bridgeOf = (id: string) => cfgSlots.find((s) => s.id === id)?.bridge;
  const bridges = [...table.byBridge(bridgeOf)].map(([bridge, f]) => ({ bridge, ...f })).sort((a, b) => a.bridge.localeCompare(b.bridge));
  return { slots, bridges, total: table.total() };
}

const pct = (x: number | null): string => (x === null ? '—' : `${(Math.round(x * 1000) / 10).toFixed(1)}%`);

function topCodes(codes: Record<string, number>, n = 3): string {
  return Object.entries(codes)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([c, k]) => `${c}×${k}`)
    .join(' ');
}

/** The per-slot table as text lines (ifpp report, ifpp slots). */
export function slotTableLines(r: SlotReport): string[] {
  const head = ['slot', 'bridge', 'units', 'judged', 'FPY', 'recent', 'installed', 'failed', 'intr', 'cycles', 'service', 'top failure codes'];
  const rows = r.slots.map((s) => [
    s.slot,
    s.bridge ?? '?',
    String(s.units),
    String(s.judged),
    pct(s.fpy),
    pct(s.recentYield),
    String(s.installed),
    String(s.judged - s.installed),
    String(s.byOutcome.interrupted ?? 0),
    s.cycles === null ? '—' : s.cycleLimit === null ? String(s.cycles) : `${s.cycles}/${s.cycleLimit}`,
    (s.service ?? '—') + (s.yieldFlag ? ' LOW-YIELD' : ''),
    topCodes(s.codes),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [fmt(head), ...rows.map(fmt)];
  for (const b of r.bridges) out.push(`bridge ${b.bridge}: ${b.units} units, FPY ${pct(b.fpy)}${Object.keys(b.codes).length ? `, top failures ${topCodes(b.codes)}` : ''}`);
  for (const s of r.slots) if (s.yieldFlag) out.push(`flag: ${s.yieldFlag}`);
  return out;
}

export const SLOT_CSV_COLUMNS = [
  'slot',
  'bridge',
  'configured',
  'units',
  'judged',
  'installed',
  'passFirstTime',
  'fpy',
  'recentYield',
  'yieldFlag',
  ...OUTCOME_CODES.map((o) => `outcome.${o}`),
  'failureCodes',
  'meanInstallMillis',
  'cycles',
  'cycleLimit',
  'service',
] as const;

export function slotCsvValues(s: SlotReportRow): CsvValue[] {
  return [
    s.slot,
    s.bridge,
    s.configured,
    s.units,
    s.judged,
    s.installed,
    s.passFirstTime,
    s.fpy === null ? null : s.fpy.toFixed(4),
    s.recentYield === null ? null : s.recentYield.toFixed(4),
    s.yieldFlag,
    ...OUTCOME_CODES.map((o) => s.byOutcome[o] ?? 0),
    Object.entries(s.codes)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([c, n]) => `${c}:${n}`)
      .join(' '),
    s.meanInstallMillis === null ? null : Math.round(s.meanInstallMillis),
    s.cycles,
    s.cycleLimit,
    s.service,
  ];
}

/** Writes `<dir>/<base>.csv`, one row per slot (docs/report-format.md). */
export function writeSlotCsv(dir: string, base: string, r: SlotReport): Promise<{ path: string; rows: number }> {
  return writeCsv(dir, base, SLOT_CSV_COLUMNS, r.slots, slotCsvValues);
}
