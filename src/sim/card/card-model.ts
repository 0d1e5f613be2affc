/**
 * The card interface the bridge simulator drives: one simulated card (eUICC or test card) in
 * one slot. The bridge does the ISO 7816-3 character work (ATR parsing, PPS, T=0 procedure
 * bytes, timing); the card only answers at the level of whole ATRs, PPS exchanges and TPDUs.
 *
 * Contract for implementers (the eUICC simulator implements this later):
 * - `atr(kind)` is called on every cold or warm reset. It resets the card's session state
 *   (selected applications, logical channels, pending GET RESPONSE data) and returns the
 *   complete ATR (it must parse: TS, T0, interface bytes, historical bytes, TCK if T!=0).
 *   Throw CardMuteError to model a card that does not answer the reset.
 * - `pps(request)` is called only right after the ATR, with a well-formed PPS request. Return
 *   the answer (an echo = accepted; without PPS1 = stay at the defaults), or null = no answer.
 * - `transmitTpdu(tpdu)` gets one T=0 TPDU: 5-byte header, or header + P3 data bytes. It
 *   returns what the card sends back apart from procedure bytes: response data then SW1 SW2.
 *   T=0 rules apply: a command with data (case 3/4) answers SW only (use 61xx to announce
 *   response data, see T0Responder); a 5-byte command with data to return answers exactly
 *   P3 bytes (256 when P3 = 0) + SW, or 6Cxx when P3 is wrong. The bridge rejects anything
 *   else as a protocol error. `processingSeconds` is the card's own time from the last byte it
 *   received to its first answer byte beyond the 16-etu minimum turnaround (NULL procedure
 *   bytes sent meanwhile cost nothing extra). `earlySw` says the card answered SW right
 *   after the header without taking the command data (e.g. 6D00): that data never crosses
 *   the contact. Reject with CardMuteError to model a card that stops answering.
 * - `powerOff()` is called on deactivation (POWER OFF, card removal, fault, cold reset).
 */
import { IfppError } from '../../core/errors.ts';

export type CardResetKind = 'cold' | 'warm';

export interface TpduResult {
  /** Response data followed by SW1 SW2 (at least 2 bytes). */
  response: Uint8Array;
  /** Card processing time in seconds (see the module comment). */
  processingSeconds: number;
  /** The card answered SW right after the 5-byte header; command data was not transferred. */
  earlySw?: boolean;
}

export interface SimCard {
  atr(kind: CardResetKind): Uint8Array;
  /** Clock cycles between RST going high and the ATR's first character (ISO: 400..40000); default 400. */
  readonly atrDelayClocks?: number;
  pps(request: Uint8Array): Uint8Array | null;
  transmitTpdu(tpdu: Uint8Array): Promise<TpduResult>;
  powerOff(): void;
}

/** The card does not answer (no ATR, no PPS answer, no reply to a TPDU). */
export class CardMuteError extends IfppError {
  constructor(what = 'card is mute') {
    super('CARD_MUTE', what);
  }
}

/** How the bridge process builds the card for a slot: a module exporting `createCard`. */
export interface CardFactoryContext {
  /** Slot index 0..15. */
  slot: number;
  /** Free-form options from the process command line (JSON). */
  options: unknown;
}
export type CardFactory = (ctx: CardFactoryContext) => SimCard | Promise<SimCard>;

const INS_GET_RESPONSE = 0xc0;

function sw(v: number): Uint8Array {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}

/**
 * The T=0 response mechanics every card simulator needs (ISO 7816-3 §10.3, 7816-4 GET
 * RESPONSE): response data of a command that carried data is kept and announced with 61xx;
 * GET RESPONSE hands it out in chunks of up to 256 bytes; a wrong P3 earns 6Cxx with the
 * right length.
 */
export class T0Responder {
  private pending: { data: Uint8Array; sw: number } | undefined;

  /** maxChunk: most response data per answer (1..256); smaller pieces make a card chain 61xx (tests). */
  constructor(private readonly maxChunk = 256) {}

  /**
   * What the card sends for `tpdu` whose processing produced `data` and `sw`. Clears
   * anything pending from an earlier command.
   */
  respond(tpdu: Uint8Array, data: Uint8Array, status: number): Uint8Array {
    this.pending = undefined;
    if (data.length === 0) return sw(status);
    if (tpdu.length > 5) {
      // Case 4: the answer to a command with data cannot carry data under T=0.
      this.pending = { data, sw: status };
      return sw(0x6100 | (Math.min(data.length, this.maxChunk) & 0xff));
    }
    this.pending = { data, sw: status };
    return this.drain(tpdu[4]!);
  }

  /** Answers GET RESPONSE if `tpdu` is one (INS C0, 5 bytes), else undefined. */
  getResponse(tpdu: Uint8Array): Uint8Array | undefined {
    if (tpdu[1] !== INS_GET_RESPONSE || tpdu.length !== 5) return undefined;
    if (tpdu[2] !== 0 || tpdu[3] !== 0) return sw(0x6a86);
    if (!this.pending) return sw(0x6985);
    return this.drain(tpdu[4]!);
  }

  reset(): void {
    this.pending = undefined;
  }

  private drain(p3: number): Uint8Array {
    const p = this.pending!;
    const ne = p3 === 0 ? 256 : p3;
    const chunk = Math.min(p.data.length, this.maxChunk);
    // Wrong length: tell the host the right one; the data stays pending.
    if (ne !== chunk) return sw(0x6c00 | (chunk & 0xff));
    const rest = p.data.subarray(chunk);
    const out = new Uint8Array(chunk + 2);
    out.set(p.data.subarray(0, chunk));
    if (rest.length > 0) {
      this.pending = { data: rest, sw: p.sw };
      out.set(sw(0x6100 | (Math.min(rest.length, this.maxChunk) & 0xff)), chunk);
    } else {
      this.pending = undefined;
      out.set(sw(p.sw), chunk);
    }
    return out;
  }
}
