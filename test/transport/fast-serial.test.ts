/**
 * The direct-I/O serial binding (src/transport/bridge/fast-serial.ts) on a real pty: a binding
 * composed over the platform's, whose ports leave the inner port untouched; reads that find
 * nothing wait on the poller (EAGAIN), writes larger than the pty buffer wait for room, a
 * hung-up line (EOF) never surfaces as a zero-byte read, a read and a write waiting at once
 * are both woken (the poller watches both directions), and a vanished fd is a disconnect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import type { BindingInterface, BindingPortInterface, OpenOptions } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { closeSync, openSync } from 'node:fs';
import { PtyDevice } from '../../src/sim/pty/pty-device.ts';
import { EOF_RETRY_MS, FastSerialBinding, FastSerialPort, stockSerialBinding } from '../../src/transport/bridge/fast-serial.ts';

/** The platform binding, remembering the ports it opened (to check nothing was patched on them). */
function recordingBinding(): { binding: BindingInterface; opened: BindingPortInterface[] } {
  const opened: BindingPortInterface[] = [];
  return {
    opened,
    binding: {
      list: () => stockSerialBinding.list(),
      async open(o: OpenOptions) {
        const p = await stockSerialBinding.open(o);
        opened.push(p);
        return p;
      },
    },
  };
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function openPair(): Promise<{ pty: PtyDevice; port: BindingPortInterface; inner: BindingPortInterface }> {
  const pty = await PtyDevice.open();
  cleanup.push(() => pty.close());
  const rec = recordingBinding();
  const port = await new FastSerialBinding(rec.binding).open({ path: pty.path, baudRate: 115200 });
  cleanup.push(async () => (port.isOpen ? port.close() : undefined));
  return { pty, port, inner: rec.opened[0]! };
}

describe('fast serial binding', () => {
  it('wraps the platform port by composition: the inner port keeps its own read and write', async () => {
    const { port, inner } = await openPair();
    expect(port).toBeInstanceOf(FastSerialPort);
    expect(port).not.toBe(inner);
    // Nothing assigned onto the port serialport made: read/write are still its prototype's.
    expect(Object.hasOwn(inner, 'read')).toBe(false);
    expect(Object.hasOwn(inner, 'write')).toBe(false);
    expect(port.openOptions.path).toBe(inner.openOptions.path);
    expect(await port.getBaudRate()).toEqual(await inner.getBaudRate());
  });

  it('a read with nothing to read waits for the device (EAGAIN on the poller), then returns its bytes', async () => {
    const { pty, port } = await openPair();
    const buf = Buffer.alloc(64);
    let done = false;
    const reading = port.read(buf, 0, 64).then((r) => ((done = true), r));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    pty.write('OK\n');
    const r = await reading;
    expect(buf.subarray(0, r.bytesRead).toString()).toBe('OK\n');
  });

  it('a write larger than the pty buffer waits for room and arrives whole, in order', async () => {
    const { pty, port } = await openPair();
    // Far beyond a pty's buffer (a few KiB): writeSync must hit EAGAIN and wait on the poller.
    const data = Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
    const got: Buffer[] = [];
    let n = 0;
    const all = new Promise<void>((res) =>
      pty.on('data', (d) => {
        got.push(d);
        n += d.length;
        if (n >= data.length) res();
      }),
    );
    await port.write(data);
    await all;
    expect(Buffer.concat(got).equals(data)).toBe(true);
  });

  it('a read is answered while a write waits for room, and the write goes on while a read waits (the poller watches both)', async () => {
    const { pty, port, inner } = await openPair();
    const poller = (inner as unknown as { poller: import('node:events').EventEmitter }).poller;
    const data = Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) => (i * 13 + (i >> 9)) & 0xff));
    const got: Buffer[] = [];
    let n = 0;
    const arrived = new Promise<void>((res) =>
      pty.on('data', (d) => {
        got.push(d);
        n += d.length;
        if (n >= data.length) res();
      }),
    );
    pty.pauseReading(); // the device takes nothing for now: the write fills the pty and waits
    const buf = Buffer.alloc(64);
    const reading = port.read(buf, 0, 64); // nothing to read: waits for 'readable'
    let written = false;
    const writing = port.write(data).then(() => (written = true));
    // Until the write is waiting for room (a listener on the poller's 'writable').
    for (let i = 0; i < 10_000 && poller.listenerCount('writable') === 0; i++) await new Promise((r) => setImmediate(r));
    expect(poller.listenerCount('writable')).toBe(1);
    // An answer for another slot arrives while our long request waits: it must be read now
    // (bindings-cpp 13.0.0's poller watched only the last event asked for, so it was not).
    pty.write('7 OK\n');
    const r = await reading;
    expect(buf.subarray(0, r.bytesRead).toString()).toBe('7 OK\n');
    expect(written).toBe(false);
    // A new read now waits for 'readable' as well; the device takes the bytes again: the
    // write must still be told there is room.
    const reading2 = port.read(buf, 0, 64);
    pty.resumeReading();
    await writing;
    await arrived;
    expect(Buffer.concat(got).equals(data)).toBe(true);
    pty.write('8 OK\n');
    const r2 = await reading2;
    expect(buf.subarray(0, r2.bytesRead).toString()).toBe('8 OK\n');
  }, 20_000);

  it('a read waiting when the line hangs up fails (the stream takes it as a disconnect), never with zero bytes', async () => {
    const { pty, port } = await openPair();
    const reading = port.read(Buffer.alloc(16), 0, 16);
    const outcome = reading.then(
      (r) => ({ bytesRead: r.bytesRead }),
      (e: { canceled?: boolean }) => ({ canceled: e.canceled === true }),
    );
    await pty.close();
    // Not canceled: serialport's stream closes the port as disconnected on any other read error.
    expect(await outcome).toEqual({ canceled: false });
  });

  it('a read after the hang-up (EOF forever) waits instead of returning zero bytes, until the port is closed', async () => {
    const { pty, port } = await openPair();
    await pty.close(); // master gone: the slave reads end-of-file from now on
    let settled = false;
    const reading = port.read(Buffer.alloc(16), 0, 16);
    const outcome = reading.then(
      (r) => ((settled = true), { bytesRead: r.bytesRead }),
      (e: { canceled?: boolean }) => ((settled = true), { canceled: e.canceled === true }),
    );
    // Several EOF retries (EOF_RETRY_MS apart) pass without the read resolving.
    for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, EOF_RETRY_MS + 10));
    expect(settled).toBe(false);
    await port.close();
    expect(await outcome).toEqual({ canceled: true });
  });

  it('a read or write on a vanished file descriptor fails as a disconnect', async () => {
    // A port whose fd was closed under it (EBADF): serialport's own classification.
    const fd = openSync('/dev/null', 'r');
    closeSync(fd);
    const inner = {
      fd,
      isOpen: true,
      poller: { once: () => undefined },
    } as unknown as ConstructorParameters<typeof FastSerialPort>[0];
    const port = new FastSerialPort(inner);
    await expect(port.read(Buffer.alloc(4), 0, 4)).rejects.toMatchObject({ code: 'EBADF', disconnect: true });
    await expect(port.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'EBADF', disconnect: true });
  });

  it('carries a SerialPort stream both ways', async () => {
    const pty = await PtyDevice.open();
    cleanup.push(() => pty.close());
    const sp = new SerialPort({ path: pty.path, baudRate: 115200, autoOpen: false, binding: new FastSerialBinding() } as ConstructorParameters<typeof SerialPort>[0]);
    await new Promise<void>((res, rej) => sp.open((e) => (e ? rej(e) : res())));
    cleanup.push(() => new Promise<void>((res) => sp.close(() => res())));
    const fromPort = new Promise<string>((res) => pty.once('data', (d) => res(d.toString())));
    sp.write('INFO\n');
    expect(await fromPort).toBe('INFO\n');
    const fromDevice = new Promise<string>((res) => sp.once('data', (d: Buffer) => res(d.toString())));
    pty.write('0 OK\n');
    expect(await fromDevice).toBe('0 OK\n');
  });
});
