/**
 * A SimCard seen at the card contacts: turns the whole-ATR / whole-PPS / whole-TPDU answers of
 * a SimCard (card-model.ts) into the ISO/IEC 7816-3 character dialogue a real bridge has with
 * a card, so a bridge implementation that works on characters (the firmware core built for
 * the host, hardware/bridge-firmware/host/bridge_host.c) can be driven by the same simulated
 * cards as the bridge simulator.
 *
 * What the card does on the I/O line:
 * - RST rising with VCC and clock on: the ATR, cold after power-on, warm after that; in the
 *   inverse convention when the ATR starts with 3F (bytes MSB first, levels inverted).
 * - Right after the ATR, a first character FF starts a PPS request; the answer is the card's.
 * - Otherwise 5 header bytes. Like a real card it knows from the instruction whether command
 *   data follows (`commandHasData`); then it asks for the data with procedure bytes (INS for
 *   all, INS xor FF for one, as `procedure` says), runs the command and answers SW1 SW2; or it
 *   runs the 5-byte command and sends the response data after a procedure byte, then SW1 SW2.
 * - While the card model is still working (its transmitTpdu promise is pending) it sends a
 *   NULL (60) every `nullIntervalMs`, as cards do to keep the reader's work waiting time
 *   running; `nulls` adds that many NULLs before every procedure byte and SW1 anyway.
 * - A card that throws CardMuteError falls silent until the next reset or power-off.
 *
 * Characters carry the parity bit as on the wire (even parity over the line levels of direct
 * convention; inverted for inverse convention). A character from the reader with bad parity,
 * or one arriving while the card is talking, is a protocol violation of the reader: it is
 * recorded in `violations` (a test asserts there are none).
 */
import { CardMuteError, type SimCard } from './card-model.ts';

/** Puts one character on the I/O line: the byte as a direct-convention UART reads it, and the parity bit. */
export type CharSink = (raw: number, parityBit: number) => void;

export type ProcedureStyle = 'ins' | 'single' | 'mixed';

export interface T0CharCardOptions {
  /** How data is asked for / handed out: INS once, INS xor FF per byte, or two single bytes then INS. Default 'ins'. */
  procedure?: ProcedureStyle;
  /** NULL bytes before each procedure byte and SW1. Default 0. */
  nulls?: number;
  /** While the card model works, a NULL this often (ms). Default 100. */
  nullIntervalMs?: number;
  /** Whether a command with this header carries command data (P3 > 0). Default: commandHasData(). */
  commandHasData?: (header: Uint8Array) => boolean;
}

/**
 * Instructions whose commands carry data to the card (ISO/IEC 7816-4, GlobalPlatform, ETSI TS
 * 102 221), plus EE, the echo test card's ECHO. Everything else is read as case 1 or 2.
 */
const DATA_INS = new Set([
  0x0e, 0x10, 0x14, 0x20, 0x21, 0x22, 0x24, 0x26, 0x28, 0x2a, 0x2c, 0x32, 0x46, 0x50, 0x82, 0x86, 0x88, 0x89, 0xa2, 0xa4, 0xc2,
  0xcb, 0xd6, 0xd8, 0xda, 0xdb, 0xdc, 0xe0, 0xe2, 0xe4, 0xe6, 0xe8, 0xee, 0xf0,
]);

export function commandHasData(header: Uint8Array): boolean {
  return DATA_INS.has(header[1]!);
}

type State = 'off' | 'wait' | 'idle' | 'pps' | 'header' | 'data' | 'busy' | 'mute';

function parity(b: number): number {
  let p = 0;
  for (let x = b; x; x &= x - 1) p ^= 1;
  return p;
}

function rev8(b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) if (b & (1 << i)) r |= 0x80 >> i;
  return r;
}

export class T0CharCard {
  /** Protocol violations by the reader (see the module comment). */
  readonly violations: string[] = [];
  private state: State = 'off';
  private powered = false;
  private clockHz = 0;
  private rstHigh = false;
  private hadAtr = false;
  private inverse = false;
  private ppsWindow = false;
  private rx: number[] = [];
  private header: Uint8Array = new Uint8Array(5);
  private data: number[] = [];
  private dataLeft = 0;
  private xferLeft = 0;
  /** Bumped on reset and power-off: answers of older commands are dropped. */
  private generation = 0;
  private nullTimer: ReturnType<typeof setInterval> | undefined;
  private readonly procedure: ProcedureStyle;
  private readonly nulls: number;
  private readonly nullIntervalMs: number;
  private readonly hasData: (header: Uint8Array) => boolean;

  constructor(
    readonly card: SimCard,
    private readonly sink: CharSink,
    opts: T0CharCardOptions = {},
  ) {
    this.procedure = opts.procedure ?? 'ins';
    this.nulls = opts.nulls ?? 0;
    this.nullIntervalMs = opts.nullIntervalMs ?? 100;
    this.hasData = opts.commandHasData ?? commandHasData;
  }

  // ---- contacts ----

  vcc(on: boolean): void {
    if (on === this.powered) return;
    if (!on) {
      this.powerLoss();
      return;
    }
    this.powered = true;
    this.hadAtr = false;
    this.state = 'wait';
  }

  clock(hz: number): void {
    this.clockHz = hz;
  }

  rst(high: boolean): void {
    const rising = high && !this.rstHigh;
    const falling = !high && this.rstHigh;
    this.rstHigh = high;
    if (!this.powered) return;
    if (falling) this.quiet('wait');
    if (rising && this.clockHz > 0) this.answerToReset();
  }

  /** A character from the reader. */
  receive(raw: number, parityBit: number): void {
    if (!this.powered || this.state === 'off' || this.state === 'wait') return;
    const b = this.inverse ? rev8(~raw & 0xff) : raw;
    const ok = (parity(raw) ^ parityBit) === (this.inverse ? 1 : 0);
    if (!ok) this.violations.push(`reader sent ${raw.toString(16)} with a bad parity bit`);
    switch (this.state) {
      case 'idle':
        if (this.ppsWindow && b === 0xff) {
          this.state = 'pps';
          this.rx = [b];
          return;
        }
        this.ppsWindow = false;
        this.state = 'header';
        this.rx = [b];
        return;
      case 'pps':
        this.rx.push(b);
        if (this.rx.length >= 2 && this.rx.length === 3 + ((this.rx[1]! >> 4) & 1) + ((this.rx[1]! >> 5) & 1) + ((this.rx[1]! >> 6) & 1)) this.answerPps();
        return;
      case 'header':
        this.rx.push(b);
        if (this.rx.length === 5) this.onHeader(Uint8Array.from(this.rx));
        return;
      case 'data':
        if (this.xferLeft === 0) {
          this.violations.push('reader sent data the card did not ask for');
          return;
        }
        this.data.push(b);
        this.xferLeft--;
        this.dataLeft--;
        if (this.xferLeft > 0) return;
        if (this.dataLeft > 0) this.askForData();
        else this.run(Uint8Array.from([...this.header, ...this.data]));
        return;
      case 'busy':
        this.violations.push(`reader sent ${b.toString(16)} while the card was working`);
        return;
      default:
        return;
    }
  }

  /** Power gone (VCC off, card pulled, bridge unplugged): the card model is powered off. */
  powerLoss(): void {
    if (this.powered) this.card.powerOff();
    this.powered = false;
    this.hadAtr = false;
    this.quiet('off');
  }

  // ---- the card's side ----

  private quiet(next: State): void {
    this.generation++;
    this.stopNulls();
    this.state = next;
    this.ppsWindow = false;
    this.rx = [];
  }

  private put(b: number): void {
    if (this.inverse) this.sink(rev8(~b & 0xff), parity(b) ^ 1);
    else this.sink(b, parity(b));
  }

  private answerToReset(): void {
    this.generation++;
    let atr: Uint8Array;
    try {
      atr = this.card.atr(this.hadAtr ? 'warm' : 'cold');
    } catch (e) {
      this.silent(e);
      return;
    }
    this.hadAtr = true;
    this.inverse = atr[0] === 0x3f;
    for (const b of atr) this.put(b);
    this.state = 'idle';
    this.ppsWindow = true;
  }

  private answerPps(): void {
    const answer = this.card.pps(Uint8Array.from(this.rx));
    this.ppsWindow = false;
    if (answer === null) {
      this.state = 'mute';
      return;
    }
    for (const b of answer) this.put(b);
    this.state = 'idle';
  }

  private lead(): void {
    for (let i = 0; i < this.nulls; i++) this.put(0x60);
  }

  /** Procedure byte for the next part of a transfer; returns how many data bytes it covers. */
  private procedureByte(left: number, done: number): number {
    const ins = this.header[1]!;
    const single = this.procedure === 'single' || (this.procedure === 'mixed' && done < 2);
    this.lead();
    this.put(single ? ins ^ 0xff : ins);
    return single ? 1 : left;
  }

  private onHeader(h: Uint8Array): void {
    this.header = h;
    if (h[4]! > 0 && this.hasData(h)) {
      this.data = [];
      this.dataLeft = h[4]!;
      this.askForData();
      return;
    }
    this.run(h);
  }

  private askForData(): void {
    this.state = 'data';
    this.xferLeft = this.procedureByte(this.dataLeft, this.data.length);
  }

  private run(tpdu: Uint8Array): void {
    this.state = 'busy';
    const gen = this.generation;
    this.stopNulls();
    this.nullTimer = setInterval(() => this.put(0x60), this.nullIntervalMs);
    this.card.transmitTpdu(tpdu).then(
      (r) => {
        if (gen !== this.generation) return;
        this.stopNulls();
        this.respond(tpdu, r.response);
      },
      (e: unknown) => {
        if (gen !== this.generation) return;
        this.stopNulls();
        this.silent(e);
      },
    );
  }

  private respond(tpdu: Uint8Array, response: Uint8Array): void {
    if (response.length < 2) {
      this.violations.push('card model answered fewer than 2 bytes');
      this.state = 'mute';
      return;
    }
    const data = response.subarray(0, response.length - 2);
    if (data.length > 0 && tpdu.length > 5) this.violations.push('card model returned data to a command with data (T=0 needs 61xx)');
    let done = 0;
    while (done < data.length) {
      const k = this.procedureByte(data.length - done, done);
      for (let i = 0; i < k; i++) this.put(data[done + i]!);
      done += k;
    }
    this.lead();
    this.put(response[response.length - 2]!);
    this.put(response[response.length - 1]!);
    this.state = 'idle';
  }

  private silent(e: unknown): void {
    this.state = 'mute';
    if (!(e instanceof CardMuteError)) this.violations.push(`card model failed: ${(e as Error)?.message ?? String(e)}`);
  }

  private stopNulls(): void {
    clearInterval(this.nullTimer);
    this.nullTimer = undefined;
  }
}
