/**
 * The jig's wiring as the simulated operator and hardware know it: which board pin is which
 * button, sensor or lamp, and at which level it is active. Read straight from the station
 * file's JSON (a wiring diagram, so to speak) without the station's own code: the simulated
 * world stands where the hardware stands and must not lean on the station.
 */
import { readFileSync } from 'node:fs';
import { WorldError } from './errors.ts';

export interface WiredPin {
  pin: number;
  activeLow: boolean;
}

export interface SlotWiring {
  id: string;
  bridge: string;
  channel: number;
  enabled: boolean;
  presence?: WiredPin;
  passLed?: WiredPin;
  failLed?: WiredPin;
}

export interface Wiring {
  kind: 'panel-jig' | 'socket-programmer';
  clamp?: { output: WiredPin; closedSensor: WiredPin };
  startButtons?: { left: WiredPin; right: WiredPin; windowMs: number };
  estop?: WiredPin;
  guard?: WiredPin;
  /** The tower's green lamp: lit while the station waits for a start (and while it runs). */
  readyLamp?: WiredPin;
  slots: SlotWiring[];
  /** Every input pin with its idle level (nothing pressed, lid closed, no DUT, clamp open). */
  idleInputs: { pin: number; level: 0 | 1 }[];
}

const MODEL_DIGITAL: Record<string, number> = { mega2560: 54, uno: 14, nano: 14 };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Level a pin reads/drives when its condition holds. */
export const activeLevel = (p: WiredPin): 0 | 1 => (p.activeLow ? 0 : 1);
export const idleLevel = (p: WiredPin): 0 | 1 => (p.activeLow ? 1 : 0);

export function wiringFromConfig(raw: unknown, file: string): Wiring {
  const bad = (what: string) => new WorldError('WORLD_WIRING', `${file}: ${what}`, { hint: 'check it with `ifpp validate`' });
  if (!isObj(raw)) throw bad('not a station configuration');
  const board = isObj(raw.board) ? raw.board : undefined;
  const digital = typeof board?.digitalPins === 'number' ? board.digitalPins : MODEL_DIGITAL[String(board?.model ?? 'mega2560')] ?? 54;
  const pin = (v: unknown, where: string): WiredPin | undefined => {
    if (v === undefined) return undefined;
    const spec = isObj(v) ? v : { pin: v };
    const p = spec.pin;
    const n = typeof p === 'number' ? p : typeof p === 'string' && /^A\d+$/.test(p) ? digital + Number(p.slice(1)) : undefined;
    if (n === undefined) throw bad(`${where}: pin ${JSON.stringify(p)} is neither a number nor "A<n>"`);
    return { pin: n, activeLow: spec.activeLow === true };
  };
  const need = (v: unknown, where: string): WiredPin => {
    const p = pin(v, where);
    if (!p) throw bad(`${where} is missing`);
    return p;
  };

  const kind = raw.kind === 'socket-programmer' ? 'socket-programmer' : 'panel-jig';
  const clampRaw = isObj(board?.clamp) ? board.clamp : undefined;
  const startRaw = isObj(board?.startButtons) ? board.startButtons : undefined;
  const w: Wiring = {
    kind,
    ...(clampRaw ? { clamp: { output: need(clampRaw.output, 'board.clamp.output'), closedSensor: need(clampRaw.closedSensor, 'board.clamp.closedSensor') } } : {}),
    ...(startRaw
      ? {
          startButtons: {
            left: need(startRaw.left, 'board.startButtons.left'),
            right: need(startRaw.right, 'board.startButtons.right'),
            windowMs: typeof startRaw.windowMs === 'number' ? startRaw.windowMs : 500,
          },
        }
      : {}),
    slots: [],
    idleInputs: [],
  };
  const estop = pin(board?.estop, 'board.estop');
  const guard = pin(board?.guard, 'board.guard');
  if (estop) w.estop = estop;
  if (guard) w.guard = guard;
  const ready = isObj(board?.towerLight) ? pin(board.towerLight.green, 'board.towerLight.green') : undefined;
  if (ready) w.readyLamp = ready;
  if (!Array.isArray(raw.slots)) throw bad('no slots');
  raw.slots.forEach((s, i) => {
    if (!isObj(s)) throw bad(`slots[${i}] is not an object`);
    const presence = pin(s.presence, `slots[${i}].presence`);
    const passLed = pin(s.passLed, `slots[${i}].passLed`);
    const failLed = pin(s.failLed, `slots[${i}].failLed`);
    w.slots.push({
      id: String(s.id),
      bridge: String(s.bridge),
      channel: Number(s.channel),
      enabled: s.enabled !== false,
      ...(presence ? { presence } : {}),
      ...(passLed ? { passLed } : {}),
      ...(failLed ? { failLed } : {}),
    });
  });
  // The closed sensor follows the clamp (a board link), so it is not scripted here.
  const inputs = [w.startButtons?.left, w.startButtons?.right, w.estop, w.guard, ...w.slots.map((s) => s.presence)];
  for (const p of inputs) if (p) w.idleInputs.push({ pin: p.pin, level: idleLevel(p) });
  return w;
}

export function readWiring(stationFile: string): Wiring {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(stationFile, 'utf8'));
  } catch (e) {
    throw new WorldError('WORLD_WIRING', `cannot read ${stationFile}: ${(e as Error).message}`, { hint: 'the world runtime reads the station file as plain JSON' });
  }
  return wiringFromConfig(raw, stationFile);
}
