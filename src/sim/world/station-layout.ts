/**
 * The station file of a simulated world: a grid of N slots on ceil(N/16) bridges and one
 * Firmata board, wired like fixtures-config/sim-jig-8.json. The virtual board has at most 128
 * pins (Firmata's digital messages address 16 ports of 8), so big stations get fewer per-slot
 * pins: first the DUT reset line goes, then DUT power, then the LEDs (panel jig only: the
 * operator of a socket programmer watches the pass/fail LEDs, and the station starts a socket
 * on its presence input, so those three stay).
 */
import { BOARD_MODELS, type InputPinInput, type OutputPinInput, type SlotInput, type SlotPinRole, type StationConfigInput } from '../../station/config/schema.ts';
import { rowLetter } from '../../station/config/layout.ts';
import { WorldError } from './errors.ts';
import type { WorldKind } from './world-files.ts';

/** Slots one bridge carries (hardware/PROTOCOL.md: 1..16). */
export const BRIDGE_SLOTS = 16;
/** Bridges are one process each; 16 of them is what a 2-core machine still carries. */
export const MAX_WORLD_SLOTS = 256;
/** Pins of the largest virtual board (firmata-board.ts MAX_PINS). */
const MAX_BOARD_PINS = 128;

interface BoardChoice {
  model: 'mega2560' | 'custom';
  digitalPins: number;
  analogPins: number;
}

const BOARDS: BoardChoice[] = [
  { model: 'mega2560', digitalPins: BOARD_MODELS.mega2560.digitalPins, analogPins: BOARD_MODELS.mega2560.analogPins },
  { model: 'custom', digitalPins: MAX_BOARD_PINS - 16, analogPins: 16 },
];

const FULL: SlotPinRole[] = ['presence', 'power', 'reset', 'passLed', 'failLed'];
const TIERS: Record<WorldKind, SlotPinRole[][]> = {
  'panel-jig': [FULL, ['presence', 'power', 'passLed', 'failLed'], ['presence', 'passLed', 'failLed'], ['presence'], []],
  'socket-programmer': [FULL, ['presence', 'power', 'passLed', 'failLed'], ['presence', 'passLed', 'failLed']],
};

/** Board pins 0 and 1 carry the Firmata link; the station-wide pins follow from 2. */
const FIRST_PIN = 2;
const COMMON_PINS: Record<WorldKind, number> = { 'panel-jig': 10, 'socket-programmer': 5 };

export interface StationPlan {
  config: StationConfigInput;
  board: BoardChoice & { link: string };
  bridges: { id: string; link: string; slots: number }[];
  slotPins: SlotPinRole[];
  rows: number;
  cols: number;
}

export interface PlanOptions {
  kind: WorldKind;
  slots: number;
  name?: string;
  /** Load attempts per chip (1 + spare keys). */
  maxAttemptsPerChip: number;
  simulation: Record<string, unknown>;
}

/**
 * rows x cols for n slots: the squarest grid that n fills exactly and that is at most four
 * times wider than high; else (n prime, say) a near-square grid with a short last row.
 */
export function gridShape(n: number): { rows: number; cols: number } {
  for (let r = Math.floor(Math.sqrt(n)); r >= 1; r--) {
    if (n % r === 0 && n / r <= 4 * r) return { rows: r, cols: n / r };
  }
  const rows = Math.max(1, Math.floor(Math.sqrt(n)));
  return { rows: Math.ceil(n / Math.ceil(n / rows)), cols: Math.ceil(n / rows) };
}

function maxSlots(kind: WorldKind): number {
  const roles = TIERS[kind].at(-1)!.length;
  const board = BOARDS.at(-1)!;
  const free = board.digitalPins + board.analogPins - FIRST_PIN - COMMON_PINS[kind];
  return roles === 0 ? MAX_WORLD_SLOTS : Math.min(MAX_WORLD_SLOTS, Math.floor(free / roles));
}

function pickWiring(kind: WorldKind, n: number): { board: BoardChoice; roles: SlotPinRole[] } {
  if (n > MAX_WORLD_SLOTS) {
    throw new WorldError('WORLD_TOO_MANY_SLOTS', `a simulated station has at most ${MAX_WORLD_SLOTS} slots (asked: ${n})`, {
      hint: `every 16 slots are one bridge process; ${MAX_WORLD_SLOTS / BRIDGE_SLOTS} of them are what a small machine carries`,
    });
  }
  for (const roles of TIERS[kind]) {
    for (const board of BOARDS) {
      if (FIRST_PIN + COMMON_PINS[kind] + n * roles.length <= board.digitalPins + board.analogPins) return { board, roles };
    }
  }
  const max = maxSlots(kind);
  throw new WorldError('WORLD_TOO_MANY_SLOTS', `a simulated ${kind} has at most ${max} slots (asked: ${n})`, {
    hint: 'every socket needs presence, pass and fail pins and the virtual board has 128 pins; use --kind panel-jig for more slots',
  });
}

export function planStation(o: PlanOptions): StationPlan {
  const n = o.slots;
  if (!Number.isInteger(n) || n < 1) throw new WorldError('WORLD_BAD_SLOTS', `slots must be a whole number from 1, got ${n}`);
  const { board, roles } = pickWiring(o.kind, n);
  const bridges = Array.from({ length: Math.ceil(n / BRIDGE_SLOTS) }, (_, i) => ({
    id: `b${i}`,
    link: `dev/bridge${i}`,
    slots: Math.min(BRIDGE_SLOTS, n - i * BRIDGE_SLOTS),
  }));

  let next = FIRST_PIN;
  const take = () => next++;
  // Station-wide pins, as in fixtures-config/sim-jig-8.json: buttons and sensors switch to
  // ground with the internal pull-up; the e-stop and lid use normally-closed contacts.
  const common =
    o.kind === 'panel-jig'
      ? {
          clamp: { output: take(), closedSensor: { pin: take(), activeLow: true, pullup: true } },
          startButtons: { left: { pin: take(), activeLow: true, pullup: true }, right: { pin: take(), activeLow: true, pullup: true }, windowMs: 500 },
          estop: { pin: take(), pullup: true },
          guard: { type: 'lid' as const, pin: take(), pullup: true },
          towerLight: { red: take(), amber: take(), green: take() },
          buzzer: take(),
        }
      : {
          estop: { pin: take(), pullup: true },
          towerLight: { red: take(), amber: take(), green: take() },
          buzzer: take(),
        };

  // One block of consecutive pins per role: slot k gets the k-th pin of each block.
  const blocks = new Map<SlotPinRole, number>();
  for (const role of roles) {
    blocks.set(role, next);
    next += n;
  }
  const pinOf = (role: SlotPinRole, k: number): number | undefined => {
    const first = blocks.get(role);
    return first === undefined ? undefined : first + k;
  };

  const { rows, cols } = gridShape(n);
  const slots: SlotInput[] = [];
  for (let k = 0; k < n; k++) {
    const row = Math.floor(k / cols) + 1;
    const col = (k % cols) + 1;
    const presence = pinOf('presence', k);
    const out = (role: SlotPinRole): Partial<Record<SlotPinRole, OutputPinInput>> => {
      const p = pinOf(role, k);
      return p === undefined ? {} : { [role]: p };
    };
    const presenceIn: Partial<Record<'presence', InputPinInput>> = presence === undefined ? {} : { presence: { pin: presence, activeLow: true, pullup: true } };
    slots.push({
      id: `${rowLetter(row)}${col}`,
      bridge: `b${Math.floor(k / BRIDGE_SLOTS)}`,
      channel: k % BRIDGE_SLOTS,
      row,
      col,
      ...out('power'),
      ...out('reset'),
      ...presenceIn,
      ...out('passLed'),
      ...out('failLed'),
    });
  }

  const config: StationConfigInput = {
    format: 'ifpp-station/1',
    name: o.name ?? `Simulated ${n}-slot ${o.kind === 'panel-jig' ? 'panel jig' : 'socket programmer'}`,
    kind: o.kind,
    store: 'station/store',
    journal: 'station/journal',
    reports: 'station/reports',
    board: {
      port: 'dev/jig',
      model: board.model,
      ...(board.model === 'custom' ? { digitalPins: board.digitalPins, analogPins: board.analogPins } : {}),
      ...common,
    },
    bridges: bridges.map((b) => ({ id: b.id, port: b.link, slots: b.slots })),
    slots,
    loading: { blockSize: 255, logicalChannel: 0, pps: true, retry: { maxAttemptsPerChip: Math.min(10, o.maxAttemptsPerChip), timeoutFactor: 3 } },
    eidPolicy: { verifyCheckDigits: true, unknownEid: 'fail' },
    postChecks: { verifyProfileListed: true, deleteUnusedOneTimeKeys: false, closeFpaServices: false },
    simulation: o.simulation,
  };
  return { config, board: { ...board, link: 'dev/jig' }, bridges, slotPins: roles, rows, cols };
}
