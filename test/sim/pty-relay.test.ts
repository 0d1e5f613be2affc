import { describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { existsSync, readlinkSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PtyRelay } from '../../src/sim/pty/pty-relay.ts';

describe('PtyRelay', () => {
  it('carries bytes both ways between serialport on the slave and the relay', async () => {
    const link = join(mkdtempSync(join(tmpdir(), 'ifpp-pty-')), 'dev0');
    const relay = await PtyRelay.open(link);
    expect(readlinkSync(link)).toBe(relay.path);
    const port = new SerialPort({ path: link, baudRate: 115200 });
    await new Promise<void>((res, rej) => port.once('open', res).once('error', rej));
    const fromPort = new Promise<string>((res) => relay.once('data', (d) => res(d.toString())));
    port.write('hello\n');
    expect(await fromPort).toBe('hello\n');
    const fromRelay = new Promise<string>((res) => port.once('data', (d: Buffer) => res(d.toString())));
    relay.write(Uint8Array.of(0, 0xff, 0x0a, 0x0d));
    expect(Buffer.from(await fromRelay, 'latin1').length).toBeGreaterThan(0);
    await new Promise<void>((res) => port.close(() => res()));
    await relay.close();
    expect(existsSync(link)).toBe(false);
  });

  it('is raw: binary bytes pass unchanged', async () => {
    const relay = await PtyRelay.open();
    const port = new SerialPort({ path: relay.path, baudRate: 115200 });
    await new Promise<void>((res, rej) => port.once('open', res).once('error', rej));
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const got: Buffer[] = [];
    const done = new Promise<void>((res) =>
      port.on('data', (d: Buffer) => {
        got.push(d);
        if (Buffer.concat(got).length >= 256) res();
      }),
    );
    relay.write(all);
    await done;
    expect([...Buffer.concat(got)]).toEqual([...all]);
    await new Promise<void>((res) => port.close(() => res()));
    await relay.close();
  });
});
