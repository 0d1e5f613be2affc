/**
 * The station's bridge driver against the real bridge simulator on a pty: the same serialport
 * path a USB bridge takes, the simulator's fault injection for lost and garbled lines, unplug
 * and replug behind a stable symlink.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { BridgeSim } from '../../src/sim/bridge/bridge-sim.ts';
import { EchoCard, type EchoCardOptions } from '../../src/sim/card/echo-card.ts';
import type { SimCard, TpduResult } from '../../src/sim/card/card-model.ts';
import { SimulatedEuicc } from '../../src/sim/euicc/euicc-card.ts';
import { makeTestChips, type TestChips } from '../../src/sim/euicc/test-chips.ts';
import { FpaClient } from '../../src/station/fpa/fpa-client.ts';
import { BridgeDriver, type BridgeDriverOptions, type CardEvent } from '../../src/transport/bridge/bridge-driver.ts';
import { BridgeError } from '../../src/transport/bridge/errors.ts';
import { SlotLink } from '../../src/transport/bridge/slot-link.ts';

/** A card whose TPDU answers wait until the test opens the gate. */
class GatedCard implements SimCard {
  private readonly inner: EchoCard;
  private open: (() => void) | undefined;
  private gate: Promise<void> | undefined;
  readonly atrDelayClocks = 400;
  constructor(opts: EchoCardOptions = {}) {
    this.inner = new EchoCard(opts);
  }
  get stored(): number {
    return this.inner.stored;
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

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function tempLink(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ifpp-bridge-drv-'));
  cleanup.unshift(async () => rmSync(dir, { recursive: true, force: true })); // runs last
  return join(dir, name);
}

async function startBridge(cards: (SimCard | undefined)[], opts: { link?: string; supportedTa1?: Uint8Array; apduVerb?: boolean } = {}) {
  const bridge = await BridgeSim.start({ slots: cards.length, cards, timeScale: 0, ...opts });
  cleanup.push(() => bridge.close());
  return bridge;
}

async function openDriver(path: string, opts: BridgeDriverOptions = {}) {
  const driver = new BridgeDriver(opts);
  await driver.open(path, 921600);
  cleanup.push(() => driver.close());
  return driver;
}

/** Resolves with the next emission of an event. */
function next<T>(emitter: { once(ev: string, fn: (arg: T) => void): unknown }, ev: string): Promise<T> {
  return new Promise((res) => emitter.once(ev, res));
}

function rejection(p: Promise<unknown>): Promise<BridgeError> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(BridgeError);
      return e as BridgeError;
    },
  );
}

const hex = (b: Uint8Array) => toHex(b).toUpperCase();

describe('bridge driver on the simulated bridge', () => {
  it('connects, reads INFO, activates with PPS to TA1 96 and runs TPDUs at the negotiated etu', async () => {
    const bridge = await startBridge([new EchoCard({ ta1: 0x96 }), new EchoCard(), new EchoCard(), undefined]);
    const driver = await openDriver(bridge.path);
    expect(driver.info).toMatchObject({ protocol: 1, firmware: 'sim-0.1.0', slots: 4, fdefHz: 4_000_000, classes: 'ABC' });
    expect([...driver.info!.ta1]).toContain(0x96);
    expect(driver.connected).toBe(true);

    const slot = new SlotLink(driver, 0);
    await slot.power('C');
    const a = await slot.activate({ clockHz: 5_000_000, pps: true });
    expect(hex(a.atr)).toBe('3B14964543484F');
    expect(a.parsed.historical).toEqual(new Uint8Array(Buffer.from('ECHO')));
    expect(a).toMatchObject({ negotiation: 'pps', ppsTa1: 0x96, ta1: 0x96, fi: 512, di: 32, clockHz: 5_000_000 });
    expect(a.etuSeconds).toBeCloseTo(3.2e-6, 12);
    expect(await slot.status()).toMatchObject({ state: 'READY', ta1: 0x96, clockHz: 5_000_000, vcc: 'C' });
    expect(driver.linkParams(0)).toEqual({ fi: 512, di: 32, clockHz: 5_000_000, wi: 10, guardN: 0 });

    expect(hex(await slot.exchange(fromHex('80CA000010')))).toBe('000102030405060708090A0B0C0D0E0F9000');
    expect(bridge.lastExchange(0)).toMatchObject({ verb: 'TPDU', fi: 512, di: 32, clockHz: 5_000_000 });
    expect(slot.stats.tpdus).toBe(1);
    expect(slot.stats.cardMicros).toBeGreaterThan(0);

    // An empty slot: the bridge's ERR NOCARD arrives as a typed error.
    const empty = await rejection(new SlotLink(driver, 3).power('C'));
    expect(empty).toMatchObject({ code: 'BRIDGE_ERR_NOCARD', wire: 'NOCARD', slot: 3, verb: 'POWER', port: bridge.path });
  });

  it('picks the fastest Fi/Di both sides run, and falls back to the defaults when PPS is declined or fails', async () => {
    const bridge = await startBridge(
      [new EchoCard({ ta1: 0x97 }), new EchoCard({ ta1: 0x96, ppsMode: 'decline' }), new EchoCard({ ta1: 0x96, ppsMode: 'mute' }), new EchoCard({ ta1: 0x96 })],
      { supportedTa1: Uint8Array.of(0x11, 0x94, 0x95, 0x96) },
    );
    const driver = await openDriver(bridge.path);
    const slots = [0, 1, 2, 3].map((i) => new SlotLink(driver, i));

    // Card 512/64, bridge up to 512/32: same Fi, lower Di.
    expect(await slots[0]!.activate({ vcc: 'C' })).toMatchObject({ negotiation: 'pps', ta1: 0x96, fi: 512, di: 32, clockHz: 4_000_000 });

    expect(await slots[1]!.activate({ vcc: 'C' })).toMatchObject({ negotiation: 'pps-declined', ppsTa1: 0x96, ta1: 0x11, fi: 372, di: 1 });
    expect(await slots[1]!.status()).toMatchObject({ state: 'READY', ta1: 0x11 });

    // A mute PPS deactivates the slot; the driver powers it again, resets and stays at 372/1.
    const failed = await slots[2]!.activate({ vcc: 'B' });
    expect(failed).toMatchObject({ negotiation: 'pps-failed', ta1: 0x11, fi: 372, di: 1 });
    expect(await slots[2]!.status()).toMatchObject({ state: 'READY', vcc: 'B', ta1: 0x11 });
    expect(hex(await slots[2]!.exchange(fromHex('80E2910002AABB')))).toBe('9000');
    expect(bridge.lastExchange(2)).toMatchObject({ fi: 372, di: 1 });

    expect(await slots[3]!.activate({ vcc: 'C', pps: false })).toMatchObject({ negotiation: 'default', ta1: 0x11, fi: 372, di: 1 });
    expect(slots[3]!.activation?.ppsTa1).toBeUndefined();
  });

  it('on a bridge without the APDU verb, carries APDUs as TPDUs: 61xx with GET RESPONSE, 6Cxx with the right Le', async () => {
    const bridge = await startBridge([new EchoCard()], { apduVerb: false });
    const rx: string[] = [];
    bridge.on('line', (dir, line) => dir === 'rx' && rx.push(line));
    const driver = await openDriver(bridge.path);
    expect(driver.info?.apdu).toBe(false);
    const slot = new SlotLink(driver, 0);
    expect(slot.canExchangeApdu()).toBe(false);
    await slot.activate({ vcc: 'C', clockHz: 5_000_000 });
    // case 4: the card answers 6104; the channel fetches the data with GET RESPONSE
    const echo = await slot.apdu(fromHex('80EE000004CAFEBABE00'));
    expect({ data: hex(echo.data), sw: echo.sw }).toEqual({ data: 'CAFEBABE', sw: 0x9000 });
    expect(slot.stats.tpdus).toBe(2);
    // case 2 with a wrong Le: 6C10, repeated with Le 10
    const data = await slot.channel.transmit(fromHex('80CA000008'));
    expect({ data: hex(data.data), sw: data.sw }).toEqual({ data: '000102030405060708090A0B0C0D0E0F', sw: 0x9000 });
    expect(slot.stats.tpdus).toBe(4);
    // unknown instruction: the status word comes back as it is
    expect((await slot.apdu(fromHex('80770000020102'))).sw).toBe(0x6d00);
    expect(slot.stats.apdus).toBe(0);
    const cardLines = rx.map((l) => l.split(' ')[2]).filter((v) => v === 'TPDU' || v === 'APDU');
    expect(cardLines).toEqual(['TPDU', 'TPDU', 'TPDU', 'TPDU', 'TPDU']);
    expect(rx.filter((l) => / TPDU 00C0000004 /.test(l)).length).toBe(1); // the host's own GET RESPONSE
  });

  it('on a bridge with the APDU verb (INFO APDU=1), sends each APDU in one request; the bridge follows 61xx / 6Cxx', async () => {
    const big = Array.from({ length: 300 }, (_, i) => (i & 0xff).toString(16).padStart(2, '0')).join('').toUpperCase();
    const bridge = await startBridge([new EchoCard(), new EchoCard({ data: big })]);
    const rx: string[] = [];
    bridge.on('line', (dir, line) => dir === 'rx' && rx.push(line));
    const driver = await openDriver(bridge.path);
    expect(driver.info?.apdu).toBe(true);
    const slot = new SlotLink(driver, 0);
    expect(slot.canExchangeApdu()).toBe(true);
    await slot.activate({ vcc: 'C', clockHz: 5_000_000 });
    const echo = await slot.apdu(fromHex('80EE000004CAFEBABE00'));
    expect({ data: hex(echo.data), sw: echo.sw }).toEqual({ data: 'CAFEBABE', sw: 0x9000 });
    const data = await slot.apdu(fromHex('80CA000008'));
    expect({ data: hex(data.data), sw: data.sw }).toEqual({ data: '000102030405060708090A0B0C0D0E0F', sw: 0x9000 });
    expect((await slot.apdu(fromHex('80770000020102'))).sw).toBe(0x6d00);
    expect(slot.stats).toMatchObject({ apdus: 3, tpdus: 0 });
    expect(slot.stats.cardMicros).toBeGreaterThan(0);

    // 300 bytes: the bridge stops at 256 and answers 612C; the channel fetches the rest with a TPDU GET RESPONSE.
    const long = new SlotLink(driver, 1);
    await long.activate({ vcc: 'C' });
    const r = await long.apdu(fromHex('80CA000000'));
    expect({ data: hex(r.data), sw: r.sw }).toEqual({ data: big, sw: 0x9000 });
    expect(long.stats).toMatchObject({ apdus: 1, tpdus: 1 });
    expect(rx.filter((l) => / 1 TPDU 00C000002C /.test(l)).length).toBe(1);
  });

  it('runs the four slots concurrently, answers each by id, and queues a second request for a busy slot instead of drawing ERR BUSY', async () => {
    const cards = [new GatedCard(), new GatedCard(), new GatedCard(), new GatedCard()];
    const bridge = await startBridge(cards);
    const lines: string[] = [];
    bridge.on('line', (dir, line) => lines.push(`${dir} ${line}`));
    const driver = await openDriver(bridge.path);
    const slots = cards.map((_, i) => new SlotLink(driver, i));
    await Promise.all(slots.map((s) => s.activate({ vcc: 'C' })));

    cards[0]!.close(); // slot 0's card takes "forever"
    const first = slots[0]!.exchange(fromHex('80EE000001A0'));
    const second = slots[0]!.exchange(fromHex('80E2910002B0B1')); // queued behind the first
    const others = await Promise.all([1, 2, 3].map((i) => slots[i]!.exchange(fromHex(`80EE00000${i + 1}` + '5A'.repeat(i + 1)))));
    expect(others.map(hex)).toEqual(['6102', '6103', '6104']);
    // STATUS is not queued: it is answered while slot 0 is busy.
    expect(await slots[0]!.status()).toMatchObject({ busy: true });
    cards[0]!.release();
    expect(hex(await first)).toBe('6101');
    expect(hex(await second)).toBe('9000');
    expect(cards[0]!.stored).toBe(2);

    expect(lines.some((l) => l.includes('ERR BUSY'))).toBe(false);
    // The queued TPDU went out only after the first one was answered.
    const rxSecond = lines.findIndex((l) => l.startsWith('rx') && l.includes('TPDU 80E2910002B0B1'));
    const txFirst = lines.findIndex((l) => l.startsWith('tx') && / 0 OK 6101 /.test(l));
    expect(txFirst).toBeGreaterThan(-1);
    expect(rxSecond).toBeGreaterThan(txFirst);
  });

  it('a garbled answer (CRC) fails its request with BRIDGE_CRC at once, found out with STATUS rather than a timeout', async () => {
    const card = new EchoCard();
    const bridge = await startBridge([card]);
    // With factor 100 a timeout would take minutes: this test only passes through the STATUS check.
    const driver = await openDriver(bridge.path, { timeoutFactor: 100 });
    const garbled = next<{ line: string }>(driver, 'garbled');
    const slot = new SlotLink(driver, 0);
    await slot.activate({ vcc: 'C' });
    bridge.corruptNextLine();
    const e = await rejection(slot.exchange(fromHex('80E2910003010203')));
    expect(e).toMatchObject({ code: 'BRIDGE_CRC', executed: true, slot: 0, verb: 'TPDU', port: bridge.path });
    expect(e.message).toMatch(/garbled.*executed it/);
    expect((await garbled).line).toMatch(/^\S+ 0 OK/); // one character changed, still recognisable
    expect(card.stored).toBe(3);
    // The link carries on.
    expect(hex(await slot.exchange(fromHex('80E2910001FF')))).toBe('9000');
  });

  it('a request lost in the bridge\'s full receive buffer (0 - ERR OVERRUN) fails with BRIDGE_OVERRUN, never executed; the link carries on', async () => {
    const card = new EchoCard();
    const bridge = await startBridge([card]);
    const driver = await openDriver(bridge.path, { heartbeatMs: 0 });
    const slot = new SlotLink(driver, 0);
    await slot.activate({ vcc: 'C' });
    await bridge.overrunNextLine();
    const e = await rejection(slot.exchange(fromHex('80E2910003010203')));
    expect(e).toMatchObject({ code: 'BRIDGE_OVERRUN', executed: false, slot: 0, verb: 'TPDU', port: bridge.path });
    expect(e.hint).toMatch(/may be resent.*cannot keep up/);
    expect(card.stored).toBe(0);
    expect(hex(await slot.exchange(fromHex('80E2910001FF')))).toBe('9000');
  });

  it('a dropped answer is found by the answer check, not the timeout: STATUS shows it ran, nothing is resent, the slot carries on', async () => {
    const card = new EchoCard();
    const bridge = await startBridge([card]);
    // A timeout far beyond this test's own: only the answer check can end the request.
    const driver = await openDriver(bridge.path, { timeoutFactor: 100, heartbeatMs: 0, answerCheckMs: 200 });
    const slot = new SlotLink(driver, 0);
    await slot.activate({ vcc: 'C', pps: false });
    const rx: string[] = [];
    bridge.on('line', (dir, line) => dir === 'rx' && rx.push(line));
    bridge.dropNextResponse();
    const e = await rejection(slot.exchange(fromHex('80E2910002AABB')));
    expect(e).toMatchObject({ code: 'BRIDGE_ANSWER_LOST', executed: true, slot: 0, verb: 'TPDU' });
    expect(e.hint).toMatch(/do not resend/);
    expect(card.stored).toBe(2);
    expect(rx.filter((l) => l.includes('TPDU')).length).toBe(1);
    expect(hex(await slot.exchange(fromHex('80E2910001FF')))).toBe('9000');
  });

  it('the answer check leaves a card that is still working alone: its answer is taken when it comes', async () => {
    const gated = new GatedCard();
    const bridge = await startBridge([gated]);
    const driver = await openDriver(bridge.path, { timeoutFactor: 100, heartbeatMs: 0, answerCheckMs: 50 });
    const slot = new SlotLink(driver, 0);
    await slot.activate({ vcc: 'C', pps: false });
    let statusAsked = 0;
    const twoChecks = new Promise<void>((res) => bridge.on('line', (dir, line) => dir === 'rx' && / 0 STATUS /.test(line) && ++statusAsked === 2 && res()));
    gated.close();
    const slow = slot.exchange(fromHex('80EE000001A0'));
    await twoChecks; // asked twice, BUSY both times: still pending
    gated.release();
    expect(hex(await slow)).toBe('6101');
  });

  it('a dropped answer with the answer check off times out; STATUS shows it ran, so the error says so and nothing is resent', async () => {
    const card = new EchoCard();
    const bridge = await startBridge([card]);
    const driver = await openDriver(bridge.path, { timeoutFactor: 1, heartbeatMs: 0, answerCheckMs: 0 });
    const slot = new SlotLink(driver, 0);
    await slot.activate({ vcc: 'C', pps: false });
    const rx: string[] = [];
    bridge.on('line', (dir, line) => dir === 'rx' && rx.push(line));
    bridge.dropNextResponse();
    const e = await rejection(slot.exchange(fromHex('80E2910002AABB')));
    expect(e).toMatchObject({ code: 'BRIDGE_TIMEOUT', executed: true, slot: 0, verb: 'TPDU' });
    expect(e.hint).toMatch(/do not resend/);
    expect(card.stored).toBe(2);
    expect(rx.filter((l) => l.includes('TPDU')).length).toBe(1);
    expect(rx.some((l) => / 0 STATUS /.test(l))).toBe(true);
    expect(hex(await slot.exchange(fromHex('80E2910001FF')))).toBe('9000');
  });

  it('past its timeout, a request whose slot STATUS still shows busy is kept; a late answer is accepted', async () => {
    const gated = new GatedCard();
    const bridge = await startBridge([gated]);
    const driver = await openDriver(bridge.path, { timeoutFactor: 1, heartbeatMs: 0 });
    const slot = new SlotLink(driver, 0);
    await slot.activate({ vcc: 'C', pps: false });
    const statusAsked = new Promise<void>((res) => bridge.on('line', (dir, line) => dir === 'rx' && / 0 STATUS /.test(line) && res()));
    gated.close();
    const slow = slot.exchange(fromHex('80EE000001A0'));
    await statusAsked; // the host timed out and asked STATUS: busy
    gated.release();
    expect(hex(await slow)).toBe('6101');
  });

  it('a slot that stays busy for a second timeout fails the request as BRIDGE_TIMEOUT; the answer arriving later is reported as stray', async () => {
    const gated = new GatedCard();
    const bridge = await startBridge([gated]);
    const driver = await openDriver(bridge.path, { timeoutFactor: 1, heartbeatMs: 0 });
    const slot = new SlotLink(driver, 0);
    await slot.activate({ vcc: 'C', pps: false });
    gated.close();
    const e = await rejection(slot.exchange(fromHex('80EE000001A0')));
    expect(e).toMatchObject({ code: 'BRIDGE_TIMEOUT', executed: undefined, slot: 0 });
    expect(e.message).toMatch(/still reports the slot busy/);
    const stray = next<{ id: number }>(driver, 'stray');
    gated.release();
    expect((await stray).id).toBe(e.requestId);
  });

  it('card removal: the in-flight request answers NOCARD, the driver emits the event and the activation is gone', async () => {
    const gated = new GatedCard();
    const bridge = await startBridge([gated, new EchoCard()]);
    const driver = await openDriver(bridge.path);
    const cardEvents: CardEvent[] = [];
    driver.on('card', (e) => cardEvents.push(e));
    const slot = new SlotLink(driver, 0);
    await slot.activate({ vcc: 'C' });
    gated.close();
    const inflight = slot.exchange(fromHex('80CA000010'));
    expect(await slot.status()).toMatchObject({ busy: true });
    bridge.removeCard(0);
    expect(await rejection(inflight)).toMatchObject({ code: 'BRIDGE_ERR_NOCARD', slot: 0 });
    gated.release();
    await expect.poll(() => cardEvents).toEqual([{ slot: 0, present: false }]);
    expect(slot.activation).toBeUndefined();
    expect(await rejection(slot.exchange(fromHex('80CA000010')))).toMatchObject({ code: 'BRIDGE_SLOT_INACTIVE', slot: 0 });

    bridge.insertCard(0, new EchoCard());
    await expect.poll(() => cardEvents).toEqual([
      { slot: 0, present: false },
      { slot: 0, present: true },
    ]);
    await slot.activate({ vcc: 'C' });
    expect(hex(await slot.exchange(fromHex('80E2910001FF')))).toBe('9000');
    // A fault event ends the activation too.
    const fault = next<{ slot: number | null; code: string }>(driver, 'fault');
    bridge.injectFault(0, 'OVERCURRENT');
    expect(await fault).toEqual({ slot: 0, code: 'OVERCURRENT' });
    expect(slot.activation).toBeUndefined();
    await slot.powerOff();
    await slot.activate({ vcc: 'C' });
  });

  it('unplug mid-exchange fails only that bridge, naming its port; the driver reconnects and the slots are activated again', async () => {
    const linkA = tempLink('bridgeA');
    const linkB = tempLink('bridgeB');
    const gated = new GatedCard();
    const bridgeA = await startBridge([gated, new EchoCard()], { link: linkA });
    const bridgeB = await startBridge([new EchoCard(), new EchoCard()], { link: linkB });
    const driverA = await openDriver(linkA);
    const driverB = await openDriver(linkB);
    const a0 = new SlotLink(driverA, 0);
    const a1 = new SlotLink(driverA, 1);
    const b = [new SlotLink(driverB, 0), new SlotLink(driverB, 1)];
    await Promise.all([a0.activate({ vcc: 'C' }), a1.activate({ vcc: 'C' }), ...b.map((s) => s.activate({ vcc: 'C' }))]);

    gated.close();
    const inflight = rejection(a0.exchange(fromHex('80E2910002AABB')));
    const queued = rejection(a0.exchange(fromHex('80E2910001CC')));
    expect(await a0.status()).toMatchObject({ busy: true });
    const disconnected = next<BridgeError>(driverA, 'disconnected');
    await bridgeA.disconnect();

    const e = await inflight;
    expect(e).toMatchObject({ code: 'BRIDGE_DISCONNECTED', port: linkA, slot: 0, verb: 'TPDU' });
    expect(e.message).toContain(linkA);
    expect(await queued).toMatchObject({ code: 'BRIDGE_DISCONNECTED', slot: 0 });
    expect(await disconnected).toMatchObject({ code: 'BRIDGE_DISCONNECTED', port: linkA });
    expect(driverA.connected).toBe(false);
    // While A is gone, its requests fail at once, and bridge B works on.
    expect(await rejection(a1.exchange(fromHex('80CA000010')))).toMatchObject({ code: 'BRIDGE_DISCONNECTED', port: linkA, slot: 1 });
    const bAnswers = await Promise.all(b.map((s) => s.apdu(fromHex('80EE000002B00B00'))));
    expect(bAnswers.map((r) => hex(r.data))).toEqual(['B00B', 'B00B']);
    expect(driverB.connected).toBe(true);
    gated.release();

    const connected = next(driverA, 'connected');
    await bridgeA.reconnect();
    expect(await connected).toMatchObject({ slots: 2 });
    expect(driverA.connections).toBe(2);
    // The bridge lost power: slots are off and must be activated again.
    expect(a0.activation).toBeUndefined();
    expect(await rejection(a0.exchange(fromHex('80CA000010')))).toMatchObject({ code: 'BRIDGE_SLOT_INACTIVE' });
    expect(await a0.status()).toMatchObject({ state: 'OFF', lastId: 0 });
    expect(await a0.activate({ vcc: 'C' })).toMatchObject({ negotiation: 'pps', ta1: 0x96 });
    expect(hex(await a0.exchange(fromHex('80E2910001DD')))).toBe('9000');

    // An idle bridge's unplug is noticed too (heartbeat), without any request outstanding.
    const again = next<BridgeError>(driverA, 'disconnected');
    await bridgeA.disconnect();
    expect((await again).message).toContain(linkA);
    expect(driverB.connected).toBe(true);
  });

  it('a bridge that stops answering while its port stays open is dropped and reopened', async () => {
    const link = tempLink('bridgeC');
    const bridge = await startBridge([new EchoCard()], { link });
    const driver = await openDriver(link, { heartbeatMs: 200, controlTimeoutMs: 300 });
    const disconnected = next<BridgeError>(driver, 'disconnected');
    bridge.dropNextResponse(1_000_000); // the bridge hears but never answers
    expect((await disconnected).message).toMatch(/stopped answering/);
    // A replug (power cycle) brings it back.
    const connected = next(driver, 'connected');
    await bridge.disconnect();
    await bridge.reconnect();
    await connected;
    expect((await driver.status(0)).state).toBe('OFF');
  });

  it('open() of a missing port fails with a typed error and does not retry in the background', async () => {
    const driver = new BridgeDriver();
    cleanup.push(() => driver.close());
    const e = await rejection(driver.open(tempLink('nothing-here')));
    expect(e).toMatchObject({ code: 'BRIDGE_PORT_UNAVAILABLE' });
    expect(e.hint).toMatch(/plugged in/);
    expect(driver.connected).toBe(false);
  });
});

describe('bridge driver with the simulated eUICC', () => {
  let t: TestChips;
  beforeAll(() => {
    t = makeTestChips({ curve: 'nist', count: 2, keysPerChip: 1 });
  });

  it('SELECT ISD-R and GetEID through FpaClient, basic and logical channel, two slots at once', async () => {
    const cards = t.chips.map((chip) => new SimulatedEuicc({ chip, header: t.header, atr: { ta1: 0x97, wi: 20 } }));
    const bridge = await startBridge(cards);
    const driver = await openDriver(bridge.path);
    const eids = await Promise.all(
      [0, 1].map(async (i) => {
        const slot = new SlotLink(driver, i);
        const a = await slot.activate({ vcc: 'C', clockHz: 5_000_000 });
        expect(a).toMatchObject({ negotiation: 'pps', ta1: 0x97, fi: 512, di: 64 });
        expect(driver.linkParams(i).wi).toBe(20);
        const fpa = new FpaClient(slot.channel, { useLogicalChannel: i === 1 });
        await fpa.selectIsdR();
        const eid = await fpa.getEid();
        await fpa.close();
        return eid;
      }),
    );
    expect(eids).toEqual(t.chips.map((c) => c.eid));
  });
});
