/**
 * Typed verbs, replies and events of the bridge line protocol (hardware/PROTOCOL.md §4, §5),
 * on top of the frame codec. The simulator decodes requests and encodes replies with these;
 * the station driver does the reverse.
 */
import { toHex } from '../bytes.ts';
import { BridgeProtocolError } from './errors.ts';
import { MAX_BATCH_LINE, formatEvent, formatRequest, type EventFrame, type RequestFrame, type SlotField } from './frame.ts';

export const PROTOCOL_VERSION = 1;

export type VccClass = 'A' | 'B' | 'C';
export type ResetKind = 'COLD' | 'WARM';

export type BridgeRequest =
  | { verb: 'INFO' }
  | { verb: 'STATUS'; slot: number }
  | { verb: 'POWER'; slot: number; vcc: VccClass | 'OFF' }
  | { verb: 'CLOCK'; slot: number; hz: number }
  | { verb: 'RESET'; slot: number; kind: ResetKind }
  | { verb: 'PPS'; slot: number; pps: Uint8Array }
  | { verb: 'TPDU'; slot: number; tpdu: Uint8Array }
  /** Optional (INFO `APDU=1`): one short command APDU, 61xx / 6Cxx followed up at the bridge. */
  | { verb: 'APDU'; slot: number; apdu: Uint8Array }
  /** Optional (INFO `BATCH=n`): 1..n APDUs run in order, stopping at the first answer that is not a bare 9000. */
  | { verb: 'APDUS'; slot: number; apdus: readonly Uint8Array[] };

export type Verb = BridgeRequest['verb'];
export const VERBS: readonly Verb[] = ['INFO', 'STATUS', 'POWER', 'CLOCK', 'RESET', 'PPS', 'TPDU', 'APDU', 'APDUS'];

/** Largest T=0 TPDU: 5-byte header + 255 data bytes. */
export const MAX_TPDU = 260;
/** Largest card answer to a TPDU: 256 data bytes + SW1 SW2. */
export const MAX_TPDU_RESPONSE = 258;
/** Largest short command APDU: header, Lc, 255 data bytes, Le. */
export const MAX_APDU = 261;
/** The APDU verb stops collecting response data at this many bytes (one short Le's worth). */
export const MAX_APDU_RESPONSE_DATA = 256;
/** ... and after this many GET RESPONSE commands; the host fetches the rest with TPDU. */
export const MAX_APDU_GET_RESPONSES = 4;
/** Durations are unsigned 32-bit microsecond counts on the wire; longer ones saturate. */
export const MAX_MICROS = 0xffffffff;

export interface BridgeInfo {
  protocol: number;
  firmware: string;
  slots: number;
  fminHz: number;
  fmaxHz: number;
  /** Clock a slot starts with after power-up. */
  fdefHz: number;
  /** Voltage classes the bridge can supply, e.g. "ABC". */
  classes: string;
  /** TA1-style Fi/Di bytes the bridge UART can run. */
  ta1: Uint8Array;
  /** Line limit in bytes including `\n`. */
  maxLine: number;
  /** The bridge runs the APDU verb (INFO key `APDU=1`); absent key = no. */
  apdu: boolean;
  /** Total time cap of one TPDU or APDU in ms (INFO key `CAP=`; past it the bridge answers TIMEOUT); absent = not reported. */
  capMs?: number;
  /** Most APDUs per APDUS request (INFO key `BATCH=`); absent = the bridge has no APDUS verb. */
  batch?: number;
}

export type SlotState = 'EMPTY' | 'OFF' | 'ON' | 'READY' | 'FAULT';
export const SLOT_STATES: readonly SlotState[] = ['EMPTY', 'OFF', 'ON', 'READY', 'FAULT'];

export interface SlotStatus {
  state: SlotState;
  busy: boolean;
  /** Id of the last request this slot finished (answered or not), 0 when none since power-up. */
  lastId: number;
  vcc: VccClass | 'OFF';
  clockHz: number;
  /** Fi/Di in force on the I/O line, as a TA1-style byte. */
  ta1: number;
}

/** Reply of RESET, PPS and TPDU: the card's bytes and the card-contact time in microseconds. */
export interface CardReply {
  data: Uint8Array;
  micros: number;
}

/** Reply of APDUS: how many APDUs ran, the last one's answer (data then SW1 SW2) and the summed card-contact time. */
export interface BatchReply extends CardReply {
  count: number;
}

export interface ReplyMap {
  INFO: BridgeInfo;
  STATUS: SlotStatus;
  POWER: Record<string, never>;
  CLOCK: { hz: number };
  RESET: CardReply;
  PPS: CardReply;
  TPDU: CardReply;
  APDU: CardReply;
  APDUS: BatchReply;
}

export type BridgeEvent = { event: 'CARD'; slot: number; present: boolean } | { event: 'FAULT'; slot: SlotField; code: string };

/** Fault codes the simulator raises; firmware may add others (hosts treat unknown ones as FAULT). */
export const FAULT_CODES = ['OVERCURRENT', 'UNDERVOLTAGE', 'OVERHEAT'] as const;

// ---- argument helpers ----

const HEX_RE = /^(?:[0-9A-Fa-f]{2})+$/;
const DEC_RE = /^[0-9]{1,10}$/;

export function hexArg(b: Uint8Array): string {
  return toHex(b).toUpperCase();
}

function argError(what: string, frame?: { id?: number; slot?: SlotField }): BridgeProtocolError {
  return new BridgeProtocolError('ARG', what, frame ? { ...(frame.id !== undefined ? { id: frame.id } : {}), ...(frame.slot !== undefined ? { slot: frame.slot } : {}) } : {});
}

function parseHex(s: string | undefined, what: string, f?: { id?: number; slot?: SlotField }): Uint8Array {
  if (s === undefined || !HEX_RE.test(s)) throw argError(`${what} must be an even number of hex digits`, f);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

function parseDec(s: string | undefined, what: string, f?: { id?: number; slot?: SlotField }): number {
  if (s === undefined || !DEC_RE.test(s)) throw argError(`${what} must be a decimal number`, f);
  const n = Number(s);
  if (n > 0xffffffff) throw argError(`${what} exceeds 32 bits`, f);
  return n;
}

/** Checks the T=0 TPDU shape: 5 bytes (case 1/2), or header + P3 data bytes with P3 >= 1 (case 3). */
export function tpduShapeOk(tpdu: Uint8Array): boolean {
  if (tpdu.length === 5) return true;
  return tpdu.length > 5 && tpdu.length <= MAX_TPDU && tpdu[4] === tpdu.length - 5;
}

/** Checks a short command APDU: case 1 (4 bytes), 2 (5), 3 (5 + Lc), 4 (6 + Lc), Lc 1..255 (no extended length). */
export function apduShapeOk(apdu: Uint8Array): boolean {
  if (apdu.length === 4 || apdu.length === 5) return true;
  const lc = apdu[4];
  return apdu.length > 5 && apdu.length <= MAX_APDU && lc !== undefined && lc !== 0 && (apdu.length === 5 + lc || apdu.length === 6 + lc);
}

// ---- requests ----

export function encodeRequest(id: number, req: BridgeRequest): string {
  const slot: SlotField = req.verb === 'INFO' ? null : req.slot;
  let args: string[];
  switch (req.verb) {
    case 'INFO':
    case 'STATUS':
      args = [];
      break;
    case 'POWER':
      args = [req.vcc];
      break;
    case 'CLOCK':
      args = [String(req.hz)];
      break;
    case 'RESET':
      args = [req.kind];
      break;
    case 'PPS':
      args = [hexArg(req.pps)];
      break;
    case 'TPDU':
      args = [hexArg(req.tpdu)];
      break;
    case 'APDU':
      args = [hexArg(req.apdu)];
      break;
    case 'APDUS':
      // Longer than 600 bytes by design: the caller keeps to the bridge's INFO LINE.
      return formatRequest({ id, slot, verb: req.verb, args: req.apdus.map(hexArg) }, MAX_BATCH_LINE);
  }
  return formatRequest({ id, slot, verb: req.verb, args });
}

/**
 * Decodes a parsed request frame into a typed request. Checks verb, argument shape and that
 * the slot field suits the verb; the slot's range (the bridge's slot count) is the caller's.
 */
export function decodeRequest(f: RequestFrame): BridgeRequest {
  const where = { id: f.id, slot: f.slot };
  const want = (n: number) => {
    if (f.args.length !== n) throw argError(`${f.verb} takes ${n} argument(s), got ${f.args.length}`, where);
  };
  if (!(VERBS as readonly string[]).includes(f.verb)) throw new BridgeProtocolError('VERB', `unknown verb ${f.verb}`, where);
  if (f.verb === 'INFO') {
    if (f.slot !== null) throw new BridgeProtocolError('SLOT', 'INFO takes the "-" slot field', where);
    want(0);
    return { verb: 'INFO' };
  }
  if (f.slot === null) throw new BridgeProtocolError('SLOT', `${f.verb} needs a slot index`, where);
  const slot = f.slot;
  switch (f.verb) {
    case 'STATUS':
      want(0);
      return { verb: 'STATUS', slot };
    case 'POWER': {
      want(1);
      const v = f.args[0]!;
      if (v !== 'A' && v !== 'B' && v !== 'C' && v !== 'OFF') throw argError('POWER takes A, B, C or OFF', where);
      return { verb: 'POWER', slot, vcc: v };
    }
    case 'CLOCK':
      want(1);
      return { verb: 'CLOCK', slot, hz: parseDec(f.args[0], 'clock frequency', where) };
    case 'RESET': {
      want(1);
      const k = f.args[0]!;
      if (k !== 'COLD' && k !== 'WARM') throw argError('RESET takes COLD or WARM', where);
      return { verb: 'RESET', slot, kind: k };
    }
    case 'PPS': {
      want(1);
      const pps = parseHex(f.args[0], 'PPS request', where);
      if (pps.length < 3 || pps.length > 6) throw argError('a PPS request is 3 to 6 bytes', where);
      return { verb: 'PPS', slot, pps };
    }
    case 'APDU': {
      want(1);
      const apdu = parseHex(f.args[0], 'APDU', where);
      if (!apduShapeOk(apdu)) throw argError('an APDU is a short command APDU of case 1 to 4 (Lc 1..255, no extended length)', where);
      return { verb: 'APDU', slot, apdu };
    }
    case 'APDUS': {
      if (f.args.length === 0) throw argError('APDUS takes at least one APDU', where);
      const apdus = f.args.map((a, i) => {
        const apdu = parseHex(a, `APDU ${i + 1}`, where);
        if (!apduShapeOk(apdu)) throw argError(`APDU ${i + 1} is not a short command APDU of case 1 to 4 (Lc 1..255, no extended length)`, where);
        return apdu;
      });
      return { verb: 'APDUS', slot, apdus };
    }
    default: {
      want(1);
      const tpdu = parseHex(f.args[0], 'TPDU', where);
      if (!tpduShapeOk(tpdu)) throw argError('a T=0 TPDU is a 5-byte header, or a header whose P3 counts the data bytes that follow', where);
      return { verb: 'TPDU', slot, tpdu };
    }
  }
}

// ---- replies ----

function micros(n: number): string {
  return String(Math.min(MAX_MICROS, Math.max(0, Math.round(n))));
}

/** The argument tokens of an `OK` reply. */
export function encodeReply<V extends Verb>(verb: V, r: ReplyMap[V]): string[] {
  switch (verb) {
    case 'INFO': {
      const i = r as BridgeInfo;
      return [
        `PROTO=${i.protocol}`,
        `FW=${i.firmware}`,
        `SLOTS=${i.slots}`,
        `FMIN=${i.fminHz}`,
        `FMAX=${i.fmaxHz}`,
        `FDEF=${i.fdefHz}`,
        `CLASSES=${i.classes}`,
        `TA1=${hexArg(i.ta1)}`,
        `LINE=${i.maxLine}`,
        ...(i.apdu ? ['APDU=1'] : []),
        ...(i.batch !== undefined ? [`BATCH=${i.batch}`] : []),
        ...(i.capMs !== undefined ? [`CAP=${i.capMs}`] : []),
      ];
    }
    case 'STATUS': {
      const s = r as SlotStatus;
      return [s.state, s.busy ? 'BUSY' : 'IDLE', s.lastId.toString(16).toUpperCase(), `VCC=${s.vcc}`, `CLK=${s.clockHz}`, `TA1=${hexArg(Uint8Array.of(s.ta1))}`];
    }
    case 'POWER':
      return [];
    case 'CLOCK':
      return [String((r as { hz: number }).hz)];
    case 'APDUS': {
      const b = r as BatchReply;
      return [String(b.count), hexArg(b.data), micros(b.micros)];
    }
    default: {
      const c = r as CardReply;
      return [hexArg(c.data), micros(c.micros)];
    }
  }
}

// Module-level helpers (not closures per call): decodeReply runs for every line the station reads.
function replyError(verb: Verb, why: string): BridgeProtocolError {
  return new BridgeProtocolError('SYNTAX', `${verb} reply: ${why}`);
}

function replyKv(args: readonly string[], from: number): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = from; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    if (eq > 0) m.set(a.slice(0, eq), a.slice(eq + 1));
  }
  return m;
}

function replyDec(verb: Verb, s: string | undefined, what: string): number {
  if (s === undefined || !DEC_RE.test(s)) throw replyError(verb, `${what} missing or not decimal`);
  return Number(s);
}

function replyHex(verb: Verb, s: string | undefined, what: string): Uint8Array {
  if (s === undefined || !HEX_RE.test(s)) throw replyError(verb, `${what} missing or not hex`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** Decodes the argument tokens of an `OK` reply to `verb`. Unknown INFO/STATUS keys are ignored. */
export function decodeReply<V extends Verb>(verb: V, args: readonly string[]): ReplyMap[V] {
  switch (verb) {
    case 'INFO': {
      const m = replyKv(args, 0);
      const firmware = m.get('FW');
      if (firmware === undefined) throw replyError(verb, 'FW missing');
      const info: BridgeInfo = {
        protocol: replyDec(verb, m.get('PROTO'), 'PROTO'),
        firmware,
        slots: replyDec(verb, m.get('SLOTS'), 'SLOTS'),
        fminHz: replyDec(verb, m.get('FMIN'), 'FMIN'),
        fmaxHz: replyDec(verb, m.get('FMAX'), 'FMAX'),
        fdefHz: replyDec(verb, m.get('FDEF'), 'FDEF'),
        classes: m.get('CLASSES') ?? '',
        ta1: replyHex(verb, m.get('TA1'), 'TA1'),
        maxLine: replyDec(verb, m.get('LINE'), 'LINE'),
        apdu: m.get('APDU') === '1',
        ...(m.has('CAP') ? { capMs: replyDec(verb, m.get('CAP'), 'CAP') } : {}),
        ...(m.has('BATCH') ? { batch: replyDec(verb, m.get('BATCH'), 'BATCH') } : {}),
      };
      return info as ReplyMap[V];
    }
    case 'STATUS': {
      const state = args[0] as SlotState;
      if (!SLOT_STATES.includes(state)) throw replyError(verb, `unknown slot state ${args[0]}`);
      if (args[1] !== 'BUSY' && args[1] !== 'IDLE') throw replyError(verb, 'second token must be BUSY or IDLE');
      if (args[2] === undefined || !/^[0-9A-Fa-f]{1,4}$/.test(args[2])) throw replyError(verb, 'last id missing');
      const m = replyKv(args, 3);
      const vcc = m.get('VCC');
      if (vcc !== 'A' && vcc !== 'B' && vcc !== 'C' && vcc !== 'OFF') throw replyError(verb, 'VCC missing');
      const ta1 = replyHex(verb, m.get('TA1'), 'TA1');
      if (ta1.length !== 1) throw replyError(verb, 'TA1 must be one byte');
      const s: SlotStatus = { state, busy: args[1] === 'BUSY', lastId: parseInt(args[2], 16), vcc, clockHz: replyDec(verb, m.get('CLK'), 'CLK'), ta1: ta1[0]! };
      return s as ReplyMap[V];
    }
    case 'POWER':
      return {} as ReplyMap[V];
    case 'CLOCK':
      return { hz: replyDec(verb, args[0], 'frequency') } as ReplyMap[V];
    case 'APDUS': {
      const count = replyDec(verb, args[0], 'count');
      if (count < 1) throw replyError(verb, 'count must be at least 1');
      const b: BatchReply = { count, data: replyHex(verb, args[1], 'card data'), micros: replyDec(verb, args[2], 'duration') };
      return b as ReplyMap[V];
    }
    default: {
      const c: CardReply = { data: replyHex(verb, args[0], 'card data'), micros: replyDec(verb, args[1], 'duration') };
      return c as ReplyMap[V];
    }
  }
}

// ---- events ----

export function encodeEvent(e: BridgeEvent): string {
  return e.event === 'CARD' ? formatEvent(e.slot, 'CARD', [e.present ? 'IN' : 'OUT']) : formatEvent(e.slot, 'FAULT', [e.code]);
}

/** Decodes an event frame; undefined for events this version does not know (hosts ignore them). */
export function decodeEvent(f: EventFrame): BridgeEvent | undefined {
  if (f.name === 'CARD' && f.slot !== null && (f.args[0] === 'IN' || f.args[0] === 'OUT') && f.args.length === 1) {
    return { event: 'CARD', slot: f.slot, present: f.args[0] === 'IN' };
  }
  if (f.name === 'FAULT' && f.args.length === 1 && /^[A-Z]{1,12}$/.test(f.args[0]!)) return { event: 'FAULT', slot: f.slot, code: f.args[0]! };
  return undefined;
}
