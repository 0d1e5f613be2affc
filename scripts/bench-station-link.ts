/**
 * Floor of the simulated link: what one exchange costs between the bridge simulator sending an
 * answer and receiving the next request, when the host does nothing but read the line and write
 * the next one. Path: bridge process → pty → serial layer (the station's,
 * src/transport/bridge/fast-serial.ts) → client → back the same way. The station pays this on
 * every exchange on top of the card-contact time; a real bridge has its own (USB) latency.
 *
 * Measured with a 1-slot bridge holding the echo test card, at real time (time scale 1), with
 * 255-byte STORE commands like a BPP load's, and read from the bridge's own bookkeeping
 * (scripts/bench-station-bridge.ts).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SerialPort } from 'serialport';
import { encodeRequest, type BridgeRequest } from '../src/core/bridge-protocol/verbs.ts';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { fastSerialBinding, stockSerialBinding } from '../src/transport/bridge/fast-serial.ts';

export interface LinkFloor {
  exchanges: number;
  /** Median and mean host-side gap per exchange, ms. */
  medianMs: number;
  meanMs: number;
}

/** BENCH_SLOW_SERIAL=1: serialport's stock binding instead of the station's. */
const defaultBinding = (): BindingInterface => (process.env['BENCH_SLOW_SERIAL'] ? stockSerialBinding : fastSerialBinding);

export async function measureLinkFloor(root: string, bridgeScript: string, link: string, exchanges = 300, binding: BindingInterface = defaultBinding()): Promise<LinkFloor> {
  const child = spawn(process.execPath, ['--import', 'tsx', bridgeScript, '--slots', '1', '--link', link, '--time-scale', '1', '--card-options', '{}'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(String((await lines.next()).value)) as Record<string, unknown>;
  const ready = await next();
  if (ready.event !== 'ready') throw new Error(`calibration bridge: ${JSON.stringify(ready)}`);
  const port = new SerialPort({ path: link, baudRate: 115200, autoOpen: false, binding } as ConstructorParameters<typeof SerialPort>[0]);
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  let buf = '';
  let waiter: (() => void) | undefined;
  port.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    if (buf.includes('\n') && waiter) {
      const w = waiter;
      waiter = undefined;
      w();
    }
  });
  const roundTrip = (line: string) =>
    new Promise<string>((resolve) => {
      const take = () => {
        const nl = buf.indexOf('\n');
        const l = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        resolve(l);
      };
      port.write(line);
      if (buf.includes('\n')) take();
      else waiter = take;
    });
  let id = 1;
  const req = (r: BridgeRequest) => encodeRequest(id++, r);
  const setup: BridgeRequest[] = [
    { verb: 'POWER', slot: 0, vcc: 'C' },
    { verb: 'CLOCK', slot: 0, hz: 5_000_000 },
    { verb: 'RESET', slot: 0, kind: 'COLD' },
    { verb: 'PPS', slot: 0, pps: Uint8Array.of(0xff, 0x10, 0x96, 0x79) },
  ];
  for (const r of setup) {
    const a = await roundTrip(req(r));
    if (!/ OK/.test(a)) throw new Error(`calibration: ${a}`);
  }
  // Pre-encoded, so the client does nothing per exchange but write and read.
  const store = new Uint8Array(260).fill(0x5a);
  store.set([0x80, 0xe2, 0x11, 0x00, 0xff]);
  const batch = Array.from({ length: exchanges }, () => req({ verb: 'TPDU', slot: 0, tpdu: store }));
  for (const line of batch) {
    const a = await roundTrip(line);
    if (!/ OK 9000 /.test(a)) throw new Error(`calibration: ${a}`);
  }
  child.stdin.write('swap 0 -\n');
  const r = await next();
  const gaps = ((r.prev as { gaps?: number[] }).gaps ?? []).slice(setup.length);
  await new Promise<void>((res) => port.close(() => res()));
  child.stdin.write('quit\n');
  await new Promise((res) => child.once('exit', res));
  const sorted = gaps.sort((a, b) => a - b);
  return {
    exchanges: sorted.length,
    medianMs: sorted[sorted.length >> 1] ?? NaN,
    meanMs: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
  };
}
