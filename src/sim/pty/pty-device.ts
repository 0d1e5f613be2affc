/**
 * A simulated serial device: a pty whose slave path the station opens with serialport, and whose
 * master side the simulator reads and writes here, directly (no process in the data path).
 *
 * Node opens /dev/ptmx itself; a small Python helper (pty-holder.py) does the two things Node
 * cannot (unlockpt, ptsname), sets the slave raw, keeps the symlink and holds the slave open.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { IfppError } from '../../core/errors.ts';

const HOLDER = fileURLToPath(new URL('./pty-holder.py', import.meta.url));

export class PtyError extends IfppError {}

export interface PtyDeviceEvents {
  data: [Buffer];
  close: [];
}

export class PtyDevice extends EventEmitter<PtyDeviceEvents> {
  private readonly reader: ReadStream;
  /** Bytes the pty would not take yet (the station is not reading): sent in order, later. */
  private pending: Buffer[] = [];
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly master: number,
    private readonly holder: ChildProcessWithoutNullStreams,
    /** Slave device path, e.g. /dev/pts/7: what the station opens. */
    readonly path: string,
    /** Stable symlink to `path`, when one was asked for. */
    readonly link: string | undefined,
  ) {
    super();
    // A tty stream for reading only: Node would make writes on an O_RDWR tty handle blocking,
    // which stalls the whole simulator when the station stops reading; writes go through
    // writeSync on the non-blocking fd instead.
    this.reader = new ReadStream(master);
    this.reader.on('data', (d: Buffer) => this.emit('data', d));
    this.reader.on('error', () => this.shutDown());
    this.reader.on('end', () => this.shutDown());
    // The helper may be gone already when we tell it to finish: that is not an error here.
    holder.stdin.on('error', () => undefined);
    holder.on('close', () => this.shutDown());
  }

  /** Opens a new pty. `link` (optional) is a symlink path kept pointing at the slave device. */
  static open(link?: string): Promise<PtyDevice> {
    const python = process.env.IFPP_PYTHON ?? 'python3';
    let master: number;
    try {
      master = openSync('/dev/ptmx', constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch (e) {
      return Promise.reject(new PtyError('PTY_OPEN_FAILED', `cannot open /dev/ptmx: ${(e as Error).message}`, { hint: 'the simulators need Unix pseudo-terminals (/dev/ptmx)' }));
    }
    const child = spawn(python, [HOLDER, ...(link ? [link] : [])], { stdio: ['pipe', 'pipe', 'pipe', master] }) as unknown as ChildProcessWithoutNullStreams;
    return new Promise((resolve, reject) => {
      let buf = '';
      let stderr = '';
      const fail = (why: string) => {
        try {
          closeSync(master);
        } catch {
          /* already closed */
        }
        reject(new PtyError('PTY_OPEN_FAILED', `cannot open a pseudo-terminal: ${why}`, { hint: 'the simulators need python3 on PATH (or IFPP_PYTHON)' }));
      };
      child.on('error', (e) => fail(e.message));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => fail(`pty helper exited with ${code}${stderr ? ': ' + stderr.trim() : ''}`));
      const onData = (d: Buffer) => {
        buf += d.toString('latin1');
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        child.stdout.off('data', onData);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        resolve(new PtyDevice(master, child, buf.slice(0, nl), link));
      };
      child.stdout.on('data', onData);
    });
  }

  /**
   * Stops taking the station's bytes for now (a device whose input buffer is full or that is
   * busy): what the station writes stays in the pty until `resumeReading`.
   */
  pauseReading(): void {
    this.reader.pause();
  }

  resumeReading(): void {
    this.reader.resume();
  }

  write(data: Uint8Array | string): void {
    if (this.closed) return;
    this.pending.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data));
    this.flush();
  }

  private flush(): void {
    this.retry = undefined;
    while (this.pending.length && !this.closed) {
      const head = this.pending[0]!;
      let n: number;
      try {
        n = writeSync(this.master, head);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.retry ??= setTimeout(() => this.flush(), 2);
          return;
        }
        this.shutDown();
        return;
      }
      if (n === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(n);
    }
  }

  /** Master gone (helper died or read error): the device vanished. */
  private shutDown(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.pending = [];
    this.reader.destroy(); // closes the master: the station sees a hangup, like an unplugged cable
    this.holder.stdin.end();
    this.emit('close');
  }

  /** Closes the pty: the station side sees the device disappear. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const done = this.holder.exitCode !== null || this.holder.signalCode !== null;
      if (!done) this.holder.once('close', () => resolve());
      this.shutDown();
      if (done) resolve();
    });
  }
}
