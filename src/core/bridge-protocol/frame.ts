/**
 * Frame codec of the bridge line protocol (hardware/PROTOCOL.md §2): one ASCII line per frame,
 *
 *   <id> <slot> <WORD> [args...] *<CRC>\n
 *
 * `id` 1-4 hex digits (0 = not attributable, `!` = unsolicited event), `slot` one hex digit or
 * `-`, CRC-16/CCITT-FALSE over everything before ` *`. Shared by the bridge simulator and the
 * station's bridge driver; pure, no I/O.
 */
import { crc16Hex } from './crc16.ts';
import { BridgeProtocolError, type WireErrorCode } from './errors.ts';

/** Longest line either side sends or accepts, in bytes, including the final `\n`. */
export const MAX_LINE = 600;
/**
 * Longest request line a bridge with the APDUS verb may accept (its INFO `LINE`); the codec
 * encodes APDUS lines up to this and the host keeps to the bridge's own LINE.
 */
export const MAX_BATCH_LINE = 65535;
/** Most slots one bridge serves (the slot field is one hex digit). */
export const MAX_SLOTS = 16;

/** `null` is the `-` slot field: the bridge itself rather than one slot. */
export type SlotField = number | null;

export interface RequestFrame {
  id: number;
  slot: SlotField;
  verb: string;
  args: string[];
}

export type ResponseFrame =
  | { kind: 'response'; id: number; slot: SlotField; ok: true; args: string[] }
  | { kind: 'response'; id: number; slot: SlotField; ok: false; error: string };

export interface EventFrame {
  kind: 'event';
  slot: SlotField;
  name: string;
  args: string[];
}

export type BridgeFrame = ResponseFrame | EventFrame;

const ID_RE = /^[0-9A-Fa-f]{1,4}$/;
const SLOT_RE = /^(?:[0-9A-Fa-f]|-)$/;
const WORD_RE = /^[A-Z]{1,12}$/;
// Printable ASCII except space and '*': '*' only ever introduces the CRC.
const TOKEN_RE = /^[\x21-\x29\x2B-\x7E]+$/;
const SEALED_RE = /^([\s\S]*) \*([0-9A-Fa-f]{4})$/;

/** Appends ` *CRC\n` to a frame body. */
export function sealLine(body: string, max = MAX_LINE): string {
  const line = `${body} *${crc16Hex(body)}\n`;
  if (line.length > max) throw new BridgeProtocolError('LINE', `frame of ${line.length} bytes exceeds the ${max}-byte line limit`);
  return line;
}

/**
 * Checks a received line's length and CRC and returns its body. Accepts the line with or
 * without its `\n`, and ignores one `\r` before it (terminals send CRLF).
 */
export function unsealLine(line: string, max = MAX_LINE): string {
  let s = line.endsWith('\n') ? line.slice(0, -1) : line;
  if (s.endsWith('\r')) s = s.slice(0, -1);
  if (s.length + 1 > max) throw new BridgeProtocolError('LINE', `line of ${s.length + 1} bytes exceeds the ${max}-byte limit`);
  const m = SEALED_RE.exec(s);
  if (!m) throw new BridgeProtocolError('CRC', 'line has no " *XXXX" checksum');
  const body = m[1]!;
  const want = crc16Hex(body);
  if (m[2]!.toUpperCase() !== want) throw new BridgeProtocolError('CRC', `checksum ${m[2]} does not match ${want}`);
  return body;
}

function tokens(body: string): string[] {
  const t = body.split(' ');
  for (const x of t) if (!TOKEN_RE.test(x)) throw new BridgeProtocolError('SYNTAX', 'tokens must be printable ASCII separated by single spaces');
  return t;
}

function parseSlot(tok: string): SlotField {
  return tok === '-' ? null : parseInt(tok, 16);
}

function slotText(slot: SlotField): string {
  if (slot === null) return '-';
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new BridgeProtocolError('SLOT', `slot ${slot} is not 0..${MAX_SLOTS - 1}`);
  return slot.toString(16).toUpperCase();
}

function idText(id: number): string {
  if (!Number.isInteger(id) || id < 1 || id > 0xffff) throw new BridgeProtocolError('SYNTAX', `request id ${id} is not 1..FFFF`);
  return id.toString(16).toUpperCase();
}

function argsText(args: readonly string[]): string {
  let s = '';
  for (const a of args) {
    if (!TOKEN_RE.test(a)) throw new BridgeProtocolError('ARG', `argument "${a}" is empty or has a space, '*' or non-ASCII`);
    s += ' ' + a;
  }
  return s;
}

/** A complete request line (with CRC and `\n`), at most `max` bytes. */
export function formatRequest(f: RequestFrame, max = MAX_LINE): string {
  if (!WORD_RE.test(f.verb)) throw new BridgeProtocolError('VERB', `verb "${f.verb}" is not 1-12 upper-case letters`);
  return sealLine(`${idText(f.id)} ${slotText(f.slot)} ${f.verb}${argsText(f.args)}`, max);
}

/** `id` 0 is allowed here: it answers a line whose id could not be read. */
export function formatOk(id: number, slot: SlotField, args: readonly string[] = []): string {
  return sealLine(`${id === 0 ? '0' : idText(id)} ${slotText(slot)} OK${argsText(args)}`);
}

export function formatErr(id: number, slot: SlotField, code: WireErrorCode): string {
  return sealLine(`${id === 0 ? '0' : idText(id)} ${slotText(slot)} ERR ${code}`);
}

export function formatEvent(slot: SlotField, name: string, args: readonly string[] = []): string {
  if (!WORD_RE.test(name)) throw new BridgeProtocolError('SYNTAX', `event name "${name}" is not 1-12 upper-case letters`);
  return sealLine(`! ${slotText(slot)} ${name}${argsText(args)}`);
}

/**
 * Parses a line received by the bridge. Throws BridgeProtocolError whose `wire` code is what
 * the bridge answers, with `id`/`slot` set when those fields were readable (so they can be
 * echoed; CRC and LINE failures never carry them: an unchecked id must not be trusted).
 */
export function parseRequest(line: string, max = MAX_LINE): RequestFrame {
  const t = tokens(unsealLine(line, max));
  const idTok = t[0]!;
  const id = ID_RE.test(idTok) ? parseInt(idTok, 16) : undefined;
  if (id === undefined || id === 0) throw new BridgeProtocolError('SYNTAX', `request id "${idTok}" is not 1-4 hex digits (not 0)`);
  const slotTok = t[1];
  if (slotTok === undefined || !SLOT_RE.test(slotTok)) throw new BridgeProtocolError('SYNTAX', 'slot field must be one hex digit or "-"', { id });
  const slot = parseSlot(slotTok);
  const verb = t[2];
  if (verb === undefined || !WORD_RE.test(verb)) throw new BridgeProtocolError('SYNTAX', 'verb must be 1-12 upper-case letters', { id, slot });
  return { id, slot, verb, args: t.slice(3) };
}

/** Parses a line received by the host: a response (`<id> ...`) or an event (`! ...`). */
export function parseBridgeLine(line: string): BridgeFrame {
  const t = tokens(unsealLine(line));
  const [idTok, slotTok, word] = t;
  if (slotTok === undefined || !SLOT_RE.test(slotTok) || word === undefined || !WORD_RE.test(word)) {
    throw new BridgeProtocolError('SYNTAX', 'expected "<id|!> <slot> <WORD> ..."');
  }
  const slot = parseSlot(slotTok);
  if (idTok === '!') return { kind: 'event', slot, name: word, args: t.slice(3) };
  if (!ID_RE.test(idTok!)) throw new BridgeProtocolError('SYNTAX', `response id "${idTok}" is not hex`);
  const id = parseInt(idTok!, 16);
  if (word === 'OK') return { kind: 'response', id, slot, ok: true, args: t.slice(3) };
  if (word === 'ERR' && t.length === 4 && WORD_RE.test(t[3]!)) return { kind: 'response', id, slot, ok: false, error: t[3]! };
  throw new BridgeProtocolError('SYNTAX', 'response word must be "OK ..." or "ERR <CODE>"', { id, slot });
}

/**
 * Splits a byte stream into lines the way the firmware does: a fixed buffer of MAX_LINE bytes;
 * a longer line is dropped up to its `\n` and reported once through `onOverflow`.
 * Lines are handed over without the `\n`, as latin1 strings (byte = char code).
 */
export class LineAssembler {
  private buf: string[] = [];
  private len = 0;
  private overflow = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
    private readonly max = MAX_LINE,
  ) {}

  push(chunk: Uint8Array): void {
    let start = 0;
    // indexOf is native: lines run to 600 bytes and every one passes through here.
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, start)) {
      this.take(chunk.subarray(start, i));
      const line = this.buf.length === 1 ? this.buf[0]! : this.buf.join('');
      const over = this.overflow;
      this.buf = [];
      this.len = 0;
      this.overflow = false;
      if (over) this.onOverflow();
      else this.onLine(line);
      start = i + 1;
    }
    this.take(chunk.subarray(start));
  }

  private take(part: Uint8Array): void {
    if (this.overflow || part.length === 0) return;
    // max counts the '\n', so the content may hold max - 1 bytes.
    if (this.len + part.length > this.max - 1) {
      this.overflow = true;
      this.buf = [];
      this.len = 0;
      return;
    }
    this.buf.push(Buffer.from(part.buffer, part.byteOffset, part.length).toString('latin1'));
    this.len += part.length;
  }
}

export type { WireErrorCode };
