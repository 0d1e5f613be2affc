/**
 * One card in one PC/SC reader: connect (the reader powers the card and negotiates T=0 or
 * T=1: that is the reader's business), exchange, disconnect. APDUs go through the same
 * T0ApduChannel as on the bridge path, so 61xx (GET RESPONSE), 6Cxx (repeat with Le) and
 * logical channels follow one set of rules whatever carries them; under T=1 a card simply
 * rarely answers 61xx.
 *
 * A card pulled mid-exchange makes the binding fail the transmit; that surfaces as
 * PCSC_CARD_REMOVED so the station records the unit as interrupted with that cause.
 */
import { toHex } from '../../core/bytes.ts';
import type { ApduResponse } from '../../core/apdu.ts';
import { T0ApduChannel } from '../card/t0-apdu.ts';
import { PcscError, type PcscCardReader } from './binding.ts';

/** Largest response a short APDU can have: 256 data bytes and the SW. */
const MAX_RESPONSE = 258;

export interface PcscConnectOptions {
  /** Exclusive access (default): nothing else talks to the chip while we work on it. */
  readonly shared?: boolean;
}

export interface ExchangeRecord {
  readonly command: string;
  readonly response: string;
  readonly ms: number;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Removal-like failures of SCardTransmit/SCardConnect (pcsc-lite and WinSCard texts). */
function looksRemoved(msg: string): boolean {
  return /removed|no smart ?card|reset|unpowered|0x80100069|0x80100066|0x80100068|0x8010000C/i.test(msg);
}

export class PcscCard {
  private protocol = 0;
  readonly apdu: { transmit(apdu: Uint8Array): Promise<ApduResponse> };
  /** Every TPDU exchanged since connect (for `ifpp bench trace`). */
  readonly trace: ExchangeRecord[] = [];

  constructor(
    private readonly reader: PcscCardReader,
    readonly atr: Uint8Array,
  ) {
    const ch = new T0ApduChannel({ exchange: (t) => this.exchange(t) });
    this.apdu = { transmit: (a) => ch.transmit(a) };
  }

  get readerName(): string {
    return this.reader.name;
  }

  get protocolName(): 'T=0' | 'T=1' | 'unknown' {
    return this.protocol === this.reader.SCARD_PROTOCOL_T0 ? 'T=0' : this.protocol === this.reader.SCARD_PROTOCOL_T1 ? 'T=1' : 'unknown';
  }

  /** Connects to the card in `reader`; `atr` as the reader reported it. */
  static async connect(reader: PcscCardReader, atr: Uint8Array, opts: PcscConnectOptions = {}): Promise<PcscCard> {
    const card = new PcscCard(reader, atr);
    card.protocol = await new Promise<number>((resolve, reject) => {
      reader.connect({ share_mode: opts.shared ? reader.SCARD_SHARE_SHARED : reader.SCARD_SHARE_EXCLUSIVE, protocol: reader.SCARD_PROTOCOL_T0 | reader.SCARD_PROTOCOL_T1 }, (err, protocol) => {
        if (err) {
          const msg = errText(err);
          reject(
            looksRemoved(msg)
              ? new PcscError('PCSC_CARD_REMOVED', `the card left reader "${reader.name}" while connecting (${msg})`, { hint: 'insert the chip again' })
              : new PcscError('PCSC_CONNECT_FAILED', `cannot connect to the card in reader "${reader.name}": ${msg}`, {
                  hint: /sharing|busy|0x8010000B/i.test(msg) ? 'another program holds the card: close it (or stop pcsc_scan) and retry' : 'reinsert the chip; check the reader with pcsc_scan',
                }),
          );
        } else resolve(protocol);
      });
    });
    return card;
  }

  /** One TPDU/APDU as the reader takes it: the response data then SW1 SW2. */
  exchange(command: Uint8Array): Promise<Uint8Array> {
    const t0 = Date.now();
    return new Promise((resolve, reject) => {
      if (!this.reader.connected) {
        reject(new PcscError('PCSC_NOT_CONNECTED', `reader "${this.reader.name}" is not connected to a card`));
        return;
      }
      this.reader.transmit(Buffer.from(command), MAX_RESPONSE, this.protocol, (err, data) => {
        if (err) {
          const msg = errText(err);
          reject(
            looksRemoved(msg)
              ? new PcscError('PCSC_CARD_REMOVED', `card removed from reader "${this.reader.name}" during ${toHex(command.subarray(0, 4))}`, { details: { pcsc: msg } })
              : new PcscError('PCSC_TRANSMIT_FAILED', `reader "${this.reader.name}" failed to exchange ${toHex(command.subarray(0, 4))}: ${msg}`),
          );
          return;
        }
        const r = new Uint8Array(data);
        this.trace.push({ command: toHex(command), response: toHex(r), ms: Date.now() - t0 });
        if (r.length === 0) {
          // Not even a status word: the card went away (vpcd answers so when the card leaves mid-command).
          reject(new PcscError('PCSC_CARD_REMOVED', `card removed from reader "${this.reader.name}" (or mute) during ${toHex(command.subarray(0, 4))}: no answer`));
          return;
        }
        resolve(r);
      });
    });
  }

  /** Releases the card and powers it down (safe to call twice). */
  disconnect(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.reader.connected) {
        resolve();
        return;
      }
      this.reader.disconnect(this.reader.SCARD_UNPOWER_CARD, () => resolve());
    });
  }
}
