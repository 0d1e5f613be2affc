import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex, fromHex } from '../../src/core/bytes.ts';
import { buildPps } from '../../src/core/bridge-protocol/iso7816.ts';
import { BridgeSim } from '../../src/sim/bridge/bridge-sim.ts';
import { spawnBridgeProcess, type SpawnedBridge } from '../../src/sim/bridge/bridge-process.ts';
import { EchoCard } from '../../src/sim/card/echo-card.ts';
import type { SimCard } from '../../src/sim/card/card-model.ts';
import { TestHost, activate, apdu, bridgeConformance, resp, tpdu } from '../helpers/bridge-conformance.ts';

// The line-protocol suite shared with the firmware core (test/hardware/firmware.test.ts).
bridgeConformance({
  name: 'bridge simulator on a pty',
  start: ({ cards, link, timeScale }) => BridgeSim.start({ slots: cards.length, cards, timeScale: timeScale ?? 0, ...(link ? { link } : {}) }),
});

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
  const bridge = await BridgeSim.start({ slots: cards.length, cards, timeScale: opts.timeScale ?? 0, ...(opts.link ? { link: opts.link } : {}) });
  cleanup.push(() => bridge.close());
  const host = await TestHost.open(bridge.path);
  cleanup.push(() => host.close());
  return { bridge, host };
}

describe('bridge simulator on a pty: timing model', () => {
  it('reports the modeled card time, equal to the formula (TA1 96, 5 MHz)', async () => {
    const card = new EchoCard({ ta1: 0x96, processingSeconds: 0.001, atrDelayClocks: 1000 });
    const { bridge, host } = await setup([card]);
    expect(await host.call({ verb: 'CLOCK', slot: 0, hz: 5_000_000 })).toEqual({ hz: 5_000_000 });
    const atr = await activate(host, 0);
    const f = 5e6;
    const atrLen = atr.data.length;
    const resetExpected = (400 + 1000) / f + atrLen * 12 * (372 / f);
    expect(bridge.lastExchange(0)!.seconds).toBeCloseTo(resetExpected, 15);
    expect(atr.micros).toBe(Math.round(resetExpected * 1e6));

    const pps = await host.call({ verb: 'PPS', slot: 0, pps: buildPps(0x96) });
    expect(pps.micros).toBe(Math.round((8 * 12 + 4) * (372 / f) * 1e6));

    const etu = 512 / 32 / f; // 3.2 µs
    const data = '11'.repeat(200);
    const store = await host.call(tpdu('80E29100C8' + data));
    // header 5, INS 1, data 200, SW 2; three direction changes; plus 1 ms in the card
    const storeExpected = ((5 + 1 + 200 + 2) * 12 + 3 * 4) * etu + 0.001;
    expect(bridge.lastExchange(0)!).toMatchObject({ verb: 'TPDU', fi: 512, di: 32, clockHz: f, guardN: 0 });
    expect(bridge.lastExchange(0)!.seconds).toBeCloseTo(storeExpected, 15);
    expect(store.micros).toBe(Math.round(storeExpected * 1e6));

    const read = await host.call(tpdu('80CA000010'));
    // header 5, then INS + 16 data + SW = 19 from the card; one direction change
    const readExpected = ((5 + 19) * 12 + 4) * etu + 0.001;
    expect(read.micros).toBe(Math.round(readExpected * 1e6));
  });
});

describe('bridge simulator: APDU verb timing', () => {
  it('reports the sum of the modeled times of the TPDUs it ran, equal to the same TPDUs sent one by one', async () => {
    const card = new EchoCard({ processingSeconds: 0.0007, data: '5A'.repeat(40), chunk: 16 });
    const { bridge, host } = await setup([card]);
    await activate(host, 0);
    await host.call({ verb: 'PPS', slot: 0, pps: buildPps(0x96) });
    const records: { id: number; seconds: number }[] = [];
    bridge.on('exchange', (r) => records.push(r));
    const id = host.upcomingId;
    // 40 bytes in pieces of 16: 6C10 to the command, then 1610 + 6110, GET RESPONSE 16 + 6108, GET RESPONSE 8 + 9000
    const whole = await host.call(apdu('80CA000028'));
    expect(resp(whole)).toBe('5A'.repeat(40) + '9000');
    const ran = records.filter((r) => r.id === id);
    expect(ran.length).toBe(4);
    expect(whole.micros).toBe(ran.reduce((t, r) => t + Math.round(r.seconds * 1e6), 0));
    // The same exchanges as TPDU requests take the same card time, TPDU by TPDU.
    const one = ['80CA000028', '80CA000010', '00C0000010', '00C0000008'];
    let sum = 0;
    for (const t of one) sum += (await host.call(tpdu(t))).micros;
    expect(whole.micros).toBe(sum);
    // One of them against the closed form (§8): header 5, then INS + 16 data + SW from the card, one turn, 0.7 ms in the card.
    const etu = 512 / 32 / 4e6;
    expect(Math.round(ran[1]!.seconds * 1e6)).toBe(Math.round((((5 + 19) * 12 + 4) * etu + 0.0007) * 1e6));
  });
});

describe('bridge simulator without the APDUS verb (batch 0), as a bridge that predates it', () => {
  it('leaves BATCH out of INFO, keeps LINE=600 and answers APDUS with ERR VERB', async () => {
    const bridge = await BridgeSim.start({ slots: 1, cards: [new EchoCard()], timeScale: 0, batch: 0 });
    cleanup.push(() => bridge.close());
    const host = await TestHost.open(bridge.path);
    cleanup.push(() => host.close());
    const info = await host.call({ verb: 'INFO' });
    expect(info.batch).toBeUndefined();
    expect(info.maxLine).toBe(600);
    await activate(host, 0);
    expect(await host.error({ verb: 'APDUS', slot: 0, apdus: [fromHex('80E2910001AA')] })).toBe('VERB');
    expect(resp(await host.call(apdu('80E2910001AA')))).toBe('9000');
  });
});

describe('bridge simulator: APDUS verb timing', () => {
  it('reports the sum of the modeled times of every TPDU of every APDU it ran', async () => {
    const { bridge, host } = await setup([new EchoCard({ processingSeconds: 0.0007 })]);
    await activate(host, 0);
    const records: { id: number; seconds: number }[] = [];
    bridge.on('exchange', (r) => records.push(r));
    const id = host.upcomingId;
    const r = await host.call({ verb: 'APDUS', slot: 0, apdus: ['80E2110002AABB', '80EE000002CAFE00'].map((h) => fromHex(h)) });
    expect({ count: r.count, resp: resp(r) }).toEqual({ count: 2, resp: 'CAFE9000' });
    const ran = records.filter((x) => x.id === id);
    expect(ran.length).toBe(3); // STORE, ECHO, GET RESPONSE
    expect(r.micros).toBe(ran.reduce((t, x) => t + Math.round(x.seconds * 1e6), 0));
    let sum = 0;
    for (const t of ['80E2110002AABB', '80EE000002CAFE', '00C0000002']) sum += (await host.call(tpdu(t))).micros;
    expect(r.micros).toBe(sum);
  });
});

describe('bridge simulator process', () => {
  let proc: SpawnedBridge | undefined;
  afterEach(async () => {
    await proc?.stop();
    proc = undefined;
    vi.unstubAllEnvs();
  });

  it('starts with tsx, prints the ready line, serves APDUs and takes control commands', async () => {
    // The suite runs simulator children from dist/ (IFPP_SIM_CHILDREN, vitest.config.ts); this
    // one runs from source through tsx, as under `npm run` scripts.
    vi.stubEnv('IFPP_SIM_CHILDREN', '');
    const link = tempLink();
    proc = await spawnBridgeProcess(['--slots', '3', '--link', link, '--time-scale', '0', '--card-options', '[{"ta1":150},null,{"data":"C0FFEE"}]']);
    expect(proc.ready).toMatchObject({ event: 'ready', link, slots: 3, timeScale: 0 });
    expect(proc.child.spawnargs.slice(1, 4)).toEqual(['--import', expect.stringContaining('tsx'), expect.stringMatching(/src\/sim\/bridge\/bridge-main\.ts$/)]);
    const host = await TestHost.open(link);
    cleanup.push(() => host.close());
    expect(await host.call({ verb: 'STATUS', slot: 1 })).toMatchObject({ state: 'EMPTY' });
    await activate(host, 2);
    expect(resp(await host.call({ verb: 'TPDU', slot: 2, tpdu: fromHex('80CA000003') }))).toBe('C0FFEE9000');
    expect(await proc.control('insert 1')).toMatchObject({ ok: true, slot: 1 });
    expect(await host.event((e) => e.event === 'CARD' && e.slot === 1 && e.present)).toBeTruthy();
    expect(await proc.control('fault 0 OVERHEAT')).toMatchObject({ ok: true });
    expect(await host.event((e) => e.event === 'FAULT' && e.slot === 0)).toMatchObject({ code: 'OVERHEAT' });
    expect(await proc.control('remove 9')).toMatchObject({ ok: false });
    expect(await proc.control('status')).toMatchObject({ ok: true, connected: true, slots: ['FAULT', 'OFF', 'READY'] });
  });
});
