/**
 * One slot of the jig. Full form: a bordered box of five lines (id and elapsed time, state,
 * short EID, ICCID, progress bar; a failed slot shows its reason on two lines instead of the
 * ICCID and bar, an interrupted one what stopped it, a skipped one, dimmed, why the chip is not
 * for this station). Compact form: two unbordered lines. The state always shows as symbol +
 * word + colour, so it reads without colour too.
 */
import { memo } from 'react';
import { Box } from 'ink';
import type { SlotView } from '../state/view-model.ts';
import { slotWhy } from '../state/view-model.ts';
import type { CellForm } from '../state/layout.ts';
import { STATE_LOOK, fitHead, fitTail, isQuietState, progressText, shortEid } from '../format.ts';
import { Line, fit, useColors } from './theme.tsx';
import type { Segment } from './theme.tsx';

export interface SlotCellProps {
  slot: SlotView;
  form: CellForm;
  /** Total width of the cell, border included. */
  width: number;
  selected: boolean;
  /** Pre-formatted elapsed time ('' when idle): a string keeps memo comparisons cheap. */
  elapsed: string;
}

function SlotCellImpl(props: SlotCellProps) {
  return props.form === 'full' ? <FullCell {...props} /> : <CompactCell {...props} />;
}

/** Re-renders only when this slot's object, the selection, the size or the elapsed text change. */
export const SlotCell = memo(SlotCellImpl);

function FullCell({ slot, width, selected, elapsed }: SlotCellProps) {
  const colors = useColors();
  const look = STATE_LOOK[slot.state];
  const cw = Math.max(1, width - 2);
  const lines = fullLines(slot, cw, selected, elapsed);
  return (
    <Box flexDirection="column" width={width} height={7} borderStyle={selected ? 'double' : 'round'} borderColor={colors ? look.color : undefined} borderDimColor={isQuietState(slot.state)}>
      {lines.map((segs, i) => (
        <Line key={i} segments={segs} />
      ))}
    </Box>
  );
}

/** The five content lines of a full cell, each at most `cw` wide. Exported for tests. */
export function fullLines(slot: SlotView, cw: number, selected: boolean, elapsed: string): Segment[][] {
  const look = STATE_LOOK[slot.state];
  const quiet = isQuietState(slot.state);
  const id = fitHead(`${selected ? '›' : ''}${slot.id}`, Math.max(1, cw - (elapsed ? elapsed.length + 1 : 0)));
  const top: Segment[] = [{ text: id, bold: true, inverse: selected }, { text: elapsed.padStart(cw - id.length), dim: true }];
  const state: Segment[] = [{ text: fit(`${look.symbol} ${look.word}`, cw), color: look.color, bold: !quiet, dim: quiet }];
  const eid: Segment[] = slot.eid ? [{ text: 'EID ', dim: true }, { text: fitTail(shortEid(slot.eid), cw - 4) }] : [];
  const iccid: Segment[] = slot.iccid ? [{ text: 'ICCID ', dim: true }, { text: fitTail(slot.iccid, cw - 6) }] : [];
  if (slot.state === 'fail' || slot.state === 'interrupted') {
    // The reason matters more than the ICCID here (the detail pane has both): two lines for it.
    const reason = wrapWords(slotWhy(slot), cw, 2).map((t): Segment[] => [{ text: t, color: look.color }]);
    return [top, state, eid, reason[0] ?? [], reason[1] ?? []];
  }
  if (slot.state === 'skipped') {
    // Why the chip is not for this station, dim: nothing to act on at once. When the reason
    // needs three lines it takes the EID's (the detail pane has the EID).
    const reason = wrapWords(slotWhy(slot), cw, 3).map((t): Segment[] => [{ text: t, dim: true }]);
    return reason.length <= 2 ? [top, state, eid, reason[0] ?? [], reason[1] ?? []] : [top, state, ...reason];
  }
  return [top, state, eid, iccid, detailLine(slot, cw)];
}

/** What the last line of a cell says for states other than fail/interrupted. */
function detailLine(slot: SlotView, cw: number): Segment[] {
  const p = slot.progress;
  switch (slot.state) {
    case 'loading':
      return p ? [{ text: progressText(p.bytesSent, p.bytesTotal, cw), color: 'cyan' }] : [{ text: 'starting load…', dim: true }];
    case 'verifying':
      return [{ text: 'checking install…', color: 'magenta' }];
    case 'pass':
      return [{ text: slot.attempt > 1 ? `installed (try ${slot.attempt})` : 'installed', color: 'green' }];
    case 'identified':
      return slot.unusedKeys !== null ? [{ text: `${slot.unusedKeys} keys free`, dim: true }] : [];
    default:
      return [];
  }
}

function CompactCell({ slot, width, selected, elapsed }: SlotCellProps) {
  return (
    <Box flexDirection="column" width={width} height={2}>
      {compactLines(slot, width, selected, elapsed).map((segs, i) => (
        <Line key={i} segments={segs} />
      ))}
    </Box>
  );
}

/** The two lines of a compact cell, each at most `w` wide. Exported for tests. */
export function compactLines(slot: SlotView, w: number, selected: boolean, elapsed: string): Segment[][] {
  const look = STATE_LOOK[slot.state];
  const idle = slot.state === 'idle';
  const quiet = isQuietState(slot.state);
  const marker = selected ? '›' : ' ';
  const id = fitHead(slot.id, Math.max(1, w - 4));
  const room = w - 1 - id.length - 3;
  const word = look.word.length <= room ? look.word : look.short;
  const used = 1 + id.length + 3 + word.length;
  const right = elapsed && used + 1 + elapsed.length <= w ? elapsed.padStart(w - used) : '';
  const first: Segment[] = [
    { text: marker, bold: true },
    { text: id, bold: true, inverse: selected },
    { text: ` ${look.symbol} ${word}`.slice(0, Math.max(0, w - 1 - id.length)), color: look.color, bold: !quiet, dim: quiet },
    { text: right, dim: true },
  ];
  const cw = w - 1;
  const p = slot.progress;
  let second: Segment[];
  if (slot.state === 'loading' && p) second = [{ text: ' ' }, { text: progressText(p.bytesSent, p.bytesTotal, cw), color: 'cyan' }];
  else if (slot.state === 'fail' || slot.state === 'interrupted') second = [{ text: ' ' }, { text: fitHead(slotWhy(slot), cw), color: look.color }];
  else if (slot.state === 'skipped') second = [{ text: ' ' }, { text: fitHead(slotWhy(slot), cw), dim: true }];
  else if (slot.eid) second = [{ text: ' ' }, { text: fitTail(shortEid(slot.eid), cw), dim: idle }];
  else second = [];
  return [first, second];
}

/** Word-wraps into at most `maxLines` lines of `width`; the last line ends in '…' if cut. */
export function wrapWords(text: string, width: number, maxLines: number): string[] {
  if (width <= 0 || maxLines <= 0) return [];
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    // Words longer than a line (codes, hex) are cut into line-sized pieces.
    for (let i = 0; i < word.length; i += width) {
      const piece = word.slice(i, i + width);
      if (!cur) cur = piece;
      else if (cur.length + 1 + piece.length <= width) cur += ` ${piece}`;
      else {
        lines.push(cur);
        cur = piece;
      }
    }
  }
  if (cur) lines.push(cur);
  if (lines.length <= maxLines) return lines;
  return [...lines.slice(0, maxLines - 1), fitHead(lines.slice(maxLines - 1).join(' '), width)];
}
