/**
 * Helpers for station configs written as TypeScript modules: `defineStation` types the whole
 * file, `gridSlots` generates a rows x cols layout with bridge channels and pin blocks, so a
 * 16-socket programmer is a few lines instead of sixteen hand-written slots.
 */
import { ConfigError } from './errors.ts';
import type { BridgeInput, InputPinInput, OutputPinInput, PinName, SlotInput, StationConfigInput } from './schema.ts';

/** Identity: gives a config module's default export full type checking and completion. */
export function defineStation<T extends StationConfigInput>(config: T): T {
  return config;
}

/** Consecutive pins for one role: slot k (in layout order) gets `first + k * step`. */
export interface OutputPinBlock {
  first: PinName;
  /** Default 1. */
  step?: number;
  activeLow?: boolean;
}

export interface InputPinBlock extends OutputPinBlock {
  pullup?: boolean;
}

export interface GridPosition {
  /** 1-based. */
  row: number;
  /** 1-based. */
  col: number;
  /** 0-based position in layout order (the order channels and pins are handed out in). */
  index: number;
}

export interface GridSlotsOptions {
  rows: number;
  cols: number;
  /** Bridges to spread slots over, filled in order: all channels of the first, then the next. */
  bridges: ReadonlyArray<Pick<BridgeInput, 'id' | 'slots'>>;
  /** "row-major" (default): A1, A2, … then B1; "column-major": A1, B1, … then A2. */
  order?: 'row-major' | 'column-major';
  /** Slot id; default row letter + column number ("A1", "B4"). */
  id?: (pos: GridPosition) => string;
  pins?: {
    power?: OutputPinBlock;
    reset?: OutputPinBlock;
    presence?: InputPinBlock;
    passLed?: OutputPinBlock;
    failLed?: OutputPinBlock;
  };
  /** Last word on each generated slot (disable one, rewire another). */
  customize?: (slot: SlotInput, pos: GridPosition) => SlotInput;
}

/** 1 -> "A", 26 -> "Z", 27 -> "AA". */
export function rowLetter(row: number): string {
  let n = row;
  let out = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    out = String.fromCharCode(65 + r) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

function layoutError(message: string, hint: string): ConfigError {
  return new ConfigError('LAYOUT_INVALID', `gridSlots: ${message}`, { hint });
}

function offsetPin(first: PinName, k: number): PinName {
  if (typeof first === 'number') return first + k;
  const m = /^A(\d+)$/.exec(first);
  if (!m) throw layoutError(`pin ${JSON.stringify(first)} is neither a number nor "A<n>"`, 'write a pin number (22) or an analog name ("A0")');
  return `A${Number(m[1]) + k}`;
}

function outPin(block: OutputPinBlock, k: number): OutputPinInput {
  const pin = offsetPin(block.first, k * (block.step ?? 1));
  return block.activeLow === undefined ? pin : { pin, activeLow: block.activeLow };
}

function inPin(block: InputPinBlock, k: number): InputPinInput {
  const pin = offsetPin(block.first, k * (block.step ?? 1));
  if (block.activeLow === undefined && block.pullup === undefined) return pin;
  return { pin, ...(block.activeLow === undefined ? {} : { activeLow: block.activeLow }), ...(block.pullup === undefined ? {} : { pullup: block.pullup }) };
}

export function gridSlots(opts: GridSlotsOptions): SlotInput[] {
  const { rows, cols } = opts;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw layoutError(`rows and cols must be whole numbers from 1, got ${rows} x ${cols}`, 'e.g. gridSlots({ rows: 4, cols: 4, … })');
  }
  const channels = opts.bridges.flatMap((b) => Array.from({ length: b.slots }, (_, channel) => ({ bridge: b.id, channel })));
  if (channels.length < rows * cols) {
    throw layoutError(`${rows} x ${cols} = ${rows * cols} slots, but the bridges have only ${channels.length} channels`, 'add a bridge or raise a bridge\'s slot count');
  }
  const id = opts.id ?? ((p: GridPosition) => `${rowLetter(p.row)}${p.col}`);
  const slots: SlotInput[] = [];
  for (let index = 0; index < rows * cols; index++) {
    const colMajor = opts.order === 'column-major';
    const row = colMajor ? (index % rows) + 1 : Math.floor(index / cols) + 1;
    const col = colMajor ? Math.floor(index / rows) + 1 : (index % cols) + 1;
    const pos: GridPosition = { row, col, index };
    const ch = channels[index]!;
    const p = opts.pins ?? {};
    let slot: SlotInput = {
      id: id(pos),
      bridge: ch.bridge,
      channel: ch.channel,
      row,
      col,
      ...(p.power ? { power: outPin(p.power, index) } : {}),
      ...(p.reset ? { reset: outPin(p.reset, index) } : {}),
      ...(p.presence ? { presence: inPin(p.presence, index) } : {}),
      ...(p.passLed ? { passLed: outPin(p.passLed, index) } : {}),
      ...(p.failLed ? { failLed: outPin(p.failLed, index) } : {}),
    };
    if (opts.customize) slot = opts.customize(slot, pos);
    slots.push(slot);
  }
  return slots;
}
