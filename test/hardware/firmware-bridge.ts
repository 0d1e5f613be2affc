/**
 * The bridge firmware as a bridge on a pty, with the same control surface as BridgeSim
 * (insert/remove cards, faults, corrupted and dropped lines, unplug and replug), so one test
 * suite and the station driver run against all of them. The firmware runs as the core built for
 * the host (build/host/bridge-host) or as the ARM image under QEMU (board-process.ts):
 *
 *   station --pty--> PtyDevice <--> this process <--stdin/stdout or USART1--> firmware
 *                                        ^------- fd 3 or USART2..6: card contacts -----'
 *
 * The card side of every slot is a T0CharCard (src/sim/card/t0-char-card.ts) wrapping a
 * SimCard: the C core does all the ISO 7816-3 character work against it. Unplugging kills the
 * process (the MCU loses power) and closes the pty; replugging starts both again.
 */
import { EventEmitter } from 'node:events';
import { IfppError } from '../../src/core/errors.ts';
import { PtyDevice } from '../../src/sim/pty/pty-device.ts';
import type { SimCard } from '../../src/sim/card/card-model.ts';
import { T0CharCard, type T0CharCardOptions } from '../../src/sim/card/t0-char-card.ts';
import { startBoard, type BoardProcess, type BoardTarget } from './board-process.ts';

export { FIRMWARE_DIR } from './board-process.ts';

export class FirmwareBridgeError extends IfppError {}

export interface FirmwareBridgeOptions {
  slots: number;
  /** Cards present at start, by slot (no CARD IN events for these). */
  cards?: readonly (SimCard | undefined)[];
  /** Symlink kept pointing at the pty. */
  link?: string;
  /** Floor of the core's waits for the card (the card line runs through a pipe). Default 500 ms. */
  minCardWaitMs?: number;
  /** How the simulated cards use procedure bytes. */
  cardLine?: T0CharCardOptions;
  /** Where the firmware runs: the host build (default) or the ARM image under QEMU (board-process.ts). */
  target?: BoardTarget;
}

export interface FirmwareBridgeEvents {
  line: ['rx' | 'tx', string];
  disconnect: [];
  reconnect: [string];
}

export class FirmwareBridge extends EventEmitter<FirmwareBridgeEvents> {
  private readonly cards: (T0CharCard | undefined)[];
  private pty: PtyDevice | undefined;
  private board: BoardProcess | undefined;
  private corruptCount = 0;
  private dropCount = 0;
  private closing = false;
  private overrunArmed: (() => void) | undefined;
  /** Violations the card lines saw, including those of cards since removed. */
  private readonly pastViolations: string[] = [];

  private constructor(private readonly opts: FirmwareBridgeOptions) {
    super();
    this.cards = Array.from({ length: opts.slots }, (_, i) => {
      const c = opts.cards?.[i];
      return c ? this.lineCard(i, c) : undefined;
    });
  }

  static async start(opts: FirmwareBridgeOptions): Promise<FirmwareBridge> {
    if (!Number.isInteger(opts.slots) || opts.slots < 1 || opts.slots > 16) {
      throw new FirmwareBridgeError('FW_BRIDGE_SLOTS', `slot count ${opts.slots} is not 1..16`);
    }
    const b = new FirmwareBridge(opts);
    await b.powerUp();
    return b;
  }

  get path(): string {
    if (!this.pty) throw new FirmwareBridgeError('FW_BRIDGE_DISCONNECTED', 'bridge is disconnected');
    return this.pty.path;
  }

  get link(): string | undefined {
    return this.opts.link;
  }

  get connected(): boolean {
    return this.pty !== undefined;
  }

  card(slot: number): SimCard | undefined {
    return this.cards[this.slot(slot)]?.card;
  }

  /** Protocol violations the simulated cards saw from the firmware (must stay empty). */
  violations(): string[] {
    return [...this.pastViolations, ...this.cards.flatMap((c) => c?.violations ?? [])];
  }

  // ---- fault injection and slot events (as BridgeSim) ----

  corruptNextLine(n = 1): void {
    this.corruptCount += n;
  }

  dropNextResponse(n = 1): void {
    this.dropCount += n;
  }

  /** The next host line loses its tail in the firmware's receive buffer (bridge-host's test hook "O"). */
  overrunNextLine(): Promise<void> {
    return new Promise((res) => {
      this.overrunArmed = res;
      this.toCards('O -');
    });
  }

  insertCard(slot: number, card: SimCard): void {
    const s = this.slot(slot);
    if (this.cards[s]) throw new FirmwareBridgeError('FW_BRIDGE_OCCUPIED', `slot ${slot} already holds a card`);
    this.cards[s] = this.lineCard(s, card);
    this.toCards(`D ${s} 1`);
  }

  removeCard(slot: number): SimCard | undefined {
    const s = this.slot(slot);
    const c = this.cards[s];
    if (!c) return undefined;
    // The contacts open: the card loses power whatever the firmware does next.
    c.powerLoss();
    this.pastViolations.push(...c.violations);
    this.cards[s] = undefined;
    this.toCards(`D ${s} 0`);
    return c.card;
  }

  injectFault(slot: number | null, code: string): void {
    if (slot !== null) this.slot(slot);
    this.toCards(`F ${slot === null ? '-' : slot} ${code}`);
  }

  /** Unplug: the MCU loses power (process killed), the pty closes; cards stay in their slots. */
  async disconnect(): Promise<void> {
    const pty = this.pty;
    if (!pty) return;
    this.pty = undefined;
    await this.powerDown();
    this.corruptCount = 0;
    this.dropCount = 0;
    await pty.close();
    this.emit('disconnect');
  }

  async reconnect(): Promise<string> {
    if (this.pty) return this.pty.path;
    await this.powerUp();
    this.emit('reconnect', this.pty!.path);
    return this.pty!.path;
  }

  async close(): Promise<void> {
    this.closing = true;
    const pty = this.pty;
    this.pty = undefined;
    await this.powerDown();
    if (pty) await pty.close();
  }

  // ---- plumbing ----

  private slot(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.opts.slots) throw new FirmwareBridgeError('FW_BRIDGE_SLOT', `slot ${i} is not 0..${this.opts.slots - 1}`);
    return i;
  }

  private lineCard(slot: number, card: SimCard): T0CharCard {
    return new T0CharCard(card, (raw, p) => this.toCards(`X ${slot} ${raw.toString(16).padStart(2, '0')} ${p}`), this.opts.cardLine);
  }

  private toCards(msg: string): void {
    this.board?.toCards(msg);
  }

  private async powerUp(): Promise<void> {
    const pty = await PtyDevice.open(this.opts.link);
    let mask = 0;
    this.cards.forEach((c, i) => {
      if (c) mask |= 1 << i;
    });
    let board: BoardProcess;
    try {
      board = await startBoard(this.opts.target ?? 'host', { slots: this.opts.slots, present: mask, ...(this.opts.minCardWaitMs !== undefined ? { minCardWaitMs: this.opts.minCardWaitMs } : {}) });
    } catch (e) {
      await pty.close();
      throw e;
    }
    board.onExit((why) => {
      // Killed by powerDown() is an unplug; anything else is the firmware failing.
      if (this.board !== board || this.closing) return;
      this.pastViolations.push(why);
      void this.disconnect();
    });
    this.board = board;
    this.pty = pty;
    board.onCards((msg) => this.fromBridge(msg));
    let hostIn = '';
    pty.on('data', (d) => {
      if (this.pty !== pty) return;
      board.hostIn.write(d);
      hostIn += d.toString('latin1');
      let nl;
      while ((nl = hostIn.indexOf('\n')) >= 0) {
        const l = hostIn.slice(0, nl);
        hostIn = hostIn.slice(nl + 1);
        if (l !== '' && l !== '\r') this.emit('line', 'rx', l);
      }
    });
    pty.on('close', () => {
      if (this.pty === pty && !this.closing) void this.disconnect();
    });
    let out = '';
    board.hostOut.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        this.toHost(pty, out.slice(0, nl + 1));
        out = out.slice(nl + 1);
      }
    });
  }

  private async powerDown(): Promise<void> {
    const board = this.board;
    this.board = undefined;
    await board?.kill();
    for (const c of this.cards) c?.powerLoss();
  }

  private toHost(pty: PtyDevice, line: string): void {
    if (this.pty !== pty) return;
    const isResponse = !line.startsWith('!');
    if (isResponse && this.dropCount > 0) {
      this.dropCount--;
      return;
    }
    let outLine = line;
    if (this.corruptCount > 0) {
      this.corruptCount--;
      outLine = corrupt(line);
    }
    this.emit('line', 'tx', outLine.slice(0, -1));
    pty.write(outLine);
  }

  /** One message from the firmware's card contacts (see bridge_host.c). */
  private fromBridge(msg: string): void {
    const [kind, s, a, b] = msg.split(' ');
    if (kind === 'o') {
      this.overrunArmed?.();
      this.overrunArmed = undefined;
      return;
    }
    const card = this.cards[Number(s)];
    if (!card) return;
    switch (kind) {
      case 'V':
        card.vcc(a !== '0');
        break;
      case 'K':
        card.clock(Number(a));
        break;
      case 'R':
        card.rst(a === '1');
        break;
      case 'T':
        card.receive(parseInt(a!, 16), Number(b));
        break;
      default:
        break; // I, U: contact state the card model does not need
    }
  }
}

/** Changes one character of the line body (never the LF), so the CRC check fails (as BridgeSim does). */
function corrupt(line: string): string {
  const star = line.lastIndexOf(' *');
  const i = Math.max(0, Math.floor(star / 2));
  const c = line[i];
  const swap = c === '0' ? '1' : '0';
  return line.slice(0, i) + swap + line.slice(i + 1);
}
