import { describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { closeSync, constants, createReadStream, existsSync, mkdtempSync, openSync, readSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PtyDevice } from '../../src/sim/pty/pty-device.ts';

describe('PtyDevice', () => {
  it('carries bytes both ways between serialport on the slave and the simulator on the master', async () => {
    const link = join(mkdtempSync(join(tmpdir(), 'ifpp-pty-')), 'dev0');
    const pty = await PtyDevice.open(link);
    expect(readlinkSync(link)).toBe(pty.path);
    const port = new SerialPort({ path: link, baudRate: 115200 });
    await new Promise<void>((res, rej) => port.once('open', res).once('error', rej));
    const fromPort = new Promise<string>((res) => pty.once('data', (d) => res(d.toString())));
    port.write('hello\n');
    expect(await fromPort).toBe('hello\n');
    const fromSim = new Promise<string>((res) => port.once('data', (d: Buffer) => res(d.toString())));
    pty.write(Uint8Array.of(0, 0xff, 0x0a, 0x0d));
    expect(Buffer.from(await fromSim, 'latin1').length).toBeGreaterThan(0);
    await new Promise<void>((res) => port.close(() => res()));
    await pty.close();
    expect(existsSync(link)).toBe(false);
  });

  it('is raw: binary bytes pass unchanged', async () => {
    const pty = await PtyDevice.open();
    const port = new SerialPort({ path: pty.path, baudRate: 115200 });
    await new Promise<void>((res, rej) => port.once('open', res).once('error', rej));
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const got: Buffer[] = [];
    const done = new Promise<void>((res) =>
      port.on('data', (d: Buffer) => {
        got.push(d);
        if (Buffer.concat(got).length >= 256) res();
      }),
    );
    pty.write(all);
    await done;
    expect([...Buffer.concat(got)]).toEqual([...all]);
    await new Promise<void>((res) => port.close(() => res()));
    await pty.close();
  });

  it('keeps the simulator running when the station does not read: bytes wait and arrive in order', async () => {
    const pty = await PtyDevice.open();
    // A reader that has the port open but is not reading yet (serialport's open flushes input,
    // so the station side is opened first, as in real use).
    const fd = openSync(pty.path, constants.O_RDWR | constants.O_NOCTTY);
    const big = Buffer.alloc(256 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) & 0xff;
    pty.write(big); // far more than the pty buffers
    // A blocking write would freeze this process here; the timer proves the loop still turns.
    await new Promise((r) => setTimeout(r, 20));
    const got: Buffer[] = [];
    let len = 0;
    const reader = createReadStream('', { fd });
    await new Promise<void>((res) =>
      reader.on('data', (d) => {
        got.push(d as Buffer);
        len += d.length;
        if (len >= big.length) res();
      }),
    );
    expect(Buffer.concat(got).equals(big)).toBe(true);
    reader.on('error', () => {}); // its last read in flight fails with EIO when the pty goes
    reader.destroy();
    await pty.close();
  });

  it('closing the device hangs up the station side, like an unplugged cable', async () => {
    const pty = await PtyDevice.open();
    const fd = openSync(pty.path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    const readOnce = (): string => {
      try {
        return readSync(fd, Buffer.alloc(16)) === 0 ? 'eof' : 'data';
      } catch (e) {
        return (e as NodeJS.ErrnoException).code ?? 'error';
      }
    };
    expect(readOnce()).toBe('EAGAIN'); // open and quiet
    await pty.close();
    // A hung-up pty reads as EIO or end-of-file, never "try again".
    expect(['EIO', 'eof']).toContain(readOnce());
    closeSync(fd);
  });
});
