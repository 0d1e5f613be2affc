/**
 * The summary view (y): one row per slot with its figures for this run and all time, its
 * contact wear and flags, from the slots' latest stats and the latest station.summary. It takes
 * the grid's place, so it gets the same height.
 */
import { Box } from 'ink';
import type { ViewModel } from '../state/view-model.ts';
import { fitHead, formatShare } from '../format.ts';
import { Line, useColors, type Segment } from './theme.tsx';

export interface SummaryViewProps {
  model: ViewModel;
  width: number;
  height: number;
}

export function SummaryView({ model, width, height }: SummaryViewProps) {
  const colors = useColors();
  const lines = summaryLines(model, Math.max(1, width - 4), Math.max(1, height - 2));
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor={colors ? 'cyan' : undefined} paddingX={1}>
      {lines.map((segs, i) => (
        <Line key={i} segments={segs} />
      ))}
    </Box>
  );
}

const COLS = ['slot', 'bridge', 'run', 'FPY', 'all time', 'FPY', 'cycles', 'service'] as const;

/** The view's lines, at most `maxLines` of at most `w` columns. Exported for tests. */
export function summaryLines(m: ViewModel, w: number, maxLines: number): Segment[][] {
  const rows = m.slotOrder.map((id) => {
    const s = m.slots[id]!;
    const st = s.stats;
    const row = m.summary?.slots.find((r) => r.slot === id);
    const service = st?.service ?? s.service?.status ?? row?.service ?? 'ok';
    const cycles = st ? `${st.cycles}/${st.cycleLimit}` : row ? `${row.cycles}/${row.cycleLimit}` : s.service ? `${s.service.cycles}/${s.service.limit}` : '—';
    return {
      cells: [
        id,
        s.bridge,
        String(st?.run.units ?? row?.units ?? 0),
        formatShare(st?.run.fpy ?? row?.fpy ?? null),
        String(st?.history.units ?? row?.historyUnits ?? 0),
        formatShare(st?.history.fpy ?? row?.historyFpy ?? null),
        cycles,
        (service === 'out-of-service' ? 'OUT OF SERVICE' : service) + (st?.yieldFlag || row?.yieldFlag ? ' · LOW YIELD' : ''),
      ],
      service,
      flagged: Boolean(st?.yieldFlag || row?.yieldFlag),
    };
  });
  const widths = COLS.map((h, i) => Math.max(h.length, ...rows.map((r) => r.cells[i]!.length)));
  const fmt = (cells: readonly string[]) => fitHead(cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd(), w);
  const sum = m.summary;
  const title: Segment[] = [
    { text: 'Per-slot summary', bold: true },
    { text: sum ? `  ${sum.final ? 'final' : 'latest'}: ${sum.units} units, FPY ${formatShare(sum.fpy)}${sum.ratePerHour === null ? '' : `, ${Math.round(sum.ratePerHour)}/h`}` : '  (figures update after each unit)', dim: true },
  ];
  const out: Segment[][] = [title, [{ text: fmt(COLS), dim: true }]];
  for (const r of rows) {
    const color = r.service === 'out-of-service' ? 'red' : r.service === 'warning' || r.flagged ? 'yellow' : undefined;
    out.push([{ text: fmt(r.cells), ...(color ? { color } : {}), bold: r.service === 'out-of-service' }]);
  }
  return out.slice(0, maxLines);
}
