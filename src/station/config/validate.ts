/**
 * Checks a station configuration and applies defaults. Collects every problem (an integrator
 * fixing a jig file wants the whole list at once), each with the config path, the line when
 * the locator knows it, and a hint.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { builtInDialectNames, dialectByName, isDialectModulePath } from '../fpa/dialect.ts';
import { formatPath, type PathSegment } from './path.ts';
import { closest } from './suggest.ts';
import {
  ALREADY_PROVISIONED_ACTIONS,
  BOARD_MODELS,
  CONFIG_FORMAT,
  DEFAULTS,
  GUARD_TYPES,
  INVENTORY_KINDS,
  LIMITS,
  SLOT_PIN_ROLES,
  STATION_KINDS,
  UNKNOWN_EID_ACTIONS,
  type Board,
  type BoardModelName,
  type Bridge,
  type Reader,
  type EidPolicy,
  type InputPin,
  type InventoryConfig,
  type LoadingConfig,
  type MaintenanceConfig,
  type MetricsConfig,
  type SocketKind,
  type OutputPin,
  type PostChecks,
  type SimulationSection,
  type Slot,
  type StationConfig,
  type StationKind,
  type TowerLight,
  VCC_CLASSES,
} from './schema.ts';

export interface ConfigProblem {
  /** The config file as the user named it. */
  file: string;
  /** Config path, e.g. `slots[3].power`; "" for the whole document. */
  path: string;
  /** 1-based line of the offending key (JSON files only). */
  line?: number;
  message: string;
  hint: string;
}

export type Locate = (path: PathSegment[]) => number | undefined;

export interface ValidateOptions {
  /** Shown in problems. */
  file: string;
  /** Relative paths in the config resolve against this folder (the config file's folder). */
  dir: string;
  locate?: Locate;
  /** Absolute path of the config file, kept in `config.source.file` (default: `file`). */
  source?: string;
}

export interface ValidationResult {
  /** The config with defaults applied and paths resolved; undefined when there are problems. */
  config: StationConfig | undefined;
  problems: ConfigProblem[];
}

/** `file:line path: message (hint)`, the line format of `ifpp validate`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  return `${where} ${p.path || '(document)'}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`;
}

/**
 * Serial device paths: absolute paths and Windows port names stay as written; anything else is
 * relative to the config file's folder (like every other path in the config).
 */
export function resolveDevicePath(dir: string, port: string): string {
  if (isAbsolute(port) || /^COM\d+$/i.test(port) || port.startsWith('\\\\.\\')) return port;
  return resolve(dir, port);
}

const ID_PATTERN = /^[A-Za-z0-9_.-]+$/;

const ROOT_KEYS = ['format', 'name', 'kind', 'store', 'journal', 'reports', 'board', 'bridges', 'readers', 'slots', 'loading', 'eidPolicy', 'postChecks', 'inventory', 'maintenance', 'metrics', 'simulation'] as const;
const ROOT_REQUIRED = ['name', 'kind', 'store', 'journal', 'reports', 'slots'] as const;
const BOARD_KEYS = ['port', 'baudRate', 'model', 'digitalPins', 'analogPins', 'reservedPins', 'clamp', 'startButtons', 'estop', 'guard', 'towerLight', 'buzzer'] as const;
const BRIDGE_KEYS = ['id', 'port', 'baudRate', 'slots'] as const;
const READER_KEYS = ['id', 'name'] as const;
const SLOT_KEYS = ['id', 'bridge', 'channel', 'reader', 'row', 'col', 'enabled', 'socket', ...SLOT_PIN_ROLES] as const;
const INPUT_PIN_KEYS = ['pin', 'activeLow', 'pullup'] as const;
const OUTPUT_PIN_KEYS = ['pin', 'activeLow'] as const;

type Obj = Record<string, unknown>;

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'function') return 'a function';
  return `${typeof v} ${String(v)}`;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface PinUse {
  path: PathSegment[];
  label: string;
}

interface PinBoard {
  model: BoardModelName;
  digitalPins: number;
  analogPins: number;
  reserved: Set<number>;
  analogOnly: Set<number>;
}

class Checker {
  readonly problems: ConfigProblem[] = [];
  private readonly pinUses = new Map<number, PinUse>();
  private pinBoard: PinBoard | undefined;
  private boardMissingReported = false;
  private hasBoard = false;

  constructor(private readonly opts: ValidateOptions) {}

  report(path: PathSegment[], message: string, hint: string): void {
    const line = this.opts.locate?.(path);
    this.problems.push({ file: this.opts.file, path: formatPath(path), ...(line === undefined ? {} : { line }), message, hint });
  }

  /** An object with known keys: reports a wrong type, unknown keys and missing required keys. */
  record(v: unknown, path: PathSegment[], allowed: readonly string[], required: readonly string[], what: string): Obj | undefined {
    if (!isObj(v)) {
      this.report(path, `${what} must be an object, not ${describeValue(v)}`, `write it as { ${required.map((k) => `"${k}": …`).join(', ')} }`);
      return undefined;
    }
    for (const key of Object.keys(v)) {
      if (allowed.includes(key)) continue;
      const guess = closest(key, allowed);
      this.report(
        [...path, key],
        `unknown key "${key}"`,
        guess ? `did you mean "${guess}"?` : `remove it; keys allowed here: ${allowed.join(', ')}`,
      );
    }
    for (const key of required) {
      if (v[key] === undefined) this.report([...path, key], `missing required key "${key}"`, `add "${key}" to ${formatPath(path) || 'the top level'}`);
    }
    return v;
  }

  string(o: Obj, key: string, path: PathSegment[], pattern?: RegExp, patternHint?: string): string | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') {
      this.report([...path, key], `expected a non-empty string, got ${describeValue(v)}`, `write "${key}": "…"`);
      return undefined;
    }
    if (pattern && !pattern.test(v)) {
      this.report([...path, key], `${JSON.stringify(v)} is not allowed here`, patternHint ?? `match ${pattern}`);
      return undefined;
    }
    return v;
  }

  integer(o: Obj, key: string, path: PathSegment[], min: number, max: number, hint?: string): number | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.report([...path, key], `expected a whole number, got ${describeValue(v)}`, hint ?? `use a number from ${min} to ${max}`);
      return undefined;
    }
    if (v < min || v > max) {
      this.report([...path, key], `${v} is out of range ${min}..${max}`, hint ?? `use a number from ${min} to ${max}`);
      return undefined;
    }
    return v;
  }

  number(o: Obj, key: string, path: PathSegment[], min: number, max: number): number | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.report([...path, key], typeof v === 'number' ? `${v} is out of range ${min}..${max}` : `expected a number, got ${describeValue(v)}`, `use a number from ${min} to ${max}`);
      return undefined;
    }
    return v;
  }

  boolean(o: Obj, key: string, path: PathSegment[]): boolean | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') {
      this.report([...path, key], `expected true or false, got ${describeValue(v)}`, `write "${key}": true or "${key}": false`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(o: Obj, key: string, path: PathSegment[], options: readonly T[]): T | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string' && (options as readonly string[]).includes(v)) return v as T;
    const guess = typeof v === 'string' ? closest(v, options) : undefined;
    this.report([...path, key], `${describeValue(v)} is not one of ${options.map((x) => `"${x}"`).join(', ')}`, guess ? `did you mean "${guess}"?` : `use one of: ${options.join(', ')}`);
    return undefined;
  }

  localPath(o: Obj, key: string, path: PathSegment[]): string | undefined {
    const v = this.string(o, key, path);
    return v === undefined ? undefined : resolve(this.opts.dir, v);
  }

  // --- pins -----------------------------------------------------------------------------

  setBoard(b: PinBoard | undefined, present: boolean): void {
    this.pinBoard = b;
    this.hasBoard = present;
  }

  private pinRangeHint(b: PinBoard): string {
    const firstFree = [...Array(b.digitalPins).keys()].find((p) => !b.reserved.has(p)) ?? 0;
    const usable = `digital pins ${firstFree}..${b.digitalPins - 1}`;
    const analog = b.analogPins > 0 ? ` and A0..A${b.analogPins - 1} (${b.digitalPins}..${b.digitalPins + b.analogPins - 1})` : '';
    return `the ${b.model} board has ${usable}${analog}`;
  }

  /** Resolves one pin reference and records its use; duplicates name the first user. */
  pin(o: Obj, key: string, path: PathSegment[], kind: 'input' | 'output'): InputPin | OutputPin | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    const here = [...path, key];
    let ref: unknown = v;
    let activeLow = false;
    let pullup = false;
    if (isObj(v)) {
      const spec = this.record(v, here, kind === 'input' ? INPUT_PIN_KEYS : OUTPUT_PIN_KEYS, ['pin'], 'a pin');
      if (!spec) return undefined;
      ref = spec.pin;
      activeLow = this.boolean(spec, 'activeLow', here) ?? false;
      if (kind === 'input') pullup = this.boolean(spec, 'pullup', here) ?? false;
      if (ref === undefined) return undefined;
    }
    if (!this.hasBoard) {
      if (!this.boardMissingReported) {
        this.boardMissingReported = true;
        this.report(here, 'a pin is used but there is no board', 'add a "board" section with the Firmata board\'s port (pins are numbers on that board)');
      }
      return undefined;
    }
    const b = this.pinBoard;
    let num: number;
    let label: string;
    if (typeof ref === 'number' && Number.isInteger(ref) && ref >= 0) {
      num = ref;
      label = String(ref);
    } else if (typeof ref === 'string' && /^A\d{1,2}$/.test(ref)) {
      const n = Number(ref.slice(1));
      label = ref;
      if (!b) return undefined; // board section broken: already reported there
      if (n >= b.analogPins) {
        this.report(here, `pin ${ref} does not exist`, this.pinRangeHint(b));
        return undefined;
      }
      num = b.digitalPins + n;
    } else {
      this.report(here, `expected a pin number or an analog pin name like "A0", got ${describeValue(ref)}`, 'write a Firmata pin number (22) or "A0".."A15"; digital pins are plain numbers, not strings');
      return undefined;
    }
    if (b) {
      const shown = label === String(num) ? `pin ${label}` : `pin ${label} (${num})`;
      if (num >= b.digitalPins + b.analogPins) {
        this.report(here, `${shown} does not exist`, this.pinRangeHint(b));
        return undefined;
      }
      if (b.reserved.has(num)) {
        this.report(here, `${shown} is reserved`, num <= 1 ? 'pins 0 and 1 carry the Firmata serial link; move the wire to a free pin' : 'it is listed in board.reservedPins; use another pin');
        return undefined;
      }
      if (b.analogOnly.has(num)) {
        this.report(here, `${shown} is an analog-only input on the ${b.model} and cannot switch or read a digital level`, this.pinRangeHint(b));
        return undefined;
      }
      const first = this.pinUses.get(num);
      if (first) {
        const firstShown = first.label === String(num) ? '' : ` (as ${first.label})`;
        this.report(here, `${shown} is already used by ${formatPath(first.path)}${firstShown}`, `give ${formatPath(here)} and ${formatPath(first.path)} each their own pin`);
        return undefined;
      }
      this.pinUses.set(num, { path: here, label });
    }
    return kind === 'input' ? { pin: num, label, activeLow, pullup } : { pin: num, label, activeLow };
  }

  inputPin(o: Obj, key: string, path: PathSegment[]): InputPin | undefined {
    return this.pin(o, key, path, 'input') as InputPin | undefined;
  }

  outputPin(o: Obj, key: string, path: PathSegment[]): OutputPin | undefined {
    return this.pin(o, key, path, 'output') as OutputPin | undefined;
  }
}

// ---------------------------------------------------------------------------------------

function checkBoardModel(c: Checker, o: Obj, path: PathSegment[]): PinBoard | undefined {
  const modelNames = [...Object.keys(BOARD_MODELS), 'custom'] as BoardModelName[];
  const model = o.model === undefined ? DEFAULTS.boardModel : c.oneOf(o, 'model', path, modelNames);
  if (model === undefined) return undefined;
  const preset = model === 'custom' ? undefined : BOARD_MODELS[model];
  if (model === 'custom') {
    for (const k of ['digitalPins', 'analogPins']) {
      if (o[k] === undefined) c.report([...path, k], `missing required key "${k}" (model "custom")`, 'give the pin counts of the board, or pick a known model: mega2560, uno, nano');
    }
  }
  const digitalPins = c.integer(o, 'digitalPins', path, 2, 256) ?? preset?.digitalPins;
  const analogPins = c.integer(o, 'analogPins', path, 0, 64) ?? preset?.analogPins;
  let reserved: number[] = [...DEFAULTS.reservedPins];
  if (o.reservedPins !== undefined) {
    const r = o.reservedPins;
    if (!Array.isArray(r) || !r.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) {
      c.report([...path, 'reservedPins'], `expected a list of pin numbers, got ${describeValue(r)}`, 'write e.g. "reservedPins": [0, 1]');
    } else {
      reserved = r as number[];
    }
  }
  if (digitalPins === undefined || analogPins === undefined) return undefined;
  return { model, digitalPins, analogPins, reserved: new Set(reserved), analogOnly: new Set(preset?.analogOnly ?? []) };
}

function checkBoard(c: Checker, v: unknown, dir: string): { board: Board | undefined; ok: boolean } {
  const path = ['board'];
  const o = c.record(v, path, BOARD_KEYS, ['port'], '"board"');
  if (!o) {
    c.setBoard(undefined, true);
    return { board: undefined, ok: false };
  }
  const before = c.problems.length;
  const pinBoard = checkBoardModel(c, o, path);
  c.setBoard(pinBoard, true);
  const portRaw = c.string(o, 'port', path);
  const baudRate = c.integer(o, 'baudRate', path, 300, 4_000_000, 'use the Firmata sketch\'s Serial.begin() speed, 57600 for StandardFirmata') ?? DEFAULTS.boardBaudRate;

  let clamp: Board['clamp'];
  if (o.clamp !== undefined) {
    const p = [...path, 'clamp'];
    const co = c.record(o.clamp, p, ['output', 'closedSensor', 'closeTimeoutMs'], ['output', 'closedSensor'], '"clamp"');
    if (co) {
      const output = c.outputPin(co, 'output', p);
      const closedSensor = c.inputPin(co, 'closedSensor', p);
      const { min, max } = LIMITS.clampCloseTimeoutMs;
      const closeTimeoutMs = c.integer(co, 'closeTimeoutMs', p, min, max) ?? DEFAULTS.clampCloseTimeoutMs;
      if (output && closedSensor) clamp = { output, closedSensor, closeTimeoutMs };
    }
  }

  let startButtons: Board['startButtons'];
  if (o.startButtons !== undefined) {
    const p = [...path, 'startButtons'];
    const so = c.record(o.startButtons, p, ['left', 'right', 'windowMs'], ['left', 'right'], '"startButtons"');
    if (so) {
      const left = c.inputPin(so, 'left', p);
      const right = c.inputPin(so, 'right', p);
      const { min, max } = LIMITS.twoHandWindowMs;
      const windowMs =
        c.integer(so, 'windowMs', p, min, max, `two-hand start expects both buttons within ${min}..${max} ms; ISO 13851 type III asks for 500 ms at most`) ??
        DEFAULTS.twoHandWindowMs;
      if (left && right) startButtons = { left, right, windowMs };
    }
  }

  const estop = c.inputPin(o, 'estop', path);

  let guard: Board['guard'];
  if (o.guard !== undefined) {
    const p = [...path, 'guard'];
    const go = c.record(o.guard, p, ['type', ...INPUT_PIN_KEYS], ['type', 'pin'], '"guard"');
    if (go) {
      const type = c.oneOf(go, 'type', p, GUARD_TYPES);
      const pinPart: Obj = { pin: go.pin, activeLow: go.activeLow, pullup: go.pullup };
      // The guard object is itself the pin spec; check it at the guard's own path.
      const g = go.pin === undefined ? undefined : c.inputPin({ guard: stripUndefined(pinPart) }, 'guard', path);
      if (type && g) guard = { type, ...g };
    }
  }

  let towerLight: TowerLight | undefined;
  if (o.towerLight !== undefined) {
    const p = [...path, 'towerLight'];
    const to = c.record(o.towerLight, p, ['red', 'amber', 'green', 'blue'], [], '"towerLight"');
    if (to) {
      towerLight = {};
      for (const colour of ['red', 'amber', 'green', 'blue'] as const) {
        const pin = c.outputPin(to, colour, p);
        if (pin) towerLight[colour] = pin;
      }
    }
  }
  const buzzer = c.outputPin(o, 'buzzer', path);

  const ok = c.problems.length === before && portRaw !== undefined && pinBoard !== undefined;
  if (!ok || portRaw === undefined || pinBoard === undefined) return { board: undefined, ok: false };
  const board: Board = {
    port: resolveDevicePath(dir, portRaw),
    baudRate,
    model: pinBoard.model,
    digitalPins: pinBoard.digitalPins,
    analogPins: pinBoard.analogPins,
    reservedPins: [...pinBoard.reserved],
    ...(clamp ? { clamp } : {}),
    ...(startButtons ? { startButtons } : {}),
    ...(estop ? { estop } : {}),
    ...(guard ? { guard } : {}),
    ...(towerLight ? { towerLight } : {}),
    ...(buzzer ? { buzzer } : {}),
  };
  return { board, ok: true };
}

function stripUndefined(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function checkBridges(c: Checker, v: unknown, dir: string, hasReaders: boolean): Bridge[] {
  const out: Bridge[] = [];
  if (v === undefined) return out;
  if (!Array.isArray(v)) {
    c.report(['bridges'], `"bridges" must be a list, not ${describeValue(v)}`, 'write "bridges": [{ "id": "b0", "port": "…", "slots": 8 }]');
    return out;
  }
  if (v.length === 0 && !hasReaders) c.report(['bridges'], 'no bridges', 'add at least one bridge: { "id": "b0", "port": "…", "slots": 8 }');
  const ids = new Map<string, number>();
  const ports = new Map<string, number>();
  v.forEach((item, i) => {
    const path = ['bridges', i];
    const o = c.record(item, path, BRIDGE_KEYS, ['id', 'port', 'slots'], 'a bridge');
    if (!o) return;
    const id = c.string(o, 'id', path, ID_PATTERN, 'ids use letters, digits, "_", "-" and "." only');
    const portRaw = c.string(o, 'port', path);
    const baudRate = c.integer(o, 'baudRate', path, 300, 16_000_000) ?? DEFAULTS.bridgeBaudRate;
    const { min, max } = LIMITS.bridgeSlots;
    const slots = c.integer(o, 'slots', path, min, max, `a bridge drives ${min} to ${max} card channels`);
    let dup = false;
    if (id !== undefined) {
      const first = ids.get(id);
      if (first !== undefined) {
        dup = true;
        c.report([...path, 'id'], `bridge id "${id}" is already used by bridges[${first}]`, 'give every bridge its own id');
      } else ids.set(id, i);
    }
    const port = portRaw === undefined ? undefined : resolveDevicePath(dir, portRaw);
    if (port !== undefined) {
      const first = ports.get(port);
      if (first !== undefined) {
        dup = true;
        c.report([...path, 'port'], `port ${portRaw} is already used by bridges[${first}]`, 'each bridge has its own serial device; /dev/serial/by-id/… names tell them apart');
      } else ports.set(port, i);
    }
    if (id !== undefined && port !== undefined && slots !== undefined && !dup) out.push({ id, port, baudRate, slots });
  });
  return out;
}

function checkReaders(c: Checker, v: unknown, bridgeIds: Set<string>): Reader[] {
  const out: Reader[] = [];
  if (v === undefined) return out;
  if (!Array.isArray(v)) {
    c.report(['readers'], `"readers" must be a list, not ${describeValue(v)}`, 'write "readers": [{ "id": "r0", "name": "ACS ACR39U ICC Reader 00 00" }]');
    return out;
  }
  if (v.length === 0) c.report(['readers'], 'no readers', 'add a reader: { "id": "r0", "name": "…" } (`ifpp bench readers` lists the names), or remove "readers"');
  const ids = new Map<string, number>();
  const names = new Map<string, number>();
  v.forEach((item, i) => {
    const path = ['readers', i];
    const o = c.record(item, path, READER_KEYS, ['id', 'name'], 'a reader');
    if (!o) return;
    const id = c.string(o, 'id', path, ID_PATTERN, 'ids use letters, digits, "_", "-" and "." only');
    const name = c.string(o, 'name', path, /\S/, 'the reader\'s PC/SC name or a pattern of it (`ifpp bench readers` lists the names)');
    let dup = false;
    if (id !== undefined) {
      const first = ids.get(id);
      if (first !== undefined) {
        dup = true;
        c.report([...path, 'id'], `reader id "${id}" is already used by readers[${first}]`, 'give every reader its own id');
      } else if (bridgeIds.has(id)) {
        dup = true;
        c.report([...path, 'id'], `reader id "${id}" is already a bridge's id`, 'bridges and readers carry slots under one set of ids: give the reader another');
      } else ids.set(id, i);
    }
    if (name !== undefined) {
      const first = names.get(name);
      if (first !== undefined) {
        dup = true;
        c.report([...path, 'name'], `reader name "${name}" is already used by readers[${first}]`, 'one reader holds one card: name another reader (its exact name tells two of a kind apart)');
      } else names.set(name, i);
    }
    if (id !== undefined && name !== undefined && !dup) out.push({ id, name });
  });
  return out;
}

function checkSlots(c: Checker, v: unknown, bridges: Bridge[], bridgeIndex: Map<string, number>, allBridgeIds: Set<string>, allReaderIds: Set<string>): Slot[] {
  const out: Slot[] = [];
  if (v === undefined) return out;
  if (!Array.isArray(v)) {
    c.report(['slots'], `"slots" must be a list, not ${describeValue(v)}`, 'write "slots": [{ "id": "A1", "bridge": "b0", "channel": 0, "row": 1, "col": 1 }]');
    return out;
  }
  if (v.length === 0) c.report(['slots'], 'no slots', 'add at least one slot');
  const ids = new Map<string, number>();
  const channels = new Map<string, number>();
  const places = new Map<string, number>();
  v.forEach((item, i) => {
    const path = ['slots', i];
    const o = c.record(item, path, SLOT_KEYS, ['id', 'row', 'col'], 'a slot');
    if (!o) return;
    const before = c.problems.length;
    const id = c.string(o, 'id', path, ID_PATTERN, 'ids use letters, digits, "_", "-" and "." only');
    // A slot is a bridge channel or a PC/SC reader, never both.
    const inReader = o.reader !== undefined;
    const both = inReader && (o.bridge !== undefined || o.channel !== undefined);
    if (both) {
      c.report([...path, 'reader'], 'a slot is either a bridge channel ("bridge" + "channel") or a reader ("reader"), not both', 'keep one of them');
    } else if (!inReader && o.bridge === undefined) {
      c.report([...path], 'a slot needs "bridge" and "channel" (a bridge channel) or "reader" (a PC/SC reader)', 'add "bridge": "b0", "channel": 0, or "reader": "r0"');
    } else if (!inReader && o.channel === undefined) {
      c.report([...path], 'a bridge slot needs "channel"', 'add "channel": 0 (channels count from 0 on each bridge)');
    }
    const readerId = inReader && !both ? c.string(o, 'reader', path) : undefined;
    const bridgeId = inReader || o.bridge === undefined ? undefined : c.string(o, 'bridge', path);
    const channel = inReader || o.channel === undefined ? undefined : c.integer(o, 'channel', path, 0, LIMITS.bridgeSlots.max - 1, 'channels count from 0 on each bridge');
    const row = c.integer(o, 'row', path, 1, 1000, 'rows and columns count from 1');
    const col = c.integer(o, 'col', path, 1, 1000, 'rows and columns count from 1');
    const enabled = c.boolean(o, 'enabled', path) ?? DEFAULTS.slotEnabled;
    const socket = o.socket === undefined ? undefined : c.string(o, 'socket', path, ID_PATTERN, 'name a kind of contact from "maintenance.sockets", e.g. "pogo"');
    const pins: Partial<Pick<Slot, (typeof SLOT_PIN_ROLES)[number]>> = {};
    for (const role of SLOT_PIN_ROLES) {
      const p = role === 'presence' ? c.inputPin(o, role, path) : c.outputPin(o, role, path);
      if (p) (pins as Record<string, InputPin | OutputPin>)[role] = p;
    }
    const label = id === undefined ? `slots[${i}]` : `slots[${i}] ("${id}")`;

    if (id !== undefined) {
      const first = ids.get(id);
      if (first !== undefined) c.report([...path, 'id'], `slot id "${id}" is already used by slots[${first}]`, 'give every slot its own id');
      else ids.set(id, i);
    }
    if (bridgeId !== undefined) {
      const bi = bridgeIndex.get(bridgeId);
      const bridge = bi === undefined ? undefined : bridges[bi];
      if (!allBridgeIds.has(bridgeId)) {
        const guess = closest(bridgeId, allBridgeIds);
        c.report(
          [...path, 'bridge'],
          `no bridge "${bridgeId}"`,
          guess ? `did you mean "${guess}"?` : allBridgeIds.size ? `known bridges: ${[...allBridgeIds].join(', ')}` : 'add the bridge to "bridges"',
        );
      } else if (bridge && channel !== undefined) {
        if (channel >= bridge.slots) {
          c.report(
            [...path, 'channel'],
            `channel ${channel} does not exist: bridge "${bridge.id}" has ${bridge.slots} slot${bridge.slots === 1 ? '' : 's'} (channels 0..${bridge.slots - 1})`,
            `use a free channel below ${bridge.slots}, or raise bridges[${bi}].slots`,
          );
        } else {
          const key = `${bridge.id}#${channel}`;
          const first = channels.get(key);
          if (first !== undefined) c.report([...path, 'channel'], `bridge "${bridge.id}" channel ${channel} is already used by slots[${first}]`, 'one card channel serves one slot; pick a free channel');
          else channels.set(key, i);
        }
      }
    }
    if (readerId !== undefined) {
      if (!allReaderIds.has(readerId)) {
        const guess = closest(readerId, allReaderIds);
        c.report([...path, 'reader'], `no reader "${readerId}"`, guess ? `did you mean "${guess}"?` : allReaderIds.size ? `known readers: ${[...allReaderIds].join(', ')}` : 'add the reader to "readers"');
      } else {
        const key = `reader#${readerId}`;
        const first = channels.get(key);
        if (first !== undefined) c.report([...path, 'reader'], `reader "${readerId}" is already used by slots[${first}]`, 'a reader holds one card: one slot per reader');
        else channels.set(key, i);
      }
    }
    if (row !== undefined && col !== undefined) {
      const key = `${row},${col}`;
      const first = places.get(key);
      if (first !== undefined) c.report([...path, 'row'], `${label} sits at row ${row}, col ${col}, where slots[${first}] already is`, 'every slot needs its own row/col in the layout');
      else places.set(key, i);
    }
    if (c.problems.length === before && id !== undefined && row !== undefined && col !== undefined) {
      const carrier = readerId !== undefined ? { bridge: readerId, channel: 0, reader: readerId } : bridgeId !== undefined && channel !== undefined ? { bridge: bridgeId, channel } : undefined;
      if (carrier) out.push({ id, ...carrier, row, col, enabled, ...pins, ...(socket !== undefined ? { socket } : {}) });
    }
  });
  return out;
}

function checkLoading(c: Checker, v: unknown): LoadingConfig {
  const d = DEFAULTS.loading;
  if (v === undefined) return { ...d, retry: { ...d.retry } };
  const path = ['loading'];
  // (vcc, clockHz: supply class and card clock for every slot)
  const o = c.record(v, path, ['blockSize', 'logicalChannel', 'pps', 'vcc', 'clockHz', 'retry', 'dialect'], [], '"loading"');
  if (!o) return { ...d, retry: { ...d.retry } };
  const { blockSize: bs, logicalChannel: lc, maxAttemptsPerChip: ma, timeoutFactor: tf } = LIMITS;
  const blockSize = c.integer(o, 'blockSize', path, bs.min, bs.max, 'STORE DATA carries at most 255 data bytes; lower it only for chips or modems that need smaller blocks') ?? d.blockSize;
  const logicalChannel = c.integer(o, 'logicalChannel', path, lc.min, lc.max, '0 is the basic channel; 1..3 basic, 4..19 extended logical channels') ?? d.logicalChannel;
  const pps = c.boolean(o, 'pps', path) ?? d.pps;
  const vcc = c.oneOf(o, 'vcc', path, VCC_CLASSES) ?? d.vcc;
  const clockHz = c.integer(o, 'clockHz', path, LIMITS.clockHz.min, LIMITS.clockHz.max, 'card clock in Hz; eUICCs run up to 5 MHz at Fi 512 (ISO 7816-3 Table 7)') ?? d.clockHz;
  const retry = { ...d.retry };
  if (o.retry !== undefined) {
    const rp = [...path, 'retry'];
    const ro = c.record(o.retry, rp, ['maxAttemptsPerChip', 'timeoutFactor'], [], '"retry"');
    if (ro) {
      retry.maxAttemptsPerChip = c.integer(ro, 'maxAttemptsPerChip', rp, ma.min, ma.max, 'every attempt past BF23 burns one of the chip\'s one-time keys; 2 is usual') ?? retry.maxAttemptsPerChip;
      retry.timeoutFactor = c.number(ro, 'timeoutFactor', rp, tf.min, tf.max) ?? retry.timeoutFactor;
    }
  }
  return { blockSize, logicalChannel, pps, vcc, clockHz, retry, dialect: checkDialect(c, o, path) ?? d.dialect };
}

/** A built-in dialect's name, or a module path (resolved; its export is checked when loaded). */
function checkDialect(c: Checker, o: Obj, path: PathSegment[]): string | undefined {
  const v = c.string(o, 'dialect', path);
  if (v === undefined) return undefined;
  if (isDialectModulePath(v)) {
    const abs = c.localPath(o, 'dialect', path)!;
    if (!existsSync(abs)) c.report([...path, 'dialect'], `dialect module ${abs} does not exist`, 'give the path of a .mjs/.js module exporting the dialect, relative to this config file');
    return abs;
  }
  if (!dialectByName(v)) {
    const names = builtInDialectNames();
    const guess = closest(v, names);
    c.report([...path, 'dialect'], `"${v}" is not a built-in eUICC dialect`, guess ? `did you mean "${guess}"? (or give the path of a dialect module, e.g. "./acme-dialect.mjs")` : `use one of: ${names.join(', ')}, or the path of a dialect module`);
    return undefined;
  }
  return v;
}

function checkEidPolicy(c: Checker, v: unknown): EidPolicy {
  const out: EidPolicy = { ...DEFAULTS.eidPolicy };
  if (v === undefined) return out;
  const o = c.record(v, ['eidPolicy'], ['verifyCheckDigits', 'unknownEid', 'alreadyProvisioned'], [], '"eidPolicy"');
  if (!o) return out;
  out.verifyCheckDigits = c.boolean(o, 'verifyCheckDigits', ['eidPolicy']) ?? out.verifyCheckDigits;
  out.unknownEid = c.oneOf(o, 'unknownEid', ['eidPolicy'], UNKNOWN_EID_ACTIONS) ?? out.unknownEid;
  out.alreadyProvisioned = c.oneOf(o, 'alreadyProvisioned', ['eidPolicy'], ALREADY_PROVISIONED_ACTIONS) ?? out.alreadyProvisioned;
  return out;
}

function checkPostChecks(c: Checker, v: unknown): PostChecks {
  const out: PostChecks = { ...DEFAULTS.postChecks };
  if (v === undefined) return out;
  const keys = ['verifyProfileListed', 'deleteUnusedOneTimeKeys', 'closeFpaServices'] as const;
  const o = c.record(v, ['postChecks'], keys, [], '"postChecks"');
  if (!o) return out;
  for (const k of keys) out[k] = c.boolean(o, k, ['postChecks']) ?? out[k];
  return out;
}

function checkInventory(c: Checker, v: unknown): InventoryConfig | undefined {
  if (v === undefined) return undefined;
  const probe = isObj(v) ? v : {};
  const pgKeys = ['kind', 'url', 'stationId', 'leaseSeconds', 'heartbeatSeconds'];
  const o = c.record(v, ['inventory'], pgKeys, probe.kind === 'postgres' ? ['kind', 'url', 'stationId'] : ['kind'], '"inventory"');
  if (!o) return undefined;
  const kind = c.oneOf(o, 'kind', ['inventory'], INVENTORY_KINDS);
  if (kind === 'local') {
    for (const k of pgKeys.slice(1)) if (o[k] !== undefined) c.report(['inventory', k], `"${k}" applies only to "kind": "postgres"`, 'remove it, or set "kind": "postgres"');
    return { kind: 'local' };
  }
  if (kind !== 'postgres') return undefined;
  const url = c.string(o, 'url', ['inventory'], /^postgres(ql)?:\/\/[^\s]+$/, 'write a PostgreSQL URL: "postgres://user@host:5432/dbname"');
  if (url && /^postgres(ql)?:\/\/[^/@:]+:[^@/]+@/.test(url)) {
    c.report(['inventory', 'url'], 'the URL holds a password', 'keep passwords out of the config file: remove it from the URL and set PGPASSWORD or use ~/.pgpass');
  }
  const stationId = c.string(o, 'stationId', ['inventory'], /^[A-Za-z0-9._-]{1,64}$/, 'use 1-64 letters, digits, ".", "_" or "-", unique on the line');
  const leaseSeconds = c.integer(o, 'leaseSeconds', ['inventory'], LIMITS.leaseSeconds.min, LIMITS.leaseSeconds.max) ?? DEFAULTS.leaseSeconds;
  const heartbeatSeconds = c.integer(o, 'heartbeatSeconds', ['inventory'], LIMITS.heartbeatSeconds.min, LIMITS.heartbeatSeconds.max) ?? DEFAULTS.heartbeatSeconds;
  if (heartbeatSeconds * 2 > leaseSeconds) {
    c.report(['inventory', 'heartbeatSeconds'], `a heartbeat every ${heartbeatSeconds} s cannot keep a ${leaseSeconds} s lease fresh`, 'make leaseSeconds at least twice heartbeatSeconds');
  }
  if (!url || !stationId) return undefined;
  return { kind: 'postgres', url, stationId, leaseSeconds, heartbeatSeconds };
}

function checkMaintenance(c: Checker, v: unknown, slots: Slot[], kind: StationKind | undefined): MaintenanceConfig {
  const sockets: Record<string, SocketKind> = Object.fromEntries(Object.entries(DEFAULTS.maintenance.sockets).map(([k, s]) => [k, { ...s }]));
  const o = v === undefined ? undefined : c.record(v, ['maintenance'], ['sockets'], [], '"maintenance"');
  if (o && o.sockets !== undefined) {
    const path = ['maintenance', 'sockets'];
    if (!isObj(o.sockets)) c.report(path, `"sockets" must be an object, not ${describeValue(o.sockets)}`, 'write "sockets": { "pogo": { "cycleLimit": 100000 } }');
    else
      for (const [name, sv] of Object.entries(o.sockets)) {
        const sp = [...path, name];
        if (!ID_PATTERN.test(name)) c.report(sp, `socket kind "${name}" is not a valid name`, 'use letters, digits, "_", "-" and "." only');
        const so = c.record(sv, sp, ['cycleLimit', 'warnAtPercent'], ['cycleLimit'], `socket kind "${name}"`);
        if (!so) continue;
        const cycleLimit = c.integer(so, 'cycleLimit', sp, LIMITS.cycleLimit.min, LIMITS.cycleLimit.max, "contact cycles the vendor rates the pins or socket for");
        const warnAtPercent = c.integer(so, 'warnAtPercent', sp, LIMITS.warnAtPercent.min, LIMITS.warnAtPercent.max, 'share of the limit at which the slot warns') ?? sockets[name]?.warnAtPercent ?? 90;
        if (cycleLimit !== undefined) sockets[name] = { cycleLimit, warnAtPercent };
      }
  }
  const fallback = kind === 'panel-jig' ? 'pogo' : 'socket';
  slots.forEach((s, i) => {
    const name = s.socket ?? fallback;
    if (!sockets[name]) {
      const guess = closest(name, new Set(Object.keys(sockets)));
      c.report(['slots', i, 'socket'], `no socket kind "${name}" in "maintenance.sockets"`, guess ? `did you mean "${guess}"?` : `known kinds: ${Object.keys(sockets).join(', ')}`);
    }
  });
  return { sockets };
}

function checkMetrics(c: Checker, v: unknown): MetricsConfig {
  const d = DEFAULTS.metrics;
  const out: MetricsConfig = { summaryEverySeconds: d.summaryEverySeconds, recentYield: { ...d.recentYield } };
  if (v === undefined) return out;
  const path = ['metrics'];
  const o = c.record(v, path, ['summaryEverySeconds', 'recentYield'], [], '"metrics"');
  if (!o) return out;
  const L = LIMITS;
  out.summaryEverySeconds = c.number(o, 'summaryEverySeconds', path, L.summaryEverySeconds.min, L.summaryEverySeconds.max) ?? out.summaryEverySeconds;
  if (o.recentYield !== undefined) {
    const rp = [...path, 'recentYield'];
    const ro = c.record(o.recentYield, rp, ['units', 'minUnits', 'dropPoints'], [], '"recentYield"');
    if (ro) {
      const r = out.recentYield;
      r.units = c.integer(ro, 'units', rp, L.recentYieldUnits.min, L.recentYieldUnits.max, 'judged units per slot that make its recent yield') ?? r.units;
      r.minUnits = c.integer(ro, 'minUnits', rp, 1, L.recentYieldUnits.max, 'judged units needed before a slot can be flagged') ?? r.minUnits;
      r.dropPoints = c.number(ro, 'dropPoints', rp, L.dropPoints.min, L.dropPoints.max) ?? r.dropPoints;
      if (r.minUnits > r.units) c.report([...rp, 'minUnits'], `minUnits (${r.minUnits}) is more than units (${r.units})`, 'a slot never holds more than "units" recent units; lower minUnits');
    }
  }
  return out;
}

function checkSimulation(c: Checker, v: unknown): SimulationSection | undefined {
  if (v === undefined) return undefined;
  // The simulators own this section's keys; the station checks only its outline.
  if (!isObj(v)) {
    c.report(['simulation'], `"simulation" must be an object, not ${describeValue(v)}`, 'remove it, or write "simulation": { "world": "…" }');
    return undefined;
  }
  if (v.world !== undefined) c.string(v, 'world', ['simulation']);
  return v as SimulationSection;
}

function checkKind(c: Checker, kind: StationKind, raw: Obj, board: Obj | undefined, slots: unknown): void {
  if (kind === 'panel-jig') {
    if (raw.board === undefined) {
      c.report(['board'], 'a panel-jig needs a board (clamp, two-hand start, e-stop, guard)', 'add a "board" section; see fixtures-config/real-jig-template.jsonc');
      return;
    }
    if (!board) return;
    const need: Array<[string, string]> = [
      ['clamp', 'add "clamp": { "output": …, "closedSensor": … }'],
      ['startButtons', 'add "startButtons": { "left": …, "right": …, "windowMs": 500 }'],
      ['estop', 'wire the emergency stop (normally closed) to a pin and add "estop": { "pin": …, "pullup": true }'],
      ['guard', 'add "guard": { "type": "lid" | "light-curtain", "pin": … }'],
    ];
    for (const [key, hint] of need) {
      if (board[key] === undefined) c.report(['board', key], `a panel-jig needs "${key}"`, hint);
    }
  } else {
    if (board) {
      for (const key of ['clamp', 'startButtons']) {
        if (board[key] !== undefined) c.report(['board', key], `a socket-programmer has no ${key === 'clamp' ? 'clamp' : 'two-hand start'}: each slot starts on its own presence input`, 'remove it, or set "kind": "panel-jig"');
      }
    }
    // Without a board, slots start on the bridge's own card-detect (a bench or a handler cell).
    if (board && Array.isArray(slots)) {
      slots.forEach((s, i) => {
        if (isObj(s) && s.presence === undefined) c.report(['slots', i, 'presence'], 'a socket-programmer slot on a jig board needs a presence input', 'add "presence": { "pin": …, "activeLow": true, "pullup": true }; the slot starts when it goes active');
      });
    }
  }
}

export function validateStationConfig(raw: unknown, opts: ValidateOptions): ValidationResult {
  const c = new Checker(opts);
  const o = c.record(raw, [], ROOT_KEYS, ROOT_REQUIRED, 'the station configuration');
  if (!o) return { config: undefined, problems: c.problems };

  if (o.format !== undefined && o.format !== CONFIG_FORMAT) {
    c.report(['format'], `unsupported format ${describeValue(o.format)}`, `this station reads "${CONFIG_FORMAT}"; remove the key or fix it`);
  }
  const name = c.string(o, 'name', []);
  const kind = c.oneOf(o, 'kind', [], STATION_KINDS);
  const store = c.localPath(o, 'store', []);
  const journal = c.localPath(o, 'journal', []);
  const reports = c.localPath(o, 'reports', []);

  let board: Board | undefined;
  if (o.board !== undefined) board = checkBoard(c, o.board, opts.dir).board;
  else c.setBoard(undefined, false);

  const bridges = checkBridges(c, o.bridges, opts.dir, o.readers !== undefined);
  if (board) {
    const clash = bridges.findIndex((b) => b.port === board.port);
    if (clash >= 0) c.report(['bridges', clash, 'port'], `port ${board.port} is the board's port`, 'the Firmata board and each bridge need their own serial device');
  }
  const bridgeIndex = new Map(bridges.map((b, i) => [b.id, i]));
  // Ids of every bridge the file names, valid or not, so a broken bridge does not also turn
  // each of its slots into "missing bridge".
  const allBridgeIds = new Set<string>(
    Array.isArray(o.bridges) ? o.bridges.flatMap((b) => (isObj(b) && typeof b.id === 'string' ? [b.id] : [])) : [],
  );
  const readers = checkReaders(c, o.readers, allBridgeIds);
  const allReaderIds = new Set<string>(Array.isArray(o.readers) ? o.readers.flatMap((r) => (isObj(r) && typeof r.id === 'string' ? [r.id] : [])) : []);
  if (o.bridges === undefined && o.readers === undefined) {
    c.report([], 'no "bridges" and no "readers": nothing carries the slots', 'add "bridges": [{ "id": "b0", "port": "…", "slots": 8 }] or "readers": [{ "id": "r0", "name": "…" }]');
  }
  const slots = checkSlots(c, o.slots, bridges, bridgeIndex, allBridgeIds, allReaderIds);

  const loading = checkLoading(c, o.loading);
  const eidPolicy = checkEidPolicy(c, o.eidPolicy);
  const postChecks = checkPostChecks(c, o.postChecks);
  const inventory = checkInventory(c, o.inventory);
  const maintenance = checkMaintenance(c, o.maintenance, slots, kind);
  const metrics = checkMetrics(c, o.metrics);
  const simulation = checkSimulation(c, o.simulation);
  if (kind) checkKind(c, kind, o, isObj(o.board) ? o.board : undefined, o.slots);

  // Problems in file order where lines are known (discovery order otherwise; sort is stable).
  const order = (p: ConfigProblem): number => p.line ?? Number.MAX_SAFE_INTEGER;
  c.problems.sort((a, b) => order(a) - order(b));
  if (c.problems.length > 0 || !name || !kind || !store || !journal || !reports) return { config: undefined, problems: c.problems };
  return {
    config: {
      format: CONFIG_FORMAT,
      name,
      kind,
      store,
      journal,
      reports,
      ...(board ? { board } : {}),
      bridges,
      ...(readers.length ? { readers } : {}),
      slots,
      loading,
      eidPolicy,
      postChecks,
      ...(inventory ? { inventory } : {}),
      maintenance,
      metrics,
      ...(simulation ? { simulation } : {}),
      source: { file: opts.source ?? opts.file, dir: opts.dir },
    },
    problems: [],
  };
}
