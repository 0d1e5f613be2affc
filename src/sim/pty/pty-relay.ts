/**
 * A simulated serial device: a pty whose slave path the station opens with serialport, and
 * whose master side the simulator reads and writes through this object (see pty-relay.py for
 * why a small Python relay does the pty work).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { IfppError } from '../../core/errors.ts';

const RELAY = fileURLToPath(new URL('./pty-relay.py', import.meta.url));

export class PtyError extends IfppError {}

export interface PtyRelayEvents {
  data: [Buffer];
  close: [];
}

export class PtyRelay extends EventEmitter<PtyRelayEvents> {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    /** Slave device path, e.g. /dev/pts/7: what the station opens. */
    readonly path: string,
    /** Stable symlink to `path`, when one was asked for. */
    readonly link: string | undefined,
  ) {
    super();
    child.stdout.on('data', (d: Buffer) => this.emit('data', d));
    child.on('close', () => this.emit('close'));
  }

  /** Opens a new pty. `link` (optional) is a symlink path kept pointing at the slave device. */
  static open(link?: string): Promise<PtyRelay> {
    const python = process.env.IFPP_PYTHON ?? 'python3';
    const child = spawn(python, [RELAY, ...(link ? [link] : [])], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let buf = '';
      let stderr = '';
      const fail = (why: string) =>
        reject(new PtyError('PTY_OPEN_FAILED', `cannot open a pseudo-terminal: ${why}`, { hint: 'the simulators need python3 on PATH (or IFPP_PYTHON)' }));
      child.on('error', (e) => fail(e.message));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => fail(`relay exited with ${code}${stderr ? ': ' + stderr.trim() : ''}`));
      const onData = (d: Buffer) => {
        buf += d.toString('latin1');
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        child.stdout.off('data', onData);
        child.removeAllListeners('exit');
        const relay = new PtyRelay(child, buf.slice(0, nl), link);
        const rest = Buffer.from(buf.slice(nl + 1), 'latin1');
        resolve(relay);
        if (rest.length) queueMicrotask(() => relay.emit('data', rest));
      };
      child.stdout.on('data', onData);
    });
  }

  write(data: Uint8Array | string): void {
    if (!this.child.stdin.writable) return;
    this.child.stdin.write(data);
  }

  /** Closes the pty: the station side sees the device disappear. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('close', () => resolve());
      this.child.stdin.end();
    });
  }
}
