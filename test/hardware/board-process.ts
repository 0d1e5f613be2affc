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
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
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

async function startQemu(o: BoardOptions): Promise<BoardProcess> {
  if (o.slots < 1 || o.slots > QEMU_SLOTS) throw new BoardError('FW_BRIDGE_SLOTS', `the QEMU board has ${QEMU_SLOTS} slots, not ${o.slots}`);
  const dir = mkdtempSync(join(tmpdir(), 'ifpp-qemu-'));
  const names = ['host', 'contacts', ...Array.from({ length: QEMU_SLOTS }, (_, i) => `slot${i}`)];
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
  const conns = listening.map((l) => l.conn);
  const args = ['-M', 'netduinoplus2', '-display', 'none', '-monitor', 'none', '-nodefaults', '-kernel', QEMU_ELF];
  names.forEach((n, i) => args.push('-chardev', `socket,id=c${i},path=${join(dir, `${n}.sock`)}`, '-serial', `chardev:c${i}`));
  const child = spawn(QEMU_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const cleanup = () => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const w = exitWatch(child, 'qemu-system-arm');
  let failed: ((e: Error) => void) | undefined;
  w.onExit((why) => failed?.(new BoardError('FW_QEMU_EXIT', why, { hint: 'make -C hardware/bridge-firmware qemu' })));
  let sockets: Socket[];
  try {
    sockets = await Promise.race([Promise.all(conns), new Promise<never>((_, rej) => (failed = rej))]);
  } catch (e) {
    cleanup();
    throw e;
  }
  for (const s of sockets) s.on('error', () => undefined);
  const [host, contacts, ...slotSocks] = sockets as [Socket, Socket, ...Socket[]];
  const odd = Array.from({ length: QEMU_SLOTS }, () => false);
  const cardCbs: ((msg: string) => void)[] = [];
  const emit = (m: string) => cardCbs.forEach((cb) => cb(m));
  // The firmware asks for the slot count and the cards present before it starts.
  const booted = new Promise<void>((res, rej) => {
    failed = rej;
    lines(contacts, (l) => {
      if (l === 'B -') {
        contacts.write(`P ${o.slots} ${o.present.toString(16)}\n`);
        res();
        return;
      }
      const [kind, s, fi, , , conv] = l.split(' ');
      if (kind === 'U' && fi !== undefined) odd[Number(s)] = conv === 'O';
      emit(l);
    });
  });
  slotSocks.forEach((sock, i) =>
    sock.on('data', (d: Buffer) => {
      for (const b of d) emit(`T ${i} ${b.toString(16).padStart(2, '0').toUpperCase()} ${parity(b) ^ (odd[i] ? 1 : 0)}`);
    }),
  );
  try {
    await booted;
  } catch (e) {
    cleanup();
    throw e;
  }
  failed = undefined;
  return {
    hostIn: host,
    hostOut: host,
    toCards: (msg) => {
      const [kind, s, hh] = msg.split(' ');
      if (kind === 'X') {
        const sock = slotSocks[Number(s)];
        if (sock?.writable) sock.write(Uint8Array.of(parseInt(hh!, 16)));
        return;
      }
      if (contacts.writable) contacts.write(msg + '\n');
    },
    onCards: (cb) => cardCbs.push(cb),
    onExit: w.onExit,
    kill: async () => {
      await w.kill();
      for (const s of sockets) s.destroy();
      cleanup();
    },
  };
}
