/**
 * Connects johnny-five to the jig's Firmata board on a serial path: serialport 13 opens the
 * port, firmata-io speaks Firmata over it (the port is injected), johnny-five sits on top with
 * its REPL, console logging and SIGINT handler off (its handler would exit the process and skip
 * the station's safe-state path).
 *
 * Handshake: firmata-io waits `queryDelayMs` for the board to announce itself (an Arduino that
 * resets when the port opens does so after its bootloader) and only then asks for version and
 * firmware. A jig board should not auto-reset on open (it would drop the clamp on every station
 * restart) and then only answers when asked, so keep the delay short where that is known.
 */
import { serialOpenHint } from '../serial-open-hint.ts';
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import five from 'johnny-five';
import firmataIo from 'firmata-io';
import { IfppError } from '../../core/errors.ts';

export class JigBoardError extends IfppError {}

/** Firmata's version query: one byte, answered with three, no side effects on either end. */
const REPORT_VERSION = 0xf9;

export interface ConnectBoardOptions {
  /** Serial device, e.g. /dev/ttyACM0 or a /dev/serial/by-id/... link. */
  path: string;
  /** StandardFirmata's default is 57600. */
  baudRate?: number;
  /** Open plus handshake must finish within this (default 10000 ms). */
  timeoutMs?: number;
  /** How long to wait for a self-announcing board before querying it (default 2500 ms). */
  queryDelayMs?: number;
  /** johnny-five board id (for logs). */
  id?: string;
  /**
   * Liveness check once ready (default 1000 ms; 0 turns it off): a REPORT_VERSION query the
   * board must answer. Needed because a Firmata board is silent while nothing changes, and
   * because on Linux a hung-up serial device (USB unplug, pty gone) makes serialport 13 read 0
   * bytes forever without a 'close' event; the next write fails and surfaces it.
   */
  heartbeatMs?: number;
  /** Heartbeats in a row without an answer before the board counts as lost (default 3). */
  heartbeatMisses?: number;
}

export interface JigBoardEvents {
  /** The board went away (port closed, unplugged, I/O error). Emitted once; close() still needed. */
  lost: [error: JigBoardError];
}

export interface FirmwareInfo {
  name: string;
  version: { major: number; minor: number };
  protocol: { major: number; minor: number };
}

/** A ready board. Create components with `board` passed explicitly; close() when done. */
export class JigBoardConnection extends EventEmitter<JigBoardEvents> {
  /** Set once the board is lost. */
  lostError: JigBoardError | undefined;
  private closing: Promise<void> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  /** @internal use connectBoard() */
  constructor(
    readonly path: string,
    readonly port: SerialPort,
    readonly io: firmataIo.Firmata,
    readonly board: five.Board,
  ) {
    super();
  }

  get firmware(): FirmwareInfo {
    const { firmware, version } = this.io;
    return {
      name: firmware.name ?? '',
      version: { major: firmware.version?.major ?? 0, minor: firmware.version?.minor ?? 0 },
      protocol: { major: version.major ?? 0, minor: version.minor ?? 0 },
    };
  }

  /** Number of pins the board reported (johnny-five calls a 70-pin board a MEGA). */
  get pinCount(): number {
    return this.io.pins.length;
  }

  /** Pin numbers of the analog channels, A0 first. */
  get analogPins(): readonly number[] {
    return this.io.analogPins;
  }

  get isOpen(): boolean {
    return this.port.isOpen && !this.lostError && !this.closing;
  }

  /** close() was called (or the board was lost, which closes too). */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** @internal */
  startHeartbeat(everyMs: number, misses: number): void {
    if (everyMs <= 0) return;
    let answered = true;
    let missed = 0;
    this.io.on('reportversion', () => {
      answered = true;
      missed = 0;
    });
    this.heartbeat = setInterval(() => {
      if (!answered && ++missed >= misses) {
        this.markLost(
          new JigBoardError('JIG_BOARD_UNRESPONSIVE', `jig board ${this.path} stopped answering (${missed} heartbeats of ${everyMs} ms missed)`, {
            hint: 'the board firmware or its USB-serial adapter hangs: power-cycle the jig board, then reconnect',
            details: { path: this.path },
          }),
        );
        return;
      }
      answered = false;
      this.io.transport.write(Buffer.of(REPORT_VERSION));
    }, everyMs);
    this.heartbeat.unref();
  }

  /** @internal */
  markLost(error: JigBoardError): void {
    if (this.lostError || this.closing) return;
    this.lostError = error;
    this.emit('lost', error);
    void this.close();
  }

  /**
   * Closes the port and unhooks the board from johnny-five's global state. Component timers
   * (Led.blink, a held Button) are the caller's to stop first.
   */
  close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.closing ??= dispose(this.board, this.io, this.port);
    return this.closing;
  }
}

export function connectBoard(options: ConnectBoardOptions): Promise<JigBoardConnection> {
  const { path } = options;
  const baudRate = options.baudRate ?? 57600;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  const io = new firmataIo.Firmata(port, { reportVersionTimeout: options.queryDelayMs ?? 2500 });
  // johnny-five's own connect timeout must never beat ours (we clear it on failure).
  const board = new five.Board({ io, repl: false, debug: false, sigint: false, timeout: timeoutMs + 60_000, ...(options.id ? { id: options.id } : {}) });

  let connection: JigBoardConnection | undefined;
  let failPending: ((e: JigBoardError) => void) | undefined;
  const trouble = (e: JigBoardError) => (connection ? connection.markLost(e) : failPending?.(e));

  // Listeners that stay for the port's life: an 'error' without a listener would crash the process.
  io.on('error', (err: Error) =>
    trouble(new JigBoardError('JIG_BOARD_LOST', `I/O error on jig board ${path}: ${err.message}`, { hint: 'check the USB cable and the board power; the station must reconnect', cause: err, details: { path } })),
  );
  board.on('error', () => {}); // johnny-five also re-emits io errors and log lines here
  port.on('close', (...args: unknown[]) => {
    const err = args[0] instanceof Error ? (args[0] as Error & { disconnected?: boolean }) : undefined;
    if (connection?.closed) return; // our own close()
    trouble(
      new JigBoardError('JIG_BOARD_LOST', `jig board ${path} ${err?.disconnected ? 'disconnected' : 'port closed'}${err ? `: ${err.message}` : ''}`, {
        hint: 'check the USB cable and the board power; the station must reconnect',
        ...(err ? { cause: err } : {}),
        details: { path },
      }),
    );
  });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const got = io.versionReceived ? `it answered version ${io.version.major}.${io.version.minor} but did not finish the handshake` : 'no Firmata answer';
      fail(
        new JigBoardError('JIG_BOARD_TIMEOUT', `jig board on ${path} not ready within ${timeoutMs} ms: ${got}`, {
          hint: `check that this is the jig board's port and that it runs StandardFirmata at ${baudRate} baud`,
          details: { path, baudRate, timeoutMs, versionReceived: io.versionReceived },
        }),
      );
    }, timeoutMs);

    const fail = (e: JigBoardError) => {
      if (!failPending) return;
      failPending = undefined;
      clearTimeout(timer);
      void dispose(board, io, port).finally(() => reject(e));
    };
    failPending = fail;

    board.once('ready', () => {
      if (!failPending) return;
      failPending = undefined;
      clearTimeout(timer);
      connection = new JigBoardConnection(path, port, io, board);
      connection.startHeartbeat(options.heartbeatMs ?? 1000, options.heartbeatMisses ?? 3);
      resolve(connection);
    });

    port.open((err) => {
      if (err) fail(portUnavailable(path, err));
    });
  });
}

function portUnavailable(path: string, err: Error): JigBoardError {
  return new JigBoardError('JIG_PORT_UNAVAILABLE', `cannot open jig board port ${path}: ${err.message}`, { hint: serialOpenHint(err, 'jig board'), cause: err, details: { path } });
}

/**
 * Closes the port and removes johnny-five's references to the board: johnny-five keeps every
 * Board in a module-level cache and a pin normalizer per board, and never prunes either.
 */
async function dispose(board: five.Board, io: firmataIo.Firmata, port: SerialPort): Promise<void> {
  clearTimeout(io.reportVersionTimeoutId);
  if (board.timer) clearTimeout(board.timer);
  board.timer = null;
  const i = five.Board.cache.indexOf(board);
  if (i >= 0) five.Board.cache.splice(i, 1);
  five.Board.Pins.normalize.clear(); // per-board cache, rebuilt lazily for boards still in use
  if (port.isOpen) await new Promise<void>((res) => port.close(() => res()));
}
