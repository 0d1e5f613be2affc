/**
 * Station name, config and phase; unit counters (pass, fail, interrupted and skipped apart),
 * first-pass yield, throughput and uptime; BPP stock per batch; then one or two warning lines
 * (low stock, disconnected bridges, station warnings).
 */
import { Box } from 'ink';
import type { UiWarning, ViewModel } from '../state/view-model.ts';
import { busySlotIds, firstPassYield, stockLeft, throughputPerHour, uptimeMs } from '../state/view-model.ts';
import { PHASE_COLOR, PHASE_WORD, STATE_LOOK, fitHead, formatUptime } from '../format.ts';
import type { UiColor } from '../format.ts';
import { Line } from './theme.tsx';
import type { Segment } from './theme.tsx';

export const HEADER_BASE_LINES = 3;

/** Warning lines the header may use: one on a small terminal, so 8 full cells still fit 80x24. */
export function maxWarningLines(rows: number): number {
  return rows >= 30 ? 2 : 1;
}

export function headerHeight(warnings: readonly UiWarning[], maxWarnings: number): number {
  return HEADER_BASE_LINES + Math.min(maxWarnings, warnings.length);
}

export interface HeaderProps {
  model: ViewModel;
  now: number;
  width: number;
  warnings: readonly UiWarning[];
  /** At most this many warning lines; the last one says how many more there are. */
  maxWarnings: number;
}

export function Header({ model, now, width, warnings, maxWarnings }: HeaderProps) {
  return (
    <Box flexDirection="column" width={width}>
      <Line segments={titleLine(model, now, width)} />
      <Line segments={counterLine(model, now, width)} />
      <Line segments={stockLine(model, width)} />
      {warningLines(warnings, width, maxWarnings).map((segs, i) => (
        <Line key={i} segments={segs} />
      ))}
    </Box>
  );
}

function titleLine(m: ViewModel, now: number, width: number): Segment[] {
  const up = uptimeMs(m, now);
  const phase = m.phase === null ? 'NOT STARTED' : PHASE_WORD[m.phase];
  const right = `${phase}${up === null ? '' : `  up ${formatUptime(up)}`}`;
  const leftText = m.station ? `IFPP ${m.station.name} · ${m.station.config}` : 'IFPP station · waiting for the station';
  const left = fitHead(leftText, Math.max(1, width - right.length - 1));
  return [
    { text: left, bold: true },
    { text: ' '.repeat(Math.max(1, width - left.length - right.length)) },
    { text: phase, bold: true, color: m.phase === null ? 'gray' : PHASE_COLOR[m.phase] },
    { text: right.slice(phase.length), dim: true },
  ];
}

interface Counter {
  /** Label with its trailing space, e.g. '✓ Pass '. */
  label: string;
  /** The label when space is short: the symbol alone for unit outcomes (never colour alone), or a word. */
  short: string;
  value: string;
  color?: UiColor;
  /**
   * While its value is 0: 'when-short' leaves it out when space is short, 'always' leaves it out
   * whatever the width (a counter most stations never use).
   */
  hideWhenZero?: 'when-short' | 'always';
  zero?: boolean;
}

interface CounterForm {
  gap: string;
  short: boolean;
  hideZeros: boolean;
}

/** Richest first; the first that fits the width is drawn (the last one is cut if none fits). */
const COUNTER_FORMS: readonly CounterForm[] = [
  { gap: '  ', short: false, hideZeros: false },
  { gap: '  ', short: false, hideZeros: true },
  { gap: ' ', short: false, hideZeros: true },
  { gap: ' ', short: true, hideZeros: true },
];

/**
 * Done = pass + fail + interrupted + skipped. Interrupted units (abort, e-stop, guard…) and
 * skipped ones (chips not for this station) are counted apart, not as failures, and FPY = units
 * passed at their first attempt / units that ended pass or fail. The skipped counter shows only
 * once a chip was skipped. Exported for tests.
 */
export function counterLine(m: ViewModel, now: number, width: number): Segment[] {
  const c = m.counters;
  const fpy = firstPassYield(m);
  const rate = throughputPerHour(m, now);
  const busy = busySlotIds(m).length;
  const pass = STATE_LOOK.pass;
  const fail = STATE_LOOK.fail;
  const intr = STATE_LOOK.interrupted;
  const skip = STATE_LOOK.skipped;
  const items: Counter[] = [
    { label: 'Done ', short: 'Done ', value: String(c.done) },
    { label: `${pass.symbol} Pass `, short: pass.symbol, value: String(c.pass), color: pass.color },
    { label: `${fail.symbol} Fail `, short: fail.symbol, value: String(c.fail), color: fail.color },
    { label: `${intr.symbol} Intr `, short: intr.symbol, value: String(c.interrupted), color: intr.color, hideWhenZero: 'when-short', zero: c.interrupted === 0 },
    // Short form 'Skip ', not the dash alone: '–3' would read as minus three.
    { label: `${skip.symbol} Skip `, short: 'Skip ', value: String(c.skipped), color: skip.color, hideWhenZero: 'always', zero: c.skipped === 0 },
    { label: 'FPY ', short: 'FPY ', value: fpy === null ? '—' : `${(fpy * 100).toFixed(1)}%` },
    { label: 'Rate ', short: 'Rate ', value: rate === null ? '—' : `${Math.round(rate)}/h` },
    { label: 'Busy ', short: 'Busy ', value: `${busy}/${m.slotOrder.length}` },
  ];
  let segs: Segment[] = [];
  for (const form of COUNTER_FORMS) {
    segs = counterSegments(items, form);
    if (segs.reduce((n, x) => n + x.text.length, 0) <= width) break;
  }
  return segs;
}

function counterSegments(items: readonly Counter[], form: CounterForm): Segment[] {
  const out: Segment[] = [];
  for (const it of items) {
    if (it.zero && (it.hideWhenZero === 'always' || (form.hideZeros && it.hideWhenZero === 'when-short'))) continue;
    if (out.length > 0) out.push({ text: form.gap });
    out.push(it.color ? { text: form.short ? it.short : it.label, color: it.color } : { text: form.short ? it.short : it.label, dim: true });
    out.push({ text: it.value, bold: true });
  }
  return out;
}

function stockLine(m: ViewModel, width: number): Segment[] {
  const left = stockLeft(m);
  if (left === null || m.stock === null) return [{ text: 'BPPs left —', dim: true }];
  const batches = m.stock.map((b) => `${b.batchId} ${b.available}/${b.total}`).join(' · ');
  const head = `BPPs left ${left}`;
  const low = left <= m.options.lowStockThreshold;
  return [
    { text: head, bold: true, color: left === 0 ? 'red' : low ? 'yellow' : undefined },
    { text: fitHead(batches ? `  (${batches})` : '', Math.max(0, width - head.length)), dim: true },
  ];
}

function warningLines(warnings: readonly UiWarning[], width: number, max: number): Segment[][] {
  const shown = warnings.slice(0, Math.max(0, max));
  const extra = warnings.length - shown.length;
  return shown.map((w, i) => {
    const more = i === shown.length - 1 && extra > 0 ? ` (+${extra} more)` : '';
    const text = fitHead(`▲ ${w.text}`, Math.max(1, width - more.length)) + more;
    return [{ text, bold: true, color: w.level === 'error' ? 'red' : 'yellow' }];
  });
}
