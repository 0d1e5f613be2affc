/**
 * The bridge line-protocol conformance suite (hardware/PROTOCOL.md), run against every bridge
 * implementation: the TypeScript simulator (test/sim/bridge-sim.test.ts) and the firmware core
 * built for the host (test/hardware/firmware.test.ts), so the two cannot drift apart. A bridge
 * under test is driven through a real pty with serialport, and controlled through the fault
 * injection surface both share (cards in and out, faults, garbled and lost lines, unplug).
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SerialPort } from 'serialport';
import { DelimiterParser } from '@serialport/parser-delimiter';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeProtocolError } from '../../src/core/bridge-protocol/errors.ts';
import { crc16Hex } from '../../src/core/bridge-protocol/crc16.ts';
import { formatRequest, parseBridgeLine, sealLine, type BridgeFrame, type ResponseFrame } from '../../src/core/bridge-protocol/frame.ts';
import { buildPps } from '../../src/core/bridge-protocol/iso7816.ts';
import { decodeEvent, decodeReply, encodeRequest, type BridgeEvent, type BridgeRequest, type ReplyMap } from '../../src/core/bridge-protocol/verbs.ts';
import { toHex, fromHex } from '../../src/core/bytes.ts';
import { EchoCard, type EchoCardOptions } from '../../src/sim/card/echo-card.ts';
import type { SimCard, TpduResult } from '../../src/sim/card/card-model.ts';

type Incoming = { frame: BridgeFrame } | { bad: string; error: BridgeProtocolError };

/** A minimal host: serialport + parser-delimiter, request ids, CRC checked on every line. */
export class TestHost {
  readonly log: Incoming[] = [];
  private waiters: { pred: (x: Incoming) => boolean; resolve: (x: Incoming) => void }[] = [];
  private nextId = 1;
  readonly closed: Promise<void>;

  private constructor(readonly port: SerialPort) {
    const parser = port.pipe(new DelimiterParser({ delimiter: '\n' }));
    parser.on('data', (d: Buffer) => {
      const line = d.toString('latin1');
      let item: Incoming;
      try {
        item = { frame: parseBridgeLine(line) };
      } catch (e) {
        if (!(e instanceof BridgeProtocolError)) throw e;
        item = { bad: line, error: e };
      }
      this.log.push(item);
      const w = this.waiters.find((x) => x.pred(item));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(item);
      }
    });
    this.closed = new Promise((res) => port.once('close', () => res()));
  }

  static async open(path: string): Promise<TestHost> {
    const port = new SerialPort({ path, baudRate: 115200 });
    await new Promise<void>((res, rej) => port.once('open', res).once('error', rej));
    port.on('error', () => undefined); // a vanished pty errors before it closes
    const host = new TestHost(port);
    port.write('\n'); // resynchronise the bridge's line buffer
    return host;
  }

  /** Waits for an incoming item (already received or future) matching pred. */
  waitFor(pred: (x: Incoming) => boolean, timeoutMs = 3000): Promise<Incoming> {
    const seen = this.log.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (x: Incoming) => (clearTimeout(t), resolve(x)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error('timeout'));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** The id the next send() will use. */
  get upcomingId(): number {
    return this.nextId;
  }

  writeRaw(line: string | Uint8Array): void {
    this.port.write(line);
  }

  /** Sends a request; resolves with its response frame (matched by id). */
  async send(req: BridgeRequest, timeoutMs = 3000): Promise<ResponseFrame & { sentId: number }> {
    const id = this.nextId++;
    this.port.write(encodeRequest(id, req));
    const r = await this.waitFor((x) => 'frame' in x && x.frame.kind === 'response' && x.frame.id === id, timeoutMs);
    return { ...(r as { frame: ResponseFrame }).frame, sentId: id };
  }

  /** Sends a request and decodes an OK reply; throws on ERR. */
  async call<R extends BridgeRequest>(req: R): Promise<ReplyMap[R['verb']]> {
    const f = await this.send(req);
    if (!f.ok) throw new Error(`ERR ${f.error}`);
    return decodeReply(req.verb, f.args) as ReplyMap[R['verb']];
  }

  async error(req: BridgeRequest): Promise<string> {
    const f = await this.send(req);
    return f.ok ? 'OK' : f.error;
  }

  event(pred: (e: BridgeEvent) => boolean): Promise<BridgeEvent> {
    return this.waitFor((x) => {
      if (!('frame' in x) || x.frame.kind !== 'event') return false;
      const e = decodeEvent(x.frame);
      return e !== undefined && pred(e);
    }).then((x) => decodeEvent((x as { frame: Extract<BridgeFrame, { kind: 'event' }> }).frame)!);
  }

  /**
   * Resolves once the port has closed because the device vanished. serialport 13 on Linux
   * retries the 0-byte reads of a hung-up tty forever instead of closing (bindings-cpp issue
   * #162), so, like a real driver, keep writing: a write to a hung-up tty fails and closes it.
   * A bare newline is harmless to the bridge.
   */
  async noticeClose(): Promise<void> {
    const beat = setInterval(() => {
      if (this.port.isOpen) this.port.write('\n');
    }, 20);
    await this.closed;
    clearInterval(beat);
  }

  close(): Promise<void> {
    if (!this.port.isOpen) return Promise.resolve();
    return new Promise((res) => this.port.close(() => res()));
  }
}

export const tpdu = (hex: string) => ({ verb: 'TPDU', slot: 0, tpdu: fromHex(hex) }) as const;
export const apdu = (hex: string, slot = 0) => ({ verb: 'APDU', slot, apdu: fromHex(hex) }) as const;
export const resp = (r: { data: Uint8Array }) => toHex(r.data).toUpperCase();

/** A card whose TPDU answers wait until the test opens the gate. */
export class GatedCard implements SimCard {
  private readonly inner: EchoCard;
  private open: (() => void) | undefined;
  private gate: Promise<void> | undefined;
  atrDelayClocks = 400;
  constructor(opts: EchoCardOptions = {}) {
    this.inner = new EchoCard(opts);
  }
  close(): void {
    this.gate = new Promise((res) => (this.open = res));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  atr(kind: 'cold' | 'warm') {
    return this.inner.atr(kind);
  }
  pps(r: Uint8Array) {
    return this.inner.pps(r);
  }
  async transmitTpdu(t: Uint8Array): Promise<TpduResult> {
    if (this.gate) await this.gate;
    return this.inner.transmitTpdu(t);
  }
  powerOff() {
    this.inner.powerOff();
  }
}

/**
 * Records the TPDUs a card receives, and hands the echo card commands on any logical channel
 * (CLA 81, C5 ... become 80) so a test can see which CLA the bridge gave GET RESPONSE.
 */
export class RecordingCard implements SimCard {
  readonly tpdus: string[] = [];
  readonly atrDelayClocks: number;
  constructor(private readonly inner: EchoCard) {
    this.atrDelayClocks = inner.atrDelayClocks;
  }
  atr(kind: 'cold' | 'warm') {
    return this.inner.atr(kind);
  }
  pps(r: Uint8Array) {
    return this.inner.pps(r);
  }
  transmitTpdu(t: Uint8Array): Promise<TpduResult> {
    this.tpdus.push(toHex(t).toUpperCase());
    const fwd = t.slice();
    if (fwd[1] !== 0xc0 && (fwd[0]! & 0x80) !== 0) fwd[0] = 0x80;
    return this.inner.transmitTpdu(fwd);
  }
  powerOff() {
    this.inner.powerOff();
  }
}

/** The echo card in the inverse convention: its ATR starts with TS = 3F. */
class InverseEchoCard extends EchoCard {
  override atr(kind: 'cold' | 'warm'): Uint8Array {
    const a = super.atr(kind);
    a[0] = 0x3f;
    return a;
  }
}

export async function activate(host: TestHost, slot: number) {
  expect(await host.call({ verb: 'POWER', slot, vcc: 'C' })).toEqual({});
  return host.call({ verb: 'RESET', slot, kind: 'COLD' });
}

/** What both the simulator and the firmware harness offer a test. */
export interface BridgeUnderTest {
  readonly path: string;
  readonly connected: boolean;
  card(slot: number): SimCard | undefined;
  insertCard(slot: number, card: SimCard): void;
  removeCard(slot: number): SimCard | undefined;
  /** null = bridge-wide. */
  injectFault(slot: number | null, code: string): void;
  corruptNextLine(n?: number): void;
  dropNextResponse(n?: number): void;
  /** The next line the host sends loses its tail in the bridge's receive buffer (resolves once armed). */
  overrunNextLine(): Promise<void>;
  disconnect(): Promise<void>;
  reconnect(): Promise<string>;
  close(): Promise<void>;
}

export interface BridgeFactory {
  /** Title of the suite. */
  name: string;
  /** One slot per card. timeScale: the simulator's pacing (others ignore it; default 0). */
  start(opts: { cards: SimCard[]; link?: string; timeScale?: number }): Promise<BridgeUnderTest>;
  /** Skip the whole suite, saying why. */
  skip?: string | undefined;
  /** Extra checks on a bridge before it is closed at the end of a test. */
  verify?(bridge: BridgeUnderTest): void;
}

/** Defines the conformance suite for one bridge implementation. */
export function bridgeConformance(factory: BridgeFactory): void {
  describe.skipIf(factory.skip !== undefined)(factory.name, () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanup.splice(0).reverse()) await c();
    });

    /** A link path in a fresh temp directory, removed after the test. */
    function tempLink(): string {
      const dir = mkdtempSync(join(tmpdir(), 'ifpp-bridge-'));
      cleanup.unshift(async () => rmSync(dir, { recursive: true, force: true }));
      return join(dir, 'bridge0');
    }

    async function setup(cards: SimCard[], opts: { link?: string; timeScale?: number } = {}) {
      const bridge = await factory.start({ cards, timeScale: opts.timeScale ?? 0, ...(opts.link ? { link: opts.link } : {}) });
      cleanup.push(async () => {
        factory.verify?.(bridge);
        await bridge.close();
      });
      const host = await TestHost.open(bridge.path);
      cleanup.push(() => host.close());
      return { bridge, host };
    }

    it('answers INFO, POWER, RESET (with the ATR), PPS (echo) and STATUS', async () => {
      const card = new EchoCard({ ta1: 0x96 });
      const { host } = await setup([card, new EchoCard(), new EchoCard(), new EchoCard()]);
      const info = await host.call({ verb: 'INFO' });
      expect(info).toMatchObject({ protocol: 1, slots: 4, classes: 'ABC' });
      expect(info.maxLine).toBeGreaterThanOrEqual(600);
      expect([...info.ta1]).toContain(0x96);
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'OFF', busy: false, vcc: 'OFF' });
      const atr = await activate(host, 0);
      expect(resp(atr)).toBe(toHex(card.atr('warm')).toUpperCase());
      const pps = await host.call({ verb: 'PPS', slot: 0, pps: buildPps(0x96) });
      expect(resp(pps)).toBe('FF109679');
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'READY', vcc: 'C', ta1: 0x96 });
      // PPS is only allowed right after the ATR
      expect(await host.error({ verb: 'PPS', slot: 0, pps: buildPps(0x96) })).toBe('STATE');
    });

    it('runs T=0 exchanges: case 4 answers 61xx, GET RESPONSE returns the data, wrong Le gets 6Cxx', async () => {
      const { host } = await setup([new EchoCard()]);
      await activate(host, 0);
      expect(resp(await host.call(tpdu('80EE000004CAFEBABE')))).toBe('6104');
      expect(resp(await host.call(tpdu('00C0000002')))).toBe('6C04');
      expect(resp(await host.call(tpdu('00C0000004')))).toBe('CAFEBABE9000');
      expect(resp(await host.call(tpdu('80CA000008')))).toBe('6C10');
      expect(resp(await host.call(tpdu('80CA000010')))).toBe('000102030405060708090A0B0C0D0E0F9000');
      expect(resp(await host.call(tpdu('80E2910003010203')))).toBe('9000');
      expect(resp(await host.call(tpdu('80770000020102')))).toBe('6D00');
    });

    it('APDU verb (INFO APDU=1): cases 1 to 4 in one request each, 6Cxx and 61xx chains followed at the bridge, GET RESPONSE on the logical channel', async () => {
      const card = new RecordingCard(new EchoCard());
      const chained = new RecordingCard(new EchoCard({ data: 'A5'.repeat(250), chunk: 100 }));
      const { host } = await setup([card, chained]);
      expect((await host.call({ verb: 'INFO' })).apdu).toBe(true);
      expect(await host.error(apdu('80CA000010'))).toBe('STATE'); // not reset yet
      await activate(host, 0);
      const run = async (cmd: string, slot = 0) => {
        const rec = slot === 0 ? card : chained;
        const from = rec.tpdus.length;
        const r = await host.call(apdu(cmd, slot));
        expect(r.micros).toBeGreaterThan(0);
        return { resp: resp(r), tpdus: rec.tpdus.slice(from) };
      };
      expect(await run('80E20000')).toEqual({ resp: '9000', tpdus: ['80E2000000'] }); // case 1: P3 = 00
      expect(await run('80CA000010')).toEqual({ resp: '000102030405060708090A0B0C0D0E0F9000', tpdus: ['80CA000010'] }); // case 2
      expect(await run('80CA000008')).toEqual({ resp: '000102030405060708090A0B0C0D0E0F9000', tpdus: ['80CA000008', '80CA000010'] }); // 6C10
      expect(await run('80E2910003010203')).toEqual({ resp: '9000', tpdus: ['80E2910003010203'] }); // case 3
      expect(await run('80EE000004CAFEBABE00')).toEqual({ resp: 'CAFEBABE9000', tpdus: ['80EE000004CAFEBABE', '00C0000004'] }); // case 4: Le not sent
      expect(await run('81EE000002CAFE00')).toEqual({ resp: 'CAFE9000', tpdus: ['81EE000002CAFE', '01C0000002'] }); // channel 1
      expect(await run('C5EE000001AA00')).toEqual({ resp: 'AA9000', tpdus: ['C5EE000001AA', '45C0000001'] }); // channel 9
      expect(await run('80770000')).toEqual({ resp: '6D00', tpdus: ['8077000000'] }); // error SW as it is
      // A 250-byte answer in pieces of 100: 6C64, then 6164, 6132 followed with GET RESPONSE.
      await activate(host, 1);
      expect(await run('80CA000000', 1)).toEqual({ resp: 'A5'.repeat(250) + '9000', tpdus: ['80CA000000', '80CA000064', '00C0000064', '00C0000032'] });
      expect(await host.error(apdu('80CA00'))).toBe('ARG');
      expect(await host.error(apdu('80E2000000AA'))).toBe('ARG'); // Lc 00: extended length
      expect(await host.error(apdu('80E2000002AABBCCDD'))).toBe('ARG');
    });

    it('APDU verb stops at 256 bytes of response data and answers the 61xx; the host fetches the rest with TPDU', async () => {
      const big = Array.from({ length: 300 }, (_, i) => (i & 0xff).toString(16).padStart(2, '0')).join('').toUpperCase();
      const { host } = await setup([new EchoCard({ data: big })]);
      await activate(host, 0);
      expect(resp(await host.call(apdu('80CA000008')))).toBe(big.slice(0, 512) + '612C'); // 6C00, then 256 + 612C
      expect(resp(await host.call(tpdu('00C000002C')))).toBe(big.slice(512) + '9000');
      // A card failure during an APDU is reported as for TPDU and ends the activation.
      expect(await host.error(apdu('80DE000000'))).toBe('TIMEOUT');
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'OFF' });
    });

    it('APDUS verb (INFO BATCH=n): APDUs in order in one request, stopping at the first answer that is not a bare 9000; count, last answer, summed card time', async () => {
      const card = new RecordingCard(new EchoCard());
      const { host } = await setup([card]);
      const info = await host.call({ verb: 'INFO' });
      expect(info.batch).toBeGreaterThanOrEqual(2);
      const n = info.batch!;
      const batch = (...hex: string[]) => ({ verb: 'APDUS', slot: 0, apdus: hex.map((h) => fromHex(h)) }) as const;
      expect(await host.error(batch('80E2910001AA'))).toBe('STATE'); // not reset yet
      await activate(host, 0);
      const run = async (...hex: string[]) => {
        const from = card.tpdus.length;
        const r = await host.call(batch(...hex));
        return { count: r.count, resp: resp(r), micros: r.micros, tpdus: card.tpdus.slice(from) };
      };
      // Two STORE blocks answer a bare 9000, the ECHO answers 6102: followed by GET RESPONSE at the bridge.
      const three = await run('80E2110002AABB', '80E2910002CCDD', '80EE000002CAFE00');
      expect(three).toMatchObject({ count: 3, resp: 'CAFE9000', tpdus: ['80E2110002AABB', '80E2910002CCDD', '80EE000002CAFE', '00C0000002'] });
      expect(three.micros).toBeGreaterThan(0); // the sum over its TPDUs (exactly so: the simulator's timing test, the C unit test)
      // An error status stops the sequence: the third APDU never reaches the card.
      expect(await run('80E2110001AA', '80770000', '80E2910001BB')).toMatchObject({ count: 2, resp: '6D00', tpdus: ['80E2110001AA', '8077000000'] });
      // Response data stops it too (GET DATA, case 2).
      expect(await run('80CA000010', '80E2910001BB')).toMatchObject({ count: 1, resp: '000102030405060708090A0B0C0D0E0F9000', tpdus: ['80CA000010'] });
      // The longest request: n full 255-byte STORE DATA blocks (at most 8), all within INFO LINE.
      const full = Array.from({ length: Math.min(n, 8) }, (_, i) => '80E2' + (i === Math.min(n, 8) - 1 ? '91' : '11') + i.toString(16).padStart(2, '0').toUpperCase() + 'FF' + '5A'.repeat(255));
      const line = encodeRequest(0x7ff, batch(...full));
      expect(line.length).toBeLessThanOrEqual(info.maxLine);
      expect(await run(...full)).toMatchObject({ count: full.length, resp: '9000' });
      // Shape checked before anything runs: too many, a malformed one, none at all.
      const before = card.tpdus.length;
      expect(await host.error(batch(...Array.from({ length: n + 1 }, () => '80E2110001AA')))).toBe('ARG');
      expect(await host.error(batch('80E2110001AA', '80E2000003AABB'))).toBe('ARG');
      host.writeRaw(sealLine('7FFE 0 APDUS')); // no APDU at all (the codec would not encode it)
      expect(await host.waitFor((x) => 'frame' in x && x.frame.kind === 'response' && x.frame.id === 0x7ffe)).toMatchObject({ frame: { ok: false, error: 'ARG' } });
      expect(card.tpdus.length).toBe(before);
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'READY', busy: false });
      // A card failure mid-sequence ends the request as for APDU and deactivates the slot.
      expect(await host.error(batch('80E2110001AA', '80DE000000', '80E2910001BB'))).toBe('TIMEOUT');
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'OFF' });
    });

    it('carries the longest TPDUs both ways: 256 response bytes (P3 = 00) and 255 command bytes', async () => {
      const big = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join('');
      const card = new EchoCard({ data: big });
      const { host } = await setup([card]);
      await activate(host, 0);
      expect(resp(await host.call({ verb: 'PPS', slot: 0, pps: buildPps(0x96) }))).toBe('FF109679');
      expect(resp(await host.call(tpdu('80CA000000')))).toBe(big.toUpperCase() + '9000');
      expect(resp(await host.call(tpdu('80E29100FF' + big.slice(0, 510))))).toBe('9000');
      expect(card.stored).toBe(255);
    });

    it('handles a card in the inverse convention, a declined PPS and a warm reset', async () => {
      const { host } = await setup([new InverseEchoCard(), new EchoCard({ ppsMode: 'decline' })]);
      expect(resp(await activate(host, 0))).toBe('3F14964543484F');
      expect(resp(await host.call({ verb: 'PPS', slot: 0, pps: buildPps(0x96) }))).toBe('FF109679');
      expect(resp(await host.call(tpdu('80EE000003A1B2C3')))).toBe('6103');
      expect(resp(await host.call(tpdu('00C0000003')))).toBe('A1B2C39000');
      expect(resp(await host.call({ verb: 'RESET', slot: 0, kind: 'WARM' }))).toBe('3F14964543484F');
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'READY', ta1: 0x11 });
      expect(resp(await host.call(tpdu('80CA000002')))).toBe('6C10');

      expect(await host.call({ verb: 'POWER', slot: 1, vcc: 'B' })).toEqual({});
      expect(await host.error({ verb: 'RESET', slot: 1, kind: 'WARM' })).toBe('STATE'); // no cold reset yet
      await host.call({ verb: 'RESET', slot: 1, kind: 'COLD' });
      expect(resp(await host.call({ verb: 'PPS', slot: 1, pps: buildPps(0x96) }))).toBe('FF00FF');
      expect(await host.call({ verb: 'STATUS', slot: 1 })).toMatchObject({ state: 'READY', vcc: 'B', ta1: 0x11 });
      expect(resp(await host.call({ verb: 'TPDU', slot: 1, tpdu: fromHex('80CA000010') }))).toMatch(/9000$/);
    });

    it('a card that does not answer PPS earns MUTE and a deactivated slot', async () => {
      const { host } = await setup([new EchoCard({ ppsMode: 'mute' })]);
      await activate(host, 0);
      expect(await host.error({ verb: 'PPS', slot: 0, pps: buildPps(0x96) })).toBe('MUTE');
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'OFF', vcc: 'OFF', ta1: 0x11 });
      await activate(host, 0);
      expect(resp(await host.call(tpdu('80CA000010')))).toMatch(/9000$/);
    });

    it('serves 4 slots concurrently, answers each id, and refuses a second request on a busy slot', async () => {
      const cards = [new GatedCard(), new GatedCard(), new GatedCard(), new GatedCard()];
      const { host } = await setup(cards);
      for (let s = 0; s < 4; s++) await activate(host, s);
      cards[0]!.close(); // slot 0's card takes "forever"
      const pending = [0, 1, 2, 3].map((slot) => host.send({ verb: 'TPDU', slot, tpdu: fromHex(`80EE00000${slot + 1}` + '5A'.repeat(slot + 1)) }));
      const [, ...others] = pending;
      const answered = await Promise.all(others);
      answered.forEach((f, i) => {
        expect(f.id).toBe(f.sentId);
        expect(f.slot).toBe(i + 1);
        expect(f.ok && decodeReply('TPDU', f.args).data).toEqual(Uint8Array.of(0x61, i + 2));
      });
      // Slot 0 is still working: a second request is refused, STATUS is answered at once.
      const busy = await host.send(tpdu('00C0000001'));
      expect(busy.ok ? 'OK' : busy.error).toBe('BUSY');
      expect(busy.id).toBe(busy.sentId);
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ busy: true });
      cards[0]!.release();
      const first = await pending[0]!;
      expect(first.id).toBe(first.sentId);
      expect(first.ok && resp(decodeReply('TPDU', first.args))).toBe('6101');
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ busy: false, lastId: first.sentId });
    });

    it('paces answers at real time (scale 1) on every slot without losing or mixing them', async () => {
      const { host } = await setup([0, 1, 2, 3].map(() => new EchoCard({ processingSeconds: 0.002 })), { timeScale: 1 });
      const lane = async (slot: number) => {
        await activate(host, slot);
        await host.call({ verb: 'PPS', slot, pps: buildPps(0x96) });
        for (let k = 0; k < 5; k++) {
          const data = toHex(Uint8Array.of(slot, k)).toUpperCase();
          expect(resp(await host.call({ verb: 'TPDU', slot, tpdu: fromHex('80EE000002' + data) }))).toBe('6102');
          expect(resp(await host.call({ verb: 'TPDU', slot, tpdu: fromHex('00C0000002') }))).toBe(data + '9000');
        }
      };
      await Promise.all([0, 1, 2, 3].map(lane));
    });

    it('rejects bad lines with typed errors', async () => {
      const { host } = await setup([new EchoCard(), new EchoCard()]);
      const { maxLine } = await host.call({ verb: 'INFO' });
      const good = formatRequest({ id: 0x51, slot: 0, verb: 'INFO', args: [] });
      host.writeRaw(good.replace('INFO', 'INFQ')); // CRC no longer matches
      const crc = await host.waitFor((x) => 'frame' in x && x.frame.kind === 'response' && !x.frame.ok && x.frame.error === 'CRC');
      expect(crc).toMatchObject({ frame: { id: 0, slot: null } }); // an unchecked id is never echoed
      host.writeRaw(sealLine('52 1 FROB'));
      expect(await host.waitFor((x) => 'frame' in x && x.frame.kind === 'response' && x.frame.id === 0x52)).toMatchObject({ frame: { ok: false, error: 'VERB', slot: 1 } });
      // One CR before the LF is ignored (terminals send CRLF); a second one is part of the line.
      host.writeRaw(formatRequest({ id: 0x53, slot: 0, verb: 'STATUS', args: [] }).replace('\n', '\r\n'));
      expect(await host.waitFor((x) => 'frame' in x && x.frame.kind === 'response' && x.frame.id === 0x53)).toMatchObject({ frame: { ok: true } });
      const mark = host.log.length; // answers to earlier lines do not count
      host.writeRaw(formatRequest({ id: 0x54, slot: 0, verb: 'STATUS', args: [] }).replace('\n', '\r\r\n'));
      const twoCr = await host.waitFor((x) => host.log.indexOf(x) >= mark && 'frame' in x && x.frame.kind === 'response');
      expect(twoCr).toMatchObject({ frame: { id: 0, error: 'CRC' } });
      host.writeRaw('Z'.repeat(maxLine + 400) + '\n');
      expect(await host.waitFor((x) => 'frame' in x && x.frame.kind === 'response' && !x.frame.ok && x.frame.error === 'LINE')).toBeTruthy();
      expect(await host.error({ verb: 'POWER', slot: 5, vcc: 'A' })).toBe('SLOT');
      expect(await host.error(tpdu('80CA000010'))).toBe('STATE'); // not reset yet
      expect(await host.error({ verb: 'RESET', slot: 0, kind: 'COLD' })).toBe('STATE'); // not powered
      expect(await host.error({ verb: 'CLOCK', slot: 0, hz: 50_000_000 })).toBe('UNSUPPORTED');
      await activate(host, 0);
      expect(await host.error({ verb: 'POWER', slot: 0, vcc: 'A' })).toBe('STATE'); // already on at class C
      expect(await host.error({ verb: 'PPS', slot: 0, pps: buildPps(0x9f) })).toBe('UNSUPPORTED');
    });

    it('survives random garbage and keeps serving', async () => {
      const { host } = await setup([new EchoCard()]);
      const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 120 }), { numRuns: 200, seed: 7 });
      for (const g of garbage) host.writeRaw(g);
      host.writeRaw('\n');
      // Sealed bodies with random content pass the CRC and reach the grammar and verb checks.
      const bodies = fc.sample(fc.string({ maxLength: 60 }), { numRuns: 200, seed: 8 });
      for (const b of bodies) host.writeRaw(`${b.replace(/\n/g, '')} *${crc16Hex(b.replace(/\n/g, ''))}\n`);
      expect((await host.call({ verb: 'INFO' })).slots).toBe(1);
      expect(host.log.every((x) => 'frame' in x)).toBe(true); // the bridge itself never sent a bad line
    });

    it('injected corruption is caught by the CRC at the host', async () => {
      const { bridge, host } = await setup([new EchoCard()]);
      bridge.corruptNextLine();
      const lost = host.send({ verb: 'INFO' }, 300);
      const bad = await host.waitFor((x) => 'bad' in x);
      expect(bad).toMatchObject({ error: { wire: 'CRC' } });
      await expect(lost).rejects.toThrow('timeout');
      expect((await host.call({ verb: 'INFO' })).slots).toBe(1);
    });

    it('a dropped response leaves the host to time out; STATUS shows the request was executed', async () => {
      const { bridge, host } = await setup([new EchoCard()]);
      await activate(host, 0);
      bridge.dropNextResponse();
      const droppedId = host.upcomingId;
      await expect(host.send(tpdu('80E2910002AABB'), 300)).rejects.toThrow('timeout');
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ busy: false, lastId: droppedId });
      expect((bridge.card(0) as EchoCard).stored).toBe(2);
    });

    it('a line that loses bytes in a full receive buffer is answered 0 - ERR OVERRUN and not executed; the bridge keeps serving', async () => {
      const card = new EchoCard();
      const { bridge, host } = await setup([card]);
      await activate(host, 0);
      await bridge.overrunNextLine();
      const lostId = host.upcomingId;
      const lost = host.send(tpdu('80E2910002AABB'), 300);
      const overrun = await host.waitFor((x) => 'frame' in x && x.frame.kind === 'response' && !x.frame.ok && x.frame.error === 'OVERRUN');
      expect(overrun).toMatchObject({ frame: { id: 0, slot: null } });
      await expect(lost).rejects.toThrow('timeout');
      const st = await host.call({ verb: 'STATUS', slot: 0 });
      expect(st).toMatchObject({ state: 'READY', busy: false });
      expect(st.lastId).not.toBe(lostId);
      expect(card.stored).toBe(0);
      expect(resp(await host.call(tpdu('80E2910002AABB')))).toBe('9000');
      expect(card.stored).toBe(2);
    });

    it('POWER OFF on a busy slot ends the request in flight with ERR STATE and deactivates the slot', async () => {
      const gated = new GatedCard();
      const { host } = await setup([gated]);
      await activate(host, 0);
      gated.close();
      const inflight = host.send(tpdu('80CA000010'));
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ busy: true });
      expect(await host.error({ verb: 'RESET', slot: 0, kind: 'COLD' })).toBe('BUSY');
      expect(await host.call({ verb: 'POWER', slot: 0, vcc: 'OFF' })).toEqual({});
      const f = await inflight;
      expect(f.ok ? 'OK' : f.error).toBe('STATE');
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'OFF', busy: false, vcc: 'OFF' });
      gated.release();
      await activate(host, 0);
      expect(resp(await host.call(tpdu('80CA000010')))).toMatch(/9000$/);
    });

    it('disconnect closes the host port; reconnect serves again behind the same link path', async () => {
      const link = tempLink();
      const { bridge, host } = await setup([new EchoCard()], { link });
      await activate(host, 0);
      await bridge.disconnect();
      await host.noticeClose();
      expect(bridge.connected).toBe(false);
      await bridge.reconnect();
      const again = await TestHost.open(link);
      cleanup.push(() => again.close());
      expect((await again.call({ verb: 'INFO' })).slots).toBe(1);
      // The bridge lost power: the slot is off again and must be re-activated.
      expect(await again.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'OFF', lastId: 0 });
      await activate(again, 0);
      expect(resp(await again.call(tpdu('80CA000010')))).toMatch(/9000$/);
    });

    it('reports card removal and insertion, and ends a request in flight with NOCARD', async () => {
      const gated = new GatedCard();
      const { bridge, host } = await setup([new EchoCard(), gated]);
      await activate(host, 0);
      bridge.removeCard(0);
      expect(await host.event((e) => e.event === 'CARD' && e.slot === 0)).toEqual({ event: 'CARD', slot: 0, present: false });
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'EMPTY', vcc: 'OFF' });
      expect(await host.error({ verb: 'POWER', slot: 0, vcc: 'C' })).toBe('NOCARD');
      bridge.insertCard(0, new EchoCard());
      expect(await host.event((e) => e.event === 'CARD' && e.slot === 0 && e.present)).toBeTruthy();
      await activate(host, 0);

      await activate(host, 1);
      gated.close();
      const inflight = host.send({ verb: 'TPDU', slot: 1, tpdu: fromHex('80CA000010') });
      // STATUS is answered in line order, so the TPDU is in the bridge by now.
      expect(await host.call({ verb: 'STATUS', slot: 1 })).toMatchObject({ busy: true });
      bridge.removeCard(1);
      const f = await inflight;
      expect(f.ok ? 'OK' : f.error).toBe('NOCARD');
      gated.release();
    });

    it('raises slot faults: event, FAULT state until POWER OFF', async () => {
      const { bridge, host } = await setup([new EchoCard(), new EchoCard()]);
      await activate(host, 1);
      bridge.injectFault(1, 'OVERCURRENT');
      expect(await host.event((e) => e.event === 'FAULT')).toEqual({ event: 'FAULT', slot: 1, code: 'OVERCURRENT' });
      expect(await host.call({ verb: 'STATUS', slot: 1 })).toMatchObject({ state: 'FAULT', vcc: 'OFF' });
      expect(await host.error({ verb: 'POWER', slot: 1, vcc: 'C' })).toBe('FAULT');
      await host.call({ verb: 'POWER', slot: 1, vcc: 'OFF' });
      await activate(host, 1);
    });

    it('a bridge-wide fault puts every powered slot in FAULT and leaves the others alone', async () => {
      const { bridge, host } = await setup([new EchoCard(), new EchoCard()]);
      await activate(host, 0);
      bridge.injectFault(null, 'UNDERVOLTAGE');
      expect(await host.event((e) => e.event === 'FAULT')).toEqual({ event: 'FAULT', slot: null, code: 'UNDERVOLTAGE' });
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'FAULT', vcc: 'OFF' });
      expect(await host.call({ verb: 'STATUS', slot: 1 })).toMatchObject({ state: 'OFF' });
    });

    it('a card that goes mute earns TIMEOUT and a deactivated slot; a mute reset earns MUTE', async () => {
      const { host } = await setup([new EchoCard(), new EchoCard({ muteAtr: true })]);
      await activate(host, 0);
      expect(await host.error(tpdu('80DE000000'))).toBe('TIMEOUT');
      expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'OFF', vcc: 'OFF' });
      await activate(host, 0); // power cycle brings it back
      await host.call({ verb: 'POWER', slot: 1, vcc: 'C' });
      expect(await host.error({ verb: 'RESET', slot: 1, kind: 'COLD' })).toBe('MUTE');
    });
  });
}
