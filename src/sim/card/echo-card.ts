/**
 * A small T=0 test card for the bridge simulator and driver tests. Instruction set
 * (CLA 80 unless noted):
 *   80 EE 00 00 Lc <data>  ECHO (case 4): answers 61Lc; GET RESPONSE returns <data> + 9000
 *   00 C0 00 00 Le         GET RESPONSE (any CLA)
 *   80 CA 00 00 Le         GET DATA (case 2): returns the configured data; wrong Le -> 6Cxx
 *   80 E2 P1 P2 Lc <data>  STORE (case 3): accepts the data -> 9000
 *   80 DE 00 00 00         GO MUTE: the card stops answering until powered off (tests)
 * Other INS -> 6D00, other CLA -> 6E00, both answered right after the header.
 */
import { fromHex } from '../../core/bytes.ts';
import { buildAtr } from '../../core/bridge-protocol/iso7816.ts';
import { CardMuteError, T0Responder, type CardFactory, type CardResetKind, type SimCard, type TpduResult } from './card-model.ts';

export interface EchoCardOptions {
  /** TA1 the ATR proposes (default 0x96: Fi 512, Di 32). */
  ta1?: number;
  /** TC1 extra guard time N (absent by default). */
  tc1?: number;
  /** TC2 waiting time integer WI (absent by default, i.e. 10). */
  wi?: number;
  /** Historical bytes, hex (default "4543484f" = "ECHO"). */
  historical?: string;
  atrDelayClocks?: number;
  /** Processing time per command in seconds (default 0.0005). */
  processingSeconds?: number;
  /** Added processing time per data byte in or out, in seconds (default 0). */
  perByteSeconds?: number;
  /** How the card answers PPS: accept (echo), decline (answer without PPS1), mute (no answer). */
  ppsMode?: 'accept' | 'decline' | 'mute';
  /** Content of GET DATA, hex (default 000102...0F). */
  data?: string;
  /** The card never answers a reset. */
  muteAtr?: boolean;
  /** Most response data per answer (default 256); less makes longer answers chain 61xx. */
  chunk?: number;
}

export class EchoCard implements SimCard {
  readonly atrDelayClocks: number;
  private readonly responder: T0Responder;
  private readonly atrBytes: Uint8Array;
  private readonly data: Uint8Array;
  private mute = false;
  /** Bytes accepted by STORE since the last reset (tests look at it). */
  stored = 0;

  constructor(private readonly opts: EchoCardOptions = {}) {
    this.atrDelayClocks = opts.atrDelayClocks ?? 400;
    this.responder = new T0Responder(opts.chunk);
    this.atrBytes = buildAtr({
      ta1: opts.ta1 ?? 0x96,
      ...(opts.tc1 !== undefined ? { tc1: opts.tc1 } : {}),
      ...(opts.wi !== undefined ? { wi: opts.wi } : {}),
      historical: fromHex(opts.historical ?? '4543484f', 'historical bytes'),
    });
    this.data = opts.data !== undefined ? fromHex(opts.data, 'GET DATA content') : Uint8Array.from({ length: 16 }, (_, i) => i);
  }

  atr(_kind: CardResetKind): Uint8Array {
    if (this.opts.muteAtr || this.mute) throw new CardMuteError('card does not answer the reset');
    this.responder.reset();
    this.stored = 0;
    return this.atrBytes.slice();
  }

  pps(request: Uint8Array): Uint8Array | null {
    switch (this.opts.ppsMode ?? 'accept') {
      case 'accept':
        return request.slice();
      case 'decline': {
        const pps0 = request[1]! & 0x0f;
        return Uint8Array.of(0xff, pps0, 0xff ^ pps0);
      }
      case 'mute':
        return null;
    }
  }

  async transmitTpdu(tpdu: Uint8Array): Promise<TpduResult> {
    if (this.mute) throw new CardMuteError('card went mute');
    const cla = tpdu[0]!;
    const ins = tpdu[1]!;
    const body = tpdu.subarray(5);
    const done = (response: Uint8Array, earlySw = false): TpduResult => ({
      response,
      processingSeconds: (this.opts.processingSeconds ?? 0.0005) + (this.opts.perByteSeconds ?? 0) * (body.length + response.length - 2),
      ...(earlySw ? { earlySw } : {}),
    });
    const gr = this.responder.getResponse(tpdu);
    if (gr) return done(gr);
    if (cla !== 0x80 && cla !== 0x00) return done(Uint8Array.of(0x6e, 0x00), true);
    if (cla === 0x80 && ins === 0xee) return done(this.responder.respond(tpdu, body.slice(), 0x9000));
    if (cla === 0x80 && ins === 0xca) return done(this.responder.respond(tpdu, this.data, 0x9000));
    if (cla === 0x80 && ins === 0xe2) {
      this.stored += body.length;
      return done(this.responder.respond(tpdu, new Uint8Array(), 0x9000));
    }
    if (cla === 0x80 && ins === 0xde) {
      this.mute = true;
      throw new CardMuteError('card went mute on request');
    }
    this.responder.reset();
    return done(Uint8Array.of(0x6d, 0x00), tpdu.length > 5);
  }

  powerOff(): void {
    this.mute = false;
    this.responder.reset();
  }
}

/** Card factory for the bridge process (`--card-module` default). */
export const createCard: CardFactory = ({ options }) => new EchoCard((options ?? {}) as EchoCardOptions);
