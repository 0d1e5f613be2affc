/**
 * Station configuration: what integrators write (`*Input` types: optional fields, pin
 * shorthands, relative paths) and what the station runs on (`StationConfig`: defaults
 * applied, pins as Firmata numbers, paths absolute). validate.ts turns one into the other;
 * docs/integrator-guide.md is the reference for every key.
 */

export const CONFIG_FORMAT = 'ifpp-station/1';

/**
 * `panel-jig`: one clamp cycle presses a panel onto every slot at once; safety inputs gate it.
 * `socket-programmer`: independent sockets; a DUT's presence input starts that slot alone.
 */
export type StationKind = 'panel-jig' | 'socket-programmer';
export const STATION_KINDS: readonly StationKind[] = ['panel-jig', 'socket-programmer'];

// ---------------------------------------------------------------------------------------
// Pins

/** A Firmata pin: its digital number, or an analog name "A0".."A15" (used as a digital pin). */
export type PinName = number | `A${number}`;

/** "Active" always means the named condition holds: pressed, closed, present, open, broken. */
export interface InputPinSpec {
  pin: PinName;
  /** The condition holds when the pin reads LOW (switch to ground). Default false. */
  activeLow?: boolean;
  /** Enable the board's internal pull-up. Default false. */
  pullup?: boolean;
}

export interface OutputPinSpec {
  pin: PinName;
  /** Drive LOW to switch on (sinking LED, active-low relay board). Default false. */
  activeLow?: boolean;
}

export type InputPinInput = PinName | InputPinSpec;
export type OutputPinInput = PinName | OutputPinSpec;

export interface InputPin {
  /** Firmata pin number (analog names resolved: on a Mega, "A0" is 54). */
  pin: number;
  /** The pin as the config wrote it, for messages ("A0", "22"). */
  label: string;
  activeLow: boolean;
  pullup: boolean;
}

export interface OutputPin {
  pin: number;
  label: string;
  activeLow: boolean;
}

// ---------------------------------------------------------------------------------------
// Board (the jig's Firmata board, driven through johnny-five)

export interface BoardModel {
  /** Digital pins 0..digitalPins-1; analog pins follow them: An is digitalPins + n. */
  digitalPins: number;
  analogPins: number;
  /** Analog inputs that cannot work as digital pins (the Nano's A6/A7): unusable here. */
  analogOnly: readonly number[];
}

export const BOARD_MODELS = {
  mega2560: { digitalPins: 54, analogPins: 16, analogOnly: [] },
  uno: { digitalPins: 14, analogPins: 6, analogOnly: [] },
  nano: { digitalPins: 14, analogPins: 8, analogOnly: [20, 21] },
} as const satisfies Record<string, BoardModel>;

export type BoardModelName = keyof typeof BOARD_MODELS | 'custom';

export type GuardType = 'lid' | 'light-curtain';
export const GUARD_TYPES: readonly GuardType[] = ['lid', 'light-curtain'];

export interface ClampInput {
  /** Output that closes the clamp (valve or actuator); off = open. */
  output: OutputPinInput;
  /** Input active when the clamp is fully closed. */
  closedSensor: InputPinInput;
  /** Give up (and open the clamp) when closedSensor is not active within this time. */
  closeTimeoutMs?: number;
}

export interface StartButtonsInput {
  left: InputPinInput;
  right: InputPinInput;
  /** Both buttons must go active within this window of each other. */
  windowMs?: number;
}

export interface GuardInput extends InputPinSpec {
  /** What the input watches; active = lid open / curtain interrupted. */
  type: GuardType;
}

export interface TowerLightInput {
  red?: OutputPinInput;
  amber?: OutputPinInput;
  green?: OutputPinInput;
  blue?: OutputPinInput;
}

export interface BoardInput {
  /** Serial device of the Firmata board (/dev/ttyACM0, /dev/serial/by-id/…, a simulator pty). */
  port: string;
  /** Firmata serial speed. Default 57600 (StandardFirmata). */
  baudRate?: number;
  /** Default "mega2560". "custom" needs digitalPins and analogPins. */
  model?: BoardModelName;
  digitalPins?: number;
  analogPins?: number;
  /** Pins nobody may use. Default [0, 1]: the serial link Firmata itself runs on. */
  reservedPins?: number[];
  clamp?: ClampInput;
  startButtons?: StartButtonsInput;
  /** Input active while the emergency stop is pressed (wire it normally closed). */
  estop?: InputPinInput;
  guard?: GuardInput;
  towerLight?: TowerLightInput;
  buzzer?: OutputPinInput;
}

export interface Clamp {
  output: OutputPin;
  closedSensor: InputPin;
  closeTimeoutMs: number;
}

export interface StartButtons {
  left: InputPin;
  right: InputPin;
  windowMs: number;
}

export interface Guard extends InputPin {
  type: GuardType;
}

export interface TowerLight {
  red?: OutputPin;
  amber?: OutputPin;
  green?: OutputPin;
  blue?: OutputPin;
}

export interface Board {
  /** Absolute device path (see resolveDevicePath). */
  port: string;
  baudRate: number;
  model: BoardModelName;
  digitalPins: number;
  analogPins: number;
  reservedPins: number[];
  clamp?: Clamp;
  startButtons?: StartButtons;
  estop?: InputPin;
  guard?: Guard;
  towerLight?: TowerLight;
  buzzer?: OutputPin;
}

// ---------------------------------------------------------------------------------------
// Bridges and slots

export const MAX_BRIDGE_SLOTS = 16;

export interface BridgeInput {
  /** Name slots refer to: letters, digits, "_", "-", ".". */
  id: string;
  /** Serial device of the bridge (hardware/PROTOCOL.md runs over it). */
  port: string;
  /** Host link speed. Default 921600. */
  baudRate?: number;
  /** Card channels on this bridge, 1..16. */
  slots: number;
}

export interface Bridge {
  id: string;
  port: string;
  baudRate: number;
  slots: number;
}

/** A PC/SC reader (USB smart-card reader on pcscd / WinSCard) that carries one slot. */
export interface ReaderInput {
  /** Name slots refer to: letters, digits, "_", "-", ".". */
  id: string;
  /**
   * The reader's PC/SC name, exactly ("ACS ACR39U ICC Reader 00 00"), or a pattern: `*`
   * wildcards, else a case-insensitive part of the name. A pattern keeps the slot bound to its
   * reader when USB re-enumerates it under another index; it must match one reader only.
   */
  name: string;
}

export interface Reader {
  id: string;
  name: string;
}

export interface SlotInput {
  /** Shown to operators and written to the journal: letters, digits, "_", "-", ".". */
  id: string;
  /** Bridge id and 0-based channel on it that carry this slot's card contacts (or "reader"). */
  bridge?: string;
  channel?: number;
  /** Instead of a bridge channel: the id of the PC/SC reader (in "readers") that holds the card. */
  reader?: string;
  /** Position in the physical layout, 1-based; row 1 is the top row as the operator faces the station. */
  row: number;
  col: number;
  /** A disabled slot keeps its wiring in the file but is never used. Default true. */
  enabled?: boolean;
  /** Switches the DUT supply on. */
  power?: OutputPinInput;
  /** Holds the DUT (its own MCU/modem) in reset so only the bridge talks to the eUICC. */
  reset?: OutputPinInput;
  /** Active while a DUT sits in the slot. Required on a socket-programmer. */
  presence?: InputPinInput;
  passLed?: OutputPinInput;
  failLed?: OutputPinInput;
  /** Kind of contact (a key of maintenance.sockets): sets its wear limit. Default "pogo" on a panel-jig, "socket" otherwise. */
  socket?: string;
}

export interface Slot {
  id: string;
  /**
   * Id of what carries the slot (its slot source): a bridge, or for a reader slot the reader's
   * id (then `reader` is set too and `channel` is 0).
   */
  bridge: string;
  channel: number;
  /** Set on a slot in a PC/SC reader: the reader's id (readers[].id). */
  reader?: string;
  row: number;
  col: number;
  enabled: boolean;
  power?: OutputPin;
  reset?: OutputPin;
  presence?: InputPin;
  passLed?: OutputPin;
  failLed?: OutputPin;
  /** Absent in hand-built configs: see socketKindOf (station/metrics/wear-policy.ts). */
  socket?: string;
}

export const SLOT_PIN_ROLES = ['power', 'reset', 'presence', 'passLed', 'failLed'] as const;
export type SlotPinRole = (typeof SLOT_PIN_ROLES)[number];
export const SLOT_INPUT_ROLES: readonly SlotPinRole[] = ['presence'];

// ---------------------------------------------------------------------------------------
// Loading and policies

export interface RetryPolicy {
  /** Load attempts per chip. Each attempt past BF23 burns a one-time key. Default 2. */
  maxAttemptsPerChip: number;
  /** A request times out after this many times its expected duration at the link speed. Default 3. */
  timeoutFactor: number;
}

export interface LoadingConfig {
  /** STORE DATA data bytes per APDU, 1..255. Default 255. */
  blockSize: number;
  /** Logical channel for the ISD-R, 0..19. Default 0 (basic channel). */
  logicalChannel: number;
  /** Negotiate a faster Fi/Di with PPS after the ATR. Default true. */
  pps: boolean;
  /** Supply class for the cards: A 5 V, B 3 V, C 1.8 V. Default C (eUICC). */
  vcc: VccClassName;
  /** Card clock in Hz for the session (reset and PPS run at most at 5 MHz). Default 5 MHz. */
  clockHz: number;
  retry: RetryPolicy;
  /**
   * The eUICC dialect (src/station/fpa/dialect.ts): a built-in dialect's name, or the path of a
   * module (.mjs/.js, relative to the config) exporting one, resolved to an absolute path.
   * Default "ifpp-project".
   */
  dialect: string;
}

export type VccClassName = 'A' | 'B' | 'C';
export const VCC_CLASSES: readonly VccClassName[] = ['A', 'B', 'C'];

export interface LoadingInput {
  blockSize?: number;
  logicalChannel?: number;
  pps?: boolean;
  vcc?: VccClassName;
  clockHz?: number;
  retry?: Partial<RetryPolicy>;
  dialect?: string;
}

export type UnknownEidAction = 'fail' | 'skip';
export const UNKNOWN_EID_ACTIONS: readonly UnknownEidAction[] = ['fail', 'skip'];

export type AlreadyProvisionedAction = 'skip' | 'load';
export const ALREADY_PROVISIONED_ACTIONS: readonly AlreadyProvisionedAction[] = ['skip', 'load'];

export interface EidPolicy {
  /** Reject an EID whose check digits are wrong (mod 97 != 1). Default true. */
  verifyCheckDigits: boolean;
  /** A chip whose EID has no BPP in the store: "fail" the slot, or "skip" it untouched. Default "fail". */
  unknownEid: UnknownEidAction;
  /**
   * A chip that already holds a profile of ours (the store/inventory has one of its BPPs
   * installed, or the chip lists an ICCID of its BPPs): "skip" ends the unit
   * already-provisioned without loading; "load" loads another BPP anyway (multi-profile
   * flows). Default "skip".
   */
  alreadyProvisioned: AlreadyProvisionedAction;
}

export interface PostChecks {
  /** After a load, read the profile list and require the new ICCID in it. Default true. */
  verifyProfileListed: boolean;
  /** End of production: delete the chip's unused one-time keys (DMF03). Default false. */
  deleteUnusedOneTimeKeys: boolean;
  /** End of production: close FPA services for good (GENS13). Default false. */
  closeFpaServices: boolean;
}

/** Wear limit of one kind of contact (pogo pins, a clamshell socket…), in contact cycles. */
export interface SocketKind {
  /** At this many cycles the slot is taken out of service until its counter is reset. */
  cycleLimit: number;
  /** Warn from this share of the limit on. Default 90. */
  warnAtPercent: number;
}

export interface MaintenanceConfig {
  /** Limits per kind of contact; slots name theirs with "socket". */
  sockets: Record<string, SocketKind>;
}

/** A slot whose recent first-pass yield drops well below the other slots' is flagged. */
export interface RecentYieldRule {
  /** The last this-many judged units of each slot (pass or real failure) make its recent yield. Default 50. */
  units: number;
  /** No flag before a slot (and the other slots together) have this many judged units. Default 20. */
  minUnits: number;
  /** Flag when the slot's recent yield is this many percentage points below the others'. Default 15. */
  dropPoints: number;
}

export interface MetricsConfig {
  /** Seconds between station.summary events (0 = only the final one). Default 60. */
  summaryEverySeconds: number;
  recentYield: RecentYieldRule;
}

/** Read only by the simulators; the station ignores it. Paths resolve like every other path. */
export interface SimulationSection {
  /** Folder of the simulated world (chips, SM-DPf, store). */
  world?: string;
  [key: string]: unknown;
}

// ---------------------------------------------------------------------------------------
// Inventory: where the BPPs are (docs/line-guide.md)

export type InventoryKind = 'local' | 'postgres';
export const INVENTORY_KINDS: readonly InventoryKind[] = ['local', 'postgres'];

export type InventoryConfig =
  /** The station's embedded store (the "store" folder): one station, no database. */
  | { kind: 'local' }
  /** A line of stations sharing one inventory in PostgreSQL. */
  | {
      kind: 'postgres';
      /** postgres://user@host:5432/db; the password from PGPASSWORD or ~/.pgpass, not the file. */
      url: string;
      /** This station's id in the line (letters, digits, "_", "-", "."); unique per line. */
      stationId: string;
      /** Lease on an in-flight claim, renewed by the heartbeat. Default 600. */
      leaseSeconds: number;
      /** Heartbeat and outbox period. Default 15. */
      heartbeatSeconds: number;
    };

export type InventoryInput = { kind?: InventoryKind; url?: string; stationId?: string; leaseSeconds?: number; heartbeatSeconds?: number };

// ---------------------------------------------------------------------------------------
// The whole station

export interface StationConfigInput {
  /** Optional version tag; when present it must be "ifpp-station/1". */
  format?: typeof CONFIG_FORMAT;
  name: string;
  kind: StationKind;
  /** BPP store folder. */
  store: string;
  /** Journal folder (per-chip results, crash recovery). */
  journal: string;
  /** Profile Loading Report output folder. */
  reports: string;
  /** The jig's Firmata board. Required when any pin is used. */
  board?: BoardInput;
  /** UART bridges. A station needs bridges, readers, or both. */
  bridges?: BridgeInput[];
  /** PC/SC readers, one slot each. */
  readers?: ReaderInput[];
  slots: SlotInput[];
  loading?: LoadingInput;
  eidPolicy?: Partial<EidPolicy>;
  postChecks?: Partial<PostChecks>;
  /** Where the BPPs are. Default { "kind": "local" } (the "store" folder). */
  inventory?: InventoryInput;
  maintenance?: { sockets?: Record<string, { cycleLimit: number; warnAtPercent?: number }> };
  metrics?: { summaryEverySeconds?: number; recentYield?: Partial<RecentYieldRule> };
  simulation?: SimulationSection;
}

export interface StationConfig {
  format: typeof CONFIG_FORMAT;
  name: string;
  kind: StationKind;
  store: string;
  journal: string;
  reports: string;
  board?: Board;
  bridges: Bridge[];
  /** Absent: no PC/SC readers. */
  readers?: Reader[];
  slots: Slot[];
  loading: LoadingConfig;
  eidPolicy: EidPolicy;
  postChecks: PostChecks;
  /** Absent: { kind: "local" }. */
  inventory?: InventoryConfig;
  /** Absent in hand-built configs: DEFAULTS.maintenance applies. */
  maintenance?: MaintenanceConfig;
  /** Absent in hand-built configs: DEFAULTS.metrics applies. */
  metrics?: MetricsConfig;
  simulation?: SimulationSection;
  /** Where the config came from; relative paths were resolved against `dir`. */
  source: { file: string; dir: string };
}

export const DEFAULTS = {
  boardModel: 'mega2560' as BoardModelName,
  boardBaudRate: 57600,
  reservedPins: [0, 1] as readonly number[],
  bridgeBaudRate: 921600,
  clampCloseTimeoutMs: 3000,
  twoHandWindowMs: 500,
  slotEnabled: true,
  loading: { blockSize: 255, logicalChannel: 0, pps: true, vcc: 'C', clockHz: 5_000_000, retry: { maxAttemptsPerChip: 2, timeoutFactor: 3 }, dialect: 'ifpp-project' } satisfies LoadingConfig,
  eidPolicy: { verifyCheckDigits: true, unknownEid: 'fail', alreadyProvisioned: 'skip' } satisfies EidPolicy,
  postChecks: { verifyProfileListed: true, deleteUnusedOneTimeKeys: true, closeFpaServices: true } satisfies PostChecks,
  leaseSeconds: 600,
  heartbeatSeconds: 15,
  // Typical vendor ratings: spring probes ~100k compressions, production test sockets ~10k insertions.
  maintenance: { sockets: { pogo: { cycleLimit: 100_000, warnAtPercent: 90 }, socket: { cycleLimit: 10_000, warnAtPercent: 90 } } } satisfies MaintenanceConfig,
  metrics: { summaryEverySeconds: 60, recentYield: { units: 50, minUnits: 20, dropPoints: 15 } } satisfies MetricsConfig,
} as const;

/** Limits the validator enforces (documented in the integrator guide). */
export const LIMITS = {
  twoHandWindowMs: { min: 50, max: 2000 },
  clampCloseTimeoutMs: { min: 100, max: 60_000 },
  blockSize: { min: 1, max: 255 },
  logicalChannel: { min: 0, max: 19 },
  clockHz: { min: 1_000_000, max: 20_000_000 },
  maxAttemptsPerChip: { min: 1, max: 10 },
  timeoutFactor: { min: 1, max: 100 },
  bridgeSlots: { min: 1, max: MAX_BRIDGE_SLOTS },
  leaseSeconds: { min: 30, max: 86_400 },
  heartbeatSeconds: { min: 1, max: 300 },
  cycleLimit: { min: 1, max: 100_000_000 },
  warnAtPercent: { min: 1, max: 100 },
  summaryEverySeconds: { min: 0, max: 86_400 },
  recentYieldUnits: { min: 5, max: 10_000 },
  dropPoints: { min: 1, max: 100 },
} as const;
