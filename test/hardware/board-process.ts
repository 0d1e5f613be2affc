/**
 * The firmware running somewhere, seen from the test harness (firmware-bridge.ts): a byte stream
 * for the host link, and the card contacts as text messages in bridge-host's card-channel
 * format (hardware/bridge-firmware/host/bridge_host.c: V/K/R/I/U/T/o from the firmware, X/D/F/O
 * to it). Two boards:
 *
 * - `host`: build/host/bridge-host, the core on stdin/stdout, contacts on fd 3.
 * - `qemu`: the ARM image (build/qemu/bridge-fw.elf) in qemu-system-arm's netduinoplus2 machine,
 *   every USART a Unix socket this process listens on: serial0 the host link, serial1 the
 *   contacts channel (text lines, without T/X), serial2-5 the I/O lines of slots 0-3 (one raw
 *   byte per character; the parity bit a character line cannot carry is added here, from the
 *   convention the firmware set with U). See hardware/bridge-firmware/hal-qemu/hal_qemu.c.
 *   One QEMU serves a test file: each power-up resets it (QemuInstance below).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { IfppError } from '../../src/core/errors.ts';

export const FIRMWARE_DIR = fileURLToPath(new URL('../../hardware/bridge-firmware/', import.meta.url));
export const BRIDGE_HOST = join(FIRMWARE_DIR, 'build/host/bridge-host');
export const QEMU_ELF = join(FIRMWARE_DIR, 'build/qemu/bridge-fw.elf');
export const QEMU_BIN = 'qemu-system-arm';
/** Slots the QEMU board has (serial2..5). */
export const QEMU_SLOTS = 4;

export class BoardError extends IfppError {}

export type BoardTarget = 'host' | 'qemu';

export interface BoardProcess {
  readonly hostIn: Writable;
  readonly hostOut: Readable;
  /** One message to the card side of the firmware (X, D, F, O). */
  toCards(msg: string): void;
  /** Messages from the firmware's card contacts, one line each. */
  onCards(cb: (msg: string) => void): void;
  /** The firmware stopped by itself (not through kill()). */
  onExit(cb: (why: string) => void): void;
  kill(): Promise<void>;
}

export interface BoardOptions {
  slots: number;
  /** Bit i = a card is in slot i at power-up. */
  present: number;
  minCardWaitMs?: number;
}

export function startBoard(target: BoardTarget, o: BoardOptions): Promise<BoardProcess> {
  return target === 'qemu' ? startQemu(o) : startHostBuild(o);
}

/** Why a QEMU board cannot run here, or undefined. */
export function qemuMissing(): string | undefined {
  return spawnSync('sh', ['-c', `command -v ${QEMU_BIN}`], { stdio: 'ignore' }).status === 0 ? undefined : `${QEMU_BIN} not installed (apt-get install qemu-system-arm)`;
}

function lines(stream: Readable, cb: (l: string) => void): void {
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      cb(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
}

function exitWatch(child: ChildProcess, name: string) {
  let stderr = '';
  let killed = false;
  const exitCbs: ((why: string) => void)[] = [];
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.once('exit', (code, signal) => {
    if (killed) return;
    for (const cb of exitCbs) cb(`${name} exited by itself (code ${code}, signal ${signal})${stderr ? ': ' + stderr.trim() : ''}`);
  });
  return {
    onExit: (cb: (why: string) => void) => exitCbs.push(cb),
    kill: async () => {
      killed = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

async function startHostBuild(o: BoardOptions): Promise<BoardProcess> {
  const args = ['--slots', String(o.slots), '--present', o.present.toString(16), '--card-fd', '3', '--min-card-wait-ms', String(o.minCardWaitMs ?? 500)];
  const child = spawn(BRIDGE_HOST, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  await new Promise<void>((res, rej) => {
    child.once('spawn', res);
    child.once('error', (e) => rej(new BoardError('FW_BRIDGE_SPAWN', `cannot start ${BRIDGE_HOST}: ${e.message}`, { hint: 'run make -C hardware/bridge-firmware host' })));
  });
  child.stdin!.on('error', () => undefined); // writes after an unplug
  const cardPort = child.stdio[3] as unknown as Socket;
  cardPort.on('error', () => undefined);
  const w = exitWatch(child, 'bridge-host');
  return {
    hostIn: child.stdin!,
    hostOut: child.stdout!,
    toCards: (msg) => {
      if (cardPort.writable) cardPort.write(msg + '\n');
    },
    onCards: (cb) => lines(cardPort, cb),
    onExit: w.onExit,
    kill: w.kill,
  };
}

function parity(b: number): number {
  let n = 0;
  for (let v = b; v; v &= v - 1) n++;
  return n & 1;
}

/** What one test's bridge sees of a QEMU instance; a new session after each power-up. */
interface QemuSession {
  cards: ((msg: string) => void)[];
  exit: ((why: string) => void)[];
  boot: ((err?: Error) => void) | undefined;
  hostOut: PassThrough;
  live: boolean;
}

/**
 * A running qemu-system-arm with the ARM image. Sockets stay connected for its whole life; a
 * power-up of a bridge is a session: `system_reset` through the monitor, the boot handshake
 * (`B -` / `P slots mask`), then the sockets' traffic goes to that session only. Power-down
 * stops the VM (`stop`) and returns the instance to the pool, so a test file boots QEMU once.
 */
class QemuInstance {
  session: QemuSession | undefined;
  private readonly odd = Array.from({ length: QEMU_SLOTS }, () => false);
  private slotsWanted = 1;
  private present = 0;

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly servers: Server[],
    readonly host: Socket,
    private readonly contacts: Socket,
    private readonly slots: Socket[],
    private readonly monitor: Socket,
    private readonly watch: ReturnType<typeof exitWatch>,
  ) {
    lines(contacts, (l) => this.fromContacts(l));
    slots.forEach((sock, i) =>
      sock.on('data', (d: Buffer) => {
        for (const b of d) this.emit(`T ${i} ${b.toString(16).padStart(2, '0').toUpperCase()} ${parity(b) ^ (this.odd[i] ? 1 : 0)}`);
      }),
    );
    host.on('data', (d: Buffer) => {
      if (this.session?.live) this.session.hostOut.write(d);
    });
    watch.onExit((why) => {
      const s = this.session;
      pool.delete(this);
      s?.boot?.(new BoardError('FW_QEMU_EXIT', why, { hint: 'make -C hardware/bridge-firmware qemu' }));
      if (s?.live) for (const cb of s.exit) cb(why);
      this.cleanup();
    });
  }

  static async launch(): Promise<QemuInstance> {
    const dir = mkdtempSync(join(tmpdir(), 'ifpp-qemu-'));
    const names = ['host', 'contacts', ...Array.from({ length: QEMU_SLOTS }, (_, i) => `slot${i}`), 'monitor'];
    const servers: Server[] = [];
    // Listening first, then QEMU connects to each (a resolved promise would flatten the connection's, so wrap it).
    const listening = await Promise.all(
      names.map(
        (n) =>
          new Promise<{ conn: Promise<Socket> }>((ok, rej) => {
            const server = createServer();
            servers.push(server);
            const conn = new Promise<Socket>((res) => server.once('connection', (s) => res(s)));
            server.once('error', rej);
            server.listen(join(dir, `${n}.sock`), () => ok({ conn }));
          }),
      ),
    );
    // Start stopped (-S): the first session resets and continues it like every later one.
    const args = ['-M', 'netduinoplus2', '-display', 'none', '-nodefaults', '-S', '-kernel', QEMU_ELF];
    names.forEach((n, i) => {
      args.push('-chardev', `socket,id=c${i},path=${join(dir, `${n}.sock`)}`);
      args.push(...(n === 'monitor' ? ['-mon', `chardev=c${i},mode=readline`] : ['-serial', `chardev:c${i}`]));
    });
    const child = spawn(QEMU_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const watch = exitWatch(child, 'qemu-system-arm');
    let sockets: Socket[];
    try {
      sockets = await Promise.race([
        Promise.all(listening.map((l) => l.conn)),
        new Promise<never>((_, rej) => watch.onExit((why) => rej(new BoardError('FW_QEMU_EXIT', why, { hint: `is ${QEMU_ELF} built? make -C hardware/bridge-firmware qemu` })))),
      ]);
    } catch (e) {
      for (const srv of servers) srv.close();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    for (const sock of sockets) sock.on('error', () => undefined);
    const [host, contacts, ...rest] = sockets as [Socket, Socket, ...Socket[]];
    const monitor = rest.pop()!;
    monitor.on('data', () => undefined); // the monitor's echo and prompts
    return new QemuInstance(child, dir, servers, host, contacts, rest, monitor, watch);
  }

  /** Power-up: reset the VM, wait for the firmware's boot handshake. */
  async powerUp(o: BoardOptions): Promise<QemuSession> {
    const session: QemuSession = { cards: [], exit: [], boot: undefined, hostOut: new PassThrough(), live: false };
    this.session = session;
    this.slotsWanted = o.slots;
    this.present = o.present;
    this.odd.fill(false);
    const booted = new Promise<void>((res, rej) => (session.boot = (err) => (err ? rej(err) : res())));
    this.monitor.write('system_reset\ncont\n');
    await booted;
    return session;
  }

  /** Power-down: the VM stops at once; the instance waits in the pool for the next power-up. */
  powerDown(session: QemuSession): void {
    session.live = false;
    session.hostOut.end();
    if (this.session !== session) return;
    this.session = undefined;
    this.monitor.write('stop\n');
  }

  toCards(session: QemuSession, msg: string): void {
    if (this.session !== session || !session.live) return;
    const [kind, s, hh] = msg.split(' ');
    if (kind === 'X') {
      const sock = this.slots[Number(s)];
      if (sock?.writable) sock.write(Uint8Array.of(parseInt(hh!, 16)));
      return;
    }
    if (this.contacts.writable) this.contacts.write(msg + '\n');
  }

  private fromContacts(l: string): void {
    const s = this.session;
    if (!s) return;
    if (l === 'B -') {
      // The firmware asks for the slot count and the cards present before it starts.
      this.contacts.write(`P ${this.slotsWanted} ${this.present.toString(16)}\n`);
      s.live = true;
      s.boot?.();
      s.boot = undefined;
      return;
    }
    if (!s.live) return; // the previous session's last words
    const [kind, slot, fi, , , conv] = l.split(' ');
    if (kind === 'U' && fi !== undefined) this.odd[Number(slot)] = conv === 'O';
    this.emit(l);
  }

  private emit(msg: string): void {
    if (this.session?.live) for (const cb of this.session.cards) cb(msg);
  }

  private cleanup(): void {
    for (const srv of this.servers) srv.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    pool.delete(this);
    await this.watch.kill();
    for (const sock of [this.host, this.contacts, this.monitor, ...this.slots]) sock.destroy();
    this.cleanup();
  }
}

/** QEMU instances of this test worker: idle ones are reused, closeQemuBoards() ends them all. */
const pool = new Map<QemuInstance, boolean>();

/** Ends every QEMU instance this process started (call in afterAll of a file that used them). */
export async function closeQemuBoards(): Promise<void> {
  await Promise.all([...pool.keys()].map((q) => q.close()));
}

async function startQemu(o: BoardOptions): Promise<BoardProcess> {
  if (o.slots < 1 || o.slots > QEMU_SLOTS) throw new BoardError('FW_BRIDGE_SLOTS', `the QEMU board has ${QEMU_SLOTS} slots, not ${o.slots}`);
  let q = [...pool.entries()].find(([, idle]) => idle)?.[0];
  if (!q) q = await QemuInstance.launch();
  pool.set(q, false);
  const inst = q;
  const session = await inst.powerUp(o);
  const hostIn = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (inst.session === session && session.live && inst.host.writable) inst.host.write(chunk);
      done();
    },
  });
  return {
    hostIn,
    hostOut: session.hostOut,
    toCards: (msg) => inst.toCards(session, msg),
    onCards: (cb) => session.cards.push(cb),
    onExit: (cb) => session.exit.push(cb),
    kill: async () => {
      inst.powerDown(session);
      if (pool.has(inst)) pool.set(inst, true);
    },
  };
}
