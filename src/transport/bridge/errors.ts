/**
 * Typed errors of the station's bridge driver. Every failure names the bridge's port, and the
 * slot and request where there is one, so a loader can fail exactly the slots concerned and an
 * operator can tell an unplugged bridge from a mute card.
 *
 * Codes:
 * - BRIDGE_ERR_<CODE>     the bridge answered `ERR <CODE>` (hardware/PROTOCOL.md §6), e.g.
 *                         BRIDGE_ERR_NOCARD, BRIDGE_ERR_TIMEOUT (the card went silent; the
 *                         bridge's own waiting-time limit, not ours), BRIDGE_ERR_BUSY
 * - BRIDGE_TIMEOUT        no answer within the host-side timeout; `executed` tells whether the
 *                         bridge ran the request (its STATUS lastId) or never got it
 * - BRIDGE_ANSWER_LOST    the bridge finished the request (STATUS idle, lastId = its id) but its
 *                         answer never arrived; found by the answer check within about a second,
 *                         not after the timeout. Do not resend: treat the operation as failed
 * - BRIDGE_REQUEST_LOST   the bridge is idle and never saw the request (lastId older); resending is safe
 * - BRIDGE_CRC            the answer (or the request) was garbled on the link; `executed` as above
 * - BRIDGE_OVERRUN        the bridge's receive buffer was full and lost the request (`0 - ERR OVERRUN`); `executed` as above
 * - BRIDGE_DISCONNECTED   the port closed, vanished or the bridge stopped answering; every
 *                         request on that bridge fails with it
 * - BRIDGE_CLOSED         the driver was closed by its owner
 * - BRIDGE_PORT_UNAVAILABLE, BRIDGE_NOT_A_BRIDGE, BRIDGE_PROTOCOL_VERSION  (open)
 * - BRIDGE_BAD_REPLY      an OK line whose results do not parse
 * - BRIDGE_SLOT_INACTIVE  a TPDU on a slot that is not activated (never, or since a reconnect,
 *                         card removal, fault or card failure)
 * - BRIDGE_BAD_ATR, BRIDGE_NO_T0, BRIDGE_ARG  (slot activation and argument checks)
 */
import { IfppError } from '../../core/errors.ts';
import { WIRE_ERRORS, isWireErrorCode } from '../../core/bridge-protocol/errors.ts';

export interface BridgeErrorContext {
  /** Serial path of the bridge. */
  port: string;
  /** Slot index, null for the bridge-wide `-`, undefined when no request is involved. */
  slot?: number | null;
  /** Request id (hex on the wire). */
  requestId?: number;
  verb?: string;
  /** The wire code of an `ERR <CODE>` answer. */
  wire?: string;
  /**
   * Whether the bridge executed the request whose answer is missing: true (STATUS lastId shows
   * it ran: do not resend a non-idempotent command, treat it as failed), false (it never
   * arrived: resending is safe), undefined (unknown).
   */
  executed?: boolean;
}

export class BridgeError extends IfppError {
  readonly port: string;
  readonly slot: number | null | undefined;
  readonly requestId: number | undefined;
  readonly verb: string | undefined;
  readonly wire: string | undefined;
  readonly executed: boolean | undefined;

  constructor(code: string, message: string, ctx: BridgeErrorContext, opts: { hint?: string; cause?: unknown } = {}) {
    const details: Record<string, unknown> = { port: ctx.port };
    if (ctx.slot !== undefined) details.slot = ctx.slot;
    if (ctx.requestId !== undefined) details.requestId = ctx.requestId;
    if (ctx.verb !== undefined) details.verb = ctx.verb;
    if (ctx.wire !== undefined) details.wire = ctx.wire;
    if (ctx.executed !== undefined) details.executed = ctx.executed;
    super(code, message, { details, ...(opts.hint !== undefined ? { hint: opts.hint } : {}), ...(opts.cause !== undefined ? { cause: opts.cause } : {}) });
    this.port = ctx.port;
    this.slot = ctx.slot;
    this.requestId = ctx.requestId;
    this.verb = ctx.verb;
    this.wire = ctx.wire;
    this.executed = ctx.executed;
  }
}

/** What to do about each `ERR <CODE>` the bridge can answer, for operators and integrators. */
const WIRE_HINTS: Record<string, string> = {
  NOCARD: 'no card in the slot, or it was pulled: insert the chip and activate the slot again',
  FAULT: 'the slot supply faulted (short or over-current?): check the socket, then POWER OFF and activate again',
  MUTE: 'the card did not answer the reset or PPS: check the chip is seated and the supply class suits it',
  TIMEOUT: 'the card stopped answering mid-command (its waiting time ran out); the slot is off: activate it again',
  PROTO: 'the card broke the T=0 character protocol (parity, procedure byte, ATR); the slot is off: activate it again',
  STATE: 'the slot is not in a state for this command (not powered, not reset, PPS after a TPDU)',
  UNSUPPORTED: 'the bridge cannot run this clock, voltage class or Fi/Di',
  BUSY: 'the bridge still works on an earlier request for this slot',
  CRC: 'the request was garbled on the link; check the cable and the baud rate',
  LINE: 'a line exceeded the bridge line limit',
};

export function wireErrorHint(wire: string): string {
  return WIRE_HINTS[wire] ?? (isWireErrorCode(wire) ? WIRE_ERRORS[wire] : 'unknown bridge error code (newer firmware?)');
}

/** The error for an `ERR <CODE>` answer. */
export function bridgeErrAnswer(wire: string, ctx: Omit<BridgeErrorContext, 'wire'>): BridgeError {
  const what = isWireErrorCode(wire) ? WIRE_ERRORS[wire] : 'unknown error';
  const where = ctx.slot === null || ctx.slot === undefined ? '' : ` slot ${ctx.slot}`;
  return new BridgeError(`BRIDGE_ERR_${wire}`, `bridge ${ctx.port}${where}: ${ctx.verb ?? 'request'} answered ERR ${wire} (${what})`, { ...ctx, wire }, { hint: wireErrorHint(wire) });
}
