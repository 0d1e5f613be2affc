/**
 * A minimal T=0 reader for driving a SimCard directly (tests, demos): short command APDUs
 * (ISO 7816-3 cases 1–4) mapped onto TPDUs with 61xx / GET RESPONSE and 6Cxx handling, ES10
 * calls as STORE DATA blocks, and a BPP pushed call by call. Simulator-side tooling: the
 * station has its own driver.
 */
import { concatBytes } from '../../core/bytes.ts';
import { IfppError } from '../../core/errors.ts';
import { bppLoadCalls } from '../../core/rsp/bpp.ts';
import { channelOfCla, storeDataApdus, type StoreDataOptions } from '../../core/rsp/store-data.ts';
import { swHex, type ApduResponse } from '../../core/apdu.ts';
import type { SimCard } from '../card/card-model.ts';
import { ISDR_AID } from './profiles.ts';

export interface LoadOutcome {
  /** The BF37 the card answered (final or early), if any. */
  readonly pir: Uint8Array | undefined;
  /** Status word of the last call sent. */
  readonly sw: number;
  /** Load calls sent. */
  readonly calls: number;
}

/** Interindustry CLA of a logical channel (for GET RESPONSE, SELECT, MANAGE CHANNEL). */
export function interindustryCla(channel: number): number {
  return channel < 4 ? channel : 0x40 | (channel - 4);
}

function channelOf(cla: number): number {
  const p = channelOfCla(cla);
  if (p !== undefined) return p;
  return cla >= 0x40 ? 4 + (cla & 0x0f) : cla & 0x03;
}

const sw16 = (r: Uint8Array) => (r[r.length - 2]! << 8) | r[r.length - 1]!;

export class T0CardClient {
  /** Card processing time reported so far, seconds (the timing model, not wall time). */
  cardSeconds = 0;
  /** TPDUs exchanged so far. */
  tpdus = 0;

  constructor(readonly card: SimCard) {}

  async tpdu(t: Uint8Array): Promise<Uint8Array> {
    const r = await this.card.transmitTpdu(t.slice());
    this.cardSeconds += r.processingSeconds;
    this.tpdus++;
    return r.response;
  }

  /** Sends one short command APDU; returns its data and final status word. */
  async apdu(apdu: Uint8Array): Promise<ApduResponse> {
    if (apdu.length < 4) throw new IfppError('APDU_SHORT', `APDU of ${apdu.length} bytes`);
    const header = apdu.subarray(0, 4);
    let tpdu: Uint8Array;
    if (apdu.length === 4) tpdu = concatBytes(header, Uint8Array.of(0));
    else if (apdu.length === 5) tpdu = apdu;
    else {
      const lc = apdu[4]!;
      if (apdu.length !== 5 + lc && apdu.length !== 6 + lc) throw new IfppError('APDU_LENGTH', `Lc ${lc} does not match an APDU of ${apdu.length} bytes`);
      tpdu = apdu.subarray(0, 5 + lc); // Le is not sent under T=0 (case 4 answers 61xx)
    }
    let r = await this.tpdu(tpdu);
    let sw = sw16(r);
    if (apdu.length === 5 && sw >> 8 === 0x6c) {
      r = await this.tpdu(concatBytes(header, Uint8Array.of(sw & 0xff)));
      sw = sw16(r);
    }
    const parts: Uint8Array[] = [r.subarray(0, r.length - 2)];
    const cla = interindustryCla(channelOf(apdu[0]!));
    while (sw >> 8 === 0x61) {
      let le = sw & 0xff;
      r = await this.tpdu(Uint8Array.of(cla, 0xc0, 0, 0, le));
      sw = sw16(r);
      if (sw >> 8 === 0x6c) {
        le = sw & 0xff;
        r = await this.tpdu(Uint8Array.of(cla, 0xc0, 0, 0, le));
        sw = sw16(r);
      }
      parts.push(r.subarray(0, r.length - 2));
    }
    return { data: concatBytes(...parts), sw };
  }

  /** MANAGE CHANNEL open; returns the channel number the card assigned. */
  async openChannel(): Promise<number> {
    const r = await this.apdu(Uint8Array.of(0x00, 0x70, 0x00, 0x00, 0x01));
    if (r.sw !== 0x9000 || r.data.length !== 1) throw new IfppError('CHANNEL_OPEN', `MANAGE CHANNEL answered ${swHex(r.sw)}`);
    return r.data[0]!;
  }

  async closeChannel(channel: number): Promise<number> {
    return (await this.apdu(Uint8Array.of(0x00, 0x70, 0x80, channel))).sw;
  }

  /** SELECT the ISD-R by AID on a channel; returns the status word. */
  async selectIsdr(channel = 0): Promise<number> {
    return (await this.apdu(concatBytes(Uint8Array.of(interindustryCla(channel), 0xa4, 0x04, 0x00, ISDR_AID.length), ISDR_AID, Uint8Array.of(0)))).sw;
  }

  /**
   * One ES10 call as STORE DATA blocks. Intermediate blocks must answer 9000; if one does not,
   * that answer is returned at once (the rest is not sent).
   */
  async es10(payload: Uint8Array, opts: StoreDataOptions = {}): Promise<ApduResponse> {
    const apdus = storeDataApdus(payload, opts);
    for (let i = 0; i < apdus.length; i++) {
      const r = await this.apdu(apdus[i]!);
      if (i === apdus.length - 1 || r.sw !== 0x9000 || r.data.length > 0) return r;
    }
    throw new IfppError('INTERNAL', 'unreachable');
  }

  /** Pushes a BPP call by call; stops at the first BF37 or error status word. */
  async loadBpp(bpp: Uint8Array, opts: StoreDataOptions = {}): Promise<LoadOutcome> {
    const calls = bppLoadCalls(bpp);
    let n = 0;
    let last: ApduResponse = { data: new Uint8Array(0), sw: 0x9000 };
    for (const call of calls) {
      n++;
      last = await this.es10(call, opts);
      if (last.data.length > 0 || last.sw !== 0x9000) break;
    }
    return { pir: last.data.length > 0 ? last.data : undefined, sw: last.sw, calls: n };
  }
}
