/**
 * A simulated card plugged into pcscd through the vsmartcard virtual reader driver (vpcd).
 * The card is a TCP client of the port vpcd listens on (reader.conf DEVICENAME
 * `/dev/null:PORT`; each reader entry has two slots, PORT and PORT+1). Every message either way
 * is a 2-byte big-endian length and a payload. A 1-byte payload from the reader is a control
 * command (0 power off, 1 power on, 2 reset, 4 send the ATR; only 4 is answered, with the
 * ATR); anything longer is a command APDU, answered by the response APDU.
 *
 * The card behind it answers T=0 TPDUs (SimCard): a case-4 APDU goes in without its Le and
 * answers 61xx, so the PC/SC side fetches response data with GET RESPONSE, exactly as on the
 * bridge path. Being connected is being inserted: `remove()` closes the connection (pcscd sees
 * the card go), `insert()` connects again.
 *
 * Re-insertion needs care. pcscd polls the driver for presence (every 400 ms); the vpcd driver
 * answers that poll by accepting a waiting connection and asking for the ATR. When a card is
 * pulled mid-command, pcscd marks the reader empty from the failed command, but its poller has
 * not seen the card go: if the card is back (connected) before the next poll, the poller sees
 * "present" as before, reports no change, and the reader stays empty for good. So the first
 * presence poll on a new connection after a card that pcscd had talked to answers "absent"
 * (the connection is closed, at once redialled): the poller records the removal, and the next
 * poll sees the card arrive. This costs one poll interval per re-insertion, never a lost card.
 */
import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { concatBytes, toHex } from '../../core/bytes.ts';
import { t0CommandTpdu } from '../../core/bridge-protocol/iso7816.ts';
import { IfppError } from '../../core/errors.ts';
import { CardMuteError, type SimCard } from '../card/card-model.ts';

export const VPCD_DEFAULT_PORT = 35963;

const CTRL_OFF = 0;
const CTRL_ON = 1;
const CTRL_RESET = 2;
const CTRL_ATR = 4;

export class VpcdError extends IfppError {}

/** Splits a byte stream into length-prefixed payloads. */
export class VpcdFramer {
  private buf: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): Uint8Array[] {
    this.buf = concatBytes(this.buf, chunk);
    const out: Uint8Array[] = [];
    while (this.buf.length >= 2) {
      const n = (this.buf[0]! << 8) | this.buf[1]!;
      if (this.buf.length < 2 + n) break;
      out.push(this.buf.slice(2, 2 + n));
      this.buf = this.buf.slice(2 + n);
    }
    return out;
  }
}

export function vpcdFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > 0xffff) throw new VpcdError('VPCD_FRAME_TOO_LONG', `vpcd payload of ${payload.length} bytes does not fit a 2-byte length`);
  return concatBytes(Uint8Array.of(payload.length >> 8, payload.length & 0xff), payload);
}

export interface VpcdCardOptions {
  readonly host?: string;
  readonly port?: number;
  /** Retry interval while the reader's port is not open yet (pcscd starting), ms. */
  readonly retryMs?: number;
}

export type VpcdEvent =
  | { kind: 'connected' }
  | { kind: 'disconnected' }
  /** The first presence poll after a re-insertion was answered "absent" (see the module comment). */
  | { kind: 'bounce' }
  | { kind: 'control'; what: 'off' | 'on' | 'reset' } | { kind: 'apdu'; command: string; response: string } | { kind: 'error'; message: string };

/**
 * Events: 'event' (VpcdEvent) for logs and tests. The card answers one message at a time, in
 * order (the reader never sends the next before the answer).
 */
export class VpcdCard extends EventEmitter {
  readonly host: string;
  readonly port: number;
  private socket: Socket | undefined;
  private inserted = false;
  private retry: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private powered = false;
  private atr: Uint8Array | undefined;
  /** pcscd talked to the card on a connection that has since closed: see the module comment. */
  private mustShowAbsent = false;

  constructor(
    private readonly card: SimCard,
    private readonly opts: VpcdCardOptions = {},
  ) {
    super();
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port ?? VPCD_DEFAULT_PORT;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.destroyed && !this.socket.connecting;
  }

  /** Connects (and keeps trying while the port is closed) until remove() or close(). */
  insert(): void {
    if (this.inserted) return;
    this.inserted = true;
    this.dial();
  }

  /** Pulls the card: the reader sees it go at once. */
  remove(): void {
    this.inserted = false;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.socket?.destroy();
    this.socket = undefined;
    // Out of the reader is unpowered, whatever the reader last asked for.
    this.card.powerOff();
    this.powered = false;
  }

  close(): void {
    this.remove();
  }

  private dial(): void {
    const s = connect({ host: this.host, port: this.port });
    this.socket = s;
    s.setNoDelay(true);
    const framer = new VpcdFramer();
    let heard = false;
    let bounced = false;
    s.on('connect', () => this.emit('event', { kind: 'connected' } satisfies VpcdEvent));
    s.on('data', (chunk) => {
      for (const msg of framer.push(new Uint8Array(chunk))) {
        if (!heard && this.mustShowAbsent && msg.length === 1 && msg[0] === CTRL_ATR) {
          // pcscd's first presence poll on this connection: answer "absent" once (module comment).
          this.mustShowAbsent = false;
          bounced = true;
          this.emit('event', { kind: 'bounce' } satisfies VpcdEvent);
          s.destroy();
          return;
        }
        heard = true;
        // One failed message must not stall the ones after it: report it and drop the connection.
        this.queue = this.queue
          .then(() => this.handle(s, msg))
          .catch((e: unknown) => {
            this.emit('event', { kind: 'error', message: e instanceof Error ? e.message : String(e) } satisfies VpcdEvent);
            s.destroy();
          });
      }
    });
    s.on('error', () => undefined); // 'close' follows and decides
    s.on('close', () => {
      if (heard) this.mustShowAbsent = true;
      if (this.socket !== s) return;
      this.socket = undefined;
      if (bounced) {
        // Still inserted: straight back, the next presence poll sees the card arrive.
        if (this.inserted) this.dial();
        return;
      }
      this.emit('event', { kind: 'disconnected' } satisfies VpcdEvent);
      this.card.powerOff();
      this.powered = false;
      if (this.inserted) this.retry = setTimeout(() => this.dial(), this.opts.retryMs ?? 250);
    });
  }

  private async handle(s: Socket, msg: Uint8Array): Promise<void> {
    if (s.destroyed) return;
    if (msg.length === 1) {
      const c = msg[0]!;
      try {
        if (c === CTRL_OFF) {
          this.card.powerOff();
          this.powered = false;
          this.emit('event', { kind: 'control', what: 'off' } satisfies VpcdEvent);
        } else if (c === CTRL_ON || c === CTRL_RESET) {
          this.atr = this.card.atr(c === CTRL_ON ? 'cold' : 'warm');
          this.powered = true;
          this.emit('event', { kind: 'control', what: c === CTRL_ON ? 'on' : 'reset' } satisfies VpcdEvent);
        } else if (c === CTRL_ATR) {
          // vpcd asks for the ATR to see whether a card is present, again and again: answer
          // the last one without touching the card's session.
          this.atr ??= this.card.atr('cold');
          s.write(vpcdFrame(this.atr));
        }
      } catch (e) {
        if (e instanceof CardMuteError) s.destroy(); // a mute card looks removed to the reader
        else throw e;
      }
      return;
    }
    let response: Uint8Array;
    try {
      response = (await this.card.transmitTpdu(t0CommandTpdu(msg))).response;
    } catch (e) {
      if (!(e instanceof CardMuteError)) throw e;
      // Mute or pulled mid-command: the reader sees the card go.
      this.remove();
      this.inserted = false;
      return;
    }
    this.emit('event', { kind: 'apdu', command: toHex(msg), response: toHex(response) } satisfies VpcdEvent);
    if (!s.destroyed) s.write(vpcdFrame(response));
  }
}
