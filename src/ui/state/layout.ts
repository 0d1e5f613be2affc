/**
 * Where each slot cell goes, as a pure function of the slots' row/col and the space left for
 * the grid. Order of preference:
 *   1. full cells (bordered, five lines) in the jig's own rows and columns;
 *   2. compact cells (two lines) in the jig's rows and columns;
 *   3. compact cells re-flowed row by row when the jig is wider than the terminal;
 * and when even that is too tall, a window of rows around the selected slot with "more" lines.
 * The grid never takes more lines than it is given: output as tall as the terminal makes Ink
 * clear the whole screen on every frame (flicker).
 */

export type CellForm = 'full' | 'compact';

export const FULL_CELL_HEIGHT = 7;
export const FULL_MIN_WIDTH = 19;
export const FULL_MAX_WIDTH = 30;
export const COMPACT_CELL_HEIGHT = 2;
export const COMPACT_MIN_WIDTH = 12;
export const COMPACT_MAX_WIDTH = 26;
/** Blank columns between compact cells (full cells are separated by their borders). */
export const COMPACT_GAP = 1;

export interface PlacedSlot {
  id: string;
  row: number;
  col: number;
}

export interface GridLayout {
  form: CellForm;
  cellWidth: number;
  /** Visible rows of the grid, top to bottom; null marks an empty position in the jig. */
  rows: (string | null)[][];
  /** Blank line between compact rows (when there is room). */
  rowGap: boolean;
  /** True when the jig's columns did not fit and cells were re-flowed in reading order. */
  reflowed: boolean;
  hiddenAbove: number;
  hiddenBelow: number;
  /** Lines the grid occupies, "more" lines included. */
  height: number;
}

/**
 * @param slots   slots with their 1-based jig row/col, in reading order
 * @param width   columns available to the grid
 * @param height  lines available to the grid
 * @param selected  kept visible when only a window of rows fits
 */
export function computeGridLayout(slots: readonly PlacedSlot[], width: number, height: number, selected: string | null = null): GridLayout {
  if (slots.length === 0) return { form: 'full', cellWidth: 0, rows: [], rowGap: false, reflowed: false, hiddenAbove: 0, hiddenBelow: 0, height: 0 };
  const physical = physicalRows(slots);
  const jigCols = physical.reduce((n, r) => Math.max(n, r.length), 0);

  const fullWidth = Math.min(FULL_MAX_WIDTH, Math.floor(width / jigCols));
  if (fullWidth >= FULL_MIN_WIDTH && physical.length * FULL_CELL_HEIGHT <= height) {
    return { form: 'full', cellWidth: fullWidth, rows: physical, rowGap: false, reflowed: false, hiddenAbove: 0, hiddenBelow: 0, height: physical.length * FULL_CELL_HEIGHT };
  }

  let rows = physical;
  let reflowed = false;
  let cellWidth = compactWidth(width, jigCols);
  if (cellWidth < COMPACT_MIN_WIDTH) {
    const perRow = Math.max(1, Math.floor((width + COMPACT_GAP) / (COMPACT_MIN_WIDTH + COMPACT_GAP)));
    rows = chunk(slots.map((s) => s.id), perRow);
    reflowed = true;
    cellWidth = Math.max(1, compactWidth(width, perRow));
  }

  const withGaps = rows.length * COMPACT_CELL_HEIGHT + (rows.length - 1);
  if (withGaps <= height) return { form: 'compact', cellWidth, rows, rowGap: true, reflowed, hiddenAbove: 0, hiddenBelow: 0, height: withGaps };
  if (rows.length * COMPACT_CELL_HEIGHT <= height) {
    return { form: 'compact', cellWidth, rows, rowGap: false, reflowed, hiddenAbove: 0, hiddenBelow: 0, height: rows.length * COMPACT_CELL_HEIGHT };
  }

  // Too many rows even without gaps: show a window around the selection, with a line above
  // and below saying how many rows are hidden.
  const visible = Math.max(1, Math.floor((height - 2) / COMPACT_CELL_HEIGHT));
  const selRow = Math.max(0, rows.findIndex((r) => r.includes(selected)));
  const start = Math.max(0, Math.min(rows.length - visible, selRow - Math.floor(visible / 2)));
  const shown = rows.slice(start, start + visible);
  return {
    form: 'compact',
    cellWidth,
    rows: shown,
    rowGap: false,
    reflowed,
    hiddenAbove: start,
    hiddenBelow: rows.length - start - shown.length,
    height: shown.length * COMPACT_CELL_HEIGHT + 2,
  };
}

function compactWidth(width: number, cols: number): number {
  return Math.min(COMPACT_MAX_WIDTH, Math.floor((width - (cols - 1) * COMPACT_GAP) / cols));
}

/** The jig's picture: distinct rows top to bottom, columns from the leftmost used one. */
function physicalRows(slots: readonly PlacedSlot[]): (string | null)[][] {
  const rowKeys = [...new Set(slots.map((s) => s.row))].sort((a, b) => a - b);
  const minCol = slots.reduce((n, s) => Math.min(n, s.col), Number.POSITIVE_INFINITY);
  return rowKeys.map((rk) => {
    const inRow = slots.filter((s) => s.row === rk);
    const maxCol = inRow.reduce((n, s) => Math.max(n, s.col), minCol);
    const cells: (string | null)[] = new Array<string | null>(maxCol - minCol + 1).fill(null);
    for (const s of inRow) {
      const i = s.col - minCol;
      // Two slots configured on one position: keep both rather than hide one.
      if (cells[i] === null) cells[i] = s.id;
      else cells.push(s.id);
    }
    return cells;
  });
}

function chunk<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}
