/**
 * Error codes of the bridge line protocol (hardware/PROTOCOL.md §6) and the typed error the
 * codec throws. The same codes travel on the wire in `ERR <CODE>` responses, so a decoding
 * failure on either side maps one to one onto what the bridge answers.
 */
import { IfppError } from '../errors.ts';

export const WIRE_ERRORS = {
  CRC: 'line checksum missing or wrong; the line was not executed',
  LINE: 'line longer than the bridge line buffer; discarded',
  SYNTAX: 'line does not follow the frame grammar',
  VERB: 'unknown verb',
  ARG: 'wrong arguments for the verb',
  SLOT: 'slot index out of range, or slot field wrong for the verb',
  BUSY: 'a request for this slot is still outstanding',
  NOCARD: 'no card in the slot',
  STATE: 'not allowed in the slot state (e.g. TPDU before RESET, PPS after the first TPDU)',
  FAULT: 'slot is in fault state; POWER OFF clears it',
  MUTE: 'card did not answer the reset or the PPS request',
  TIMEOUT: 'card stopped answering during a TPDU (work waiting time exceeded)',
  PROTO: 'card broke the character protocol (bad ATR, procedure byte or PPS answer)',
  UNSUPPORTED: 'clock, voltage class or Fi/Di not supported by this bridge',
  OVERRUN: 'the bridge lost data: host bytes (a full receive buffer; the line was not executed) or events of a slot (its request failed, slot deactivated)',
} as const;

export type WireErrorCode = keyof typeof WIRE_ERRORS;

export function isWireErrorCode(s: string): s is WireErrorCode {
  return Object.prototype.hasOwnProperty.call(WIRE_ERRORS, s);
}

/**
 * A line that cannot be decoded or a request that cannot be served. `wire` is the code the
 * bridge answers with; `id` and `slot` are set when they could be read from the line (the
 * bridge echoes them), `slot` is null for the `-` slot field.
 */
export class BridgeProtocolError extends IfppError {
  readonly wire: WireErrorCode;
  readonly id: number | undefined;
  readonly slot: number | null | undefined;

  constructor(wire: WireErrorCode, message: string, opts: { id?: number; slot?: number | null; hint?: string } = {}) {
    super(`BRIDGE_${wire}`, message, opts.hint === undefined ? {} : { hint: opts.hint });
    this.wire = wire;
    this.id = opts.id;
    this.slot = opts.slot;
  }
}

