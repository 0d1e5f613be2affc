/**
 * The slot cells placed like the physical jig (rows and columns from the station config), in
 * full or compact form depending on the space it is given (see state/layout.ts).
 */
import { Box } from 'ink';
import type { ViewModel } from '../state/view-model.ts';
import { orderedSlots, slotElapsedMs } from '../state/view-model.ts';
import { COMPACT_GAP, computeGridLayout } from '../state/layout.ts';
import type { GridLayout } from '../state/layout.ts';
import { formatElapsed } from '../format.ts';
import { SlotCell } from './SlotCell.tsx';
import { Line } from './theme.tsx';

export interface SlotGridProps {
  model: ViewModel;
  selected: string | null;
  now: number;
  /** Columns and lines available to the grid. */
  width: number;
  height: number;
}

export function gridLayoutFor(model: ViewModel, width: number, height: number, selected: string | null): GridLayout {
  return computeGridLayout(orderedSlots(model), width, height, selected);
}

export function SlotGrid({ model, selected, now, width, height }: SlotGridProps) {
  const layout = gridLayoutFor(model, width, height, selected);
  if (layout.rows.length === 0) return <Line segments={[{ text: 'No slots yet: waiting for the station to start…', dim: true }]} />;
  const compact = layout.form === 'compact';
  return (
    <Box flexDirection="column" height={layout.height}>
      {layout.hiddenAbove > 0 ? <Line segments={[{ text: `▲ ${layout.hiddenAbove} more row(s) above`, dim: true }]} /> : null}
      {layout.rows.map((row, r) => (
        <Box key={r} flexDirection="row" marginBottom={layout.rowGap && r < layout.rows.length - 1 ? 1 : 0}>
          {row.map((id, c) => {
            const gap = compact && c < row.length - 1 ? COMPACT_GAP : 0;
            const slot = id === null ? undefined : model.slots[id];
            if (!slot) return <Box key={`empty-${c}`} width={layout.cellWidth} marginRight={gap} />;
            const ms = slotElapsedMs(slot, now);
            return (
              <Box key={slot.id} marginRight={gap}>
                <SlotCell slot={slot} form={layout.form} width={layout.cellWidth} selected={slot.id === selected} elapsed={ms === null ? '' : formatElapsed(ms)} />
              </Box>
            );
          })}
        </Box>
      ))}
      {layout.hiddenBelow > 0 ? <Line segments={[{ text: `▼ ${layout.hiddenBelow} more row(s) below`, dim: true }]} /> : null}
    </Box>
  );
}
