/**
 * The simulated world: `buildWorld` makes chips, a batch and a station file the station's own
 * validator and store accept; `startWorld` brings up the bridge and board processes behind the
 * station file's device paths, a real serial client talks to a bridge, johnny-five sees the
 * operator's hands on the board, and the operator swaps panels and sockets when the "station"
 * (this test, driving the board outputs) finishes a cycle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { DelimiterParser } from '@serialport/parser-delimiter';
import five from 'johnny-five';
import { existsSync, lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IfppError } from '../../src/core/errors.ts';
import { parseBridgeLine, type BridgeFrame } from '../../src/core/bridge-protocol/frame.ts';
import { decodeReply, encodeRequest, type BridgeRequest, type ReplyMap } from '../../src/core/bridge-protocol/verbs.ts';
import { decodeGetEidResponse, encodeGetEidRequest } from '../../src/core/rsp/es10.ts';
import type { SimCard, TpduResult } from '../../src/sim/card/card-model.ts';
import { T0CardClient } from '../../src/sim/euicc/card-client.ts';
import { buildWorld, type BuiltWorld } from '../../src/sim/world/build-world.ts';
import { startWorld, type WorldHandle } from '../../src/sim/world/run-world.ts';
import { Operator, type OperatorHardware } from '../../src/sim/world/operator.ts';
import { planStation } from '../../src/sim/world/station-layout.ts';
import { wiringFromConfig } from '../../src/sim/world/wiring.ts';
import { loadConfig, requireConfig } from '../../src/station/config/load.ts';
import { validateStationConfig } from '../../src/station/config/validate.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { BppStore } from '../../src/station/store/bpp-store.ts';
import { importBatch } from '../../src/station/store/import-batch.ts';
import { eidToBytes } from '../../src/core/rsp/eid.ts';
import { connectBoard, type JigBoardConnection } from '../../src/transport/jig/connect-board.ts';

class TestHostError extends IfppError {}

/** A bare bridge host: serialport, the line codec, replies matched by request id. */
class Host {
  private nextId = 1;
  private readonly waiting = new Map<number, (f: BridgeFrame) => void>();

  private constructor(readonly port: SerialPort) {
    port.pipe(new DelimiterParser({ delimiter: '\n' })).on('data', (d: Buffer) => {
      const f = parseBridgeLine(d.toString('latin1'));
      if (f.kind !== 'response') return;
      this.waiting.get(f.id)?.(f);
      this.waiting.delete(f.id);
    });
  }

  static async open(path: string): Promise<Host> {
    const port = new SerialPort({ path, baudRate: 921600 });
    await new Promise<void>((res, rej) => port.once('open', res).once('error', rej));
    port.on('error', () => undefined);
    port.write('\n');
    return new Host(port);
  }

  async call<R extends BridgeRequest>(req: R): Promise<ReplyMap[R['verb']]> {
    const id = this.nextId++;
    const f = await new Promise<BridgeFrame>((res, rej) => {
      const t = setTimeout(() => rej(new TestHostError('TEST_TIMEOUT', `no reply to ${req.verb}`)), 10_000);
      this.waiting.set(id, (fr) => (clearTimeout(t), res(fr)));
      this.port.write(encodeRequest(id, req));
    });
    if (f.kind !== 'response' || !f.ok) throw new TestHostError('TEST_BRIDGE_ERR', `${req.verb} failed: ${JSON.stringify(f)}`);
    return decodeReply(req.verb, f.args) as ReplyMap[R['verb']];
  }

  close(): Promise<void> {
    return new Promise((res) => (this.port.isOpen ? this.port.close(() => res()) : res()));
  }
}

/** One bridge slot as a card, so the T=0 client (SELECT, ES10 over STORE DATA) drives it. */
function slotCard(host: Host, slot: number): SimCard {
  return {
    atr: () => {
      throw new TestHostError('TEST_UNUSED', 'reset through the bridge');
    },
    pps: () => null,
    async transmitTpdu(tpdu): Promise<TpduResult> {
      const r = await host.call({ verb: 'TPDU', slot, tpdu });
      return { response: r.data, processingSeconds: 0 };
    },
    powerOff: () => undefined,
  };
}

/** Power, cold reset and GetEID on one slot: which chip sits there. */
async function eidInSlot(host: Host, slot: number): Promise<{ atr: Uint8Array; eid: string }> {
  await host.call({ verb: 'POWER', slot, vcc: 'OFF' });
  await host.call({ verb: 'POWER', slot, vcc: 'C' });
  const atr = (await host.call({ verb: 'RESET', slot, kind: 'COLD' })).data;
  const client = new T0CardClient(slotCard(host, slot));
  expect(await client.selectIsdr(0)).toBe(0x9000);
  const r = await client.es10(encodeGetEidRequest());
  return { atr, eid: decodeGetEidResponse(r.data) };
}

function until<T>(register: (done: (v: T) => void) => void, ms = 8000, what = 'event'): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new TestHostError('TEST_TIMEOUT', `no ${what} within ${ms} ms`)), ms);
    register((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

const root = mkdtempSync(join(tmpdir(), 'ifpp-world-'));
let panel: BuiltWorld;
let sockets: BuiltWorld;

beforeAll(async () => {
  const common = { slots: 2, units: 4, profile: 'synthetic:2000', timeScale: 0 };
  panel = await buildWorld({ ...common, out: join(root, 'panel') });
  sockets = await buildWorld({ ...common, out: join(root, 'sockets'), kind: 'socket-programmer' });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ifpp sim world: what it builds', () => {
  it('writes station files the station validator accepts, pointing at the world', async () => {
    for (const w of [panel, sockets]) {
      const config = await requireConfig(w.stationFile);
      expect(config.kind).toBe(w.world.kind);
      expect(config.slots.map((s) => [s.id, s.bridge, s.channel])).toEqual([
        ['A1', 'b0', 0],
        ['A2', 'b0', 1],
      ]);
      expect(config.bridges.map((b) => b.port)).toEqual([join(w.dir, 'dev/bridge0')]);
      expect(config.board?.port).toBe(join(w.dir, 'dev/jig'));
      expect(config.store).toBe(join(w.dir, 'station/store'));
      // Spare keys are only useful if the station may retry with them.
      expect(config.loading.retry.maxAttemptsPerChip).toBe(2);
      expect(config.simulation).toMatchObject({ world: '.', reel: 'eum/reel.ndjson', euiccData: 'eum/euicc-data.ndjson', batch: 'batch', chipState: 'chips', units: 4, timeScale: 0 });
      expect(config.slots.every((s) => s.presence !== undefined)).toBe(true);
    }
    const p = await requireConfig(panel.stationFile);
    expect(p.board?.clamp && p.board.startButtons && p.board.estop && p.board.guard).toBeTruthy();
    expect(JSON.parse(readFileSync(join(panel.dir, 'world.json'), 'utf8'))).toMatchObject({ format: 'ifpp-sim-world/1', units: 4, spares: 1, slots: 2 });
  });

  it('binds 1 + spares BPPs per chip, and the station store imports all of them', async () => {
    const store = BppStore.open(join(root, 'store-check'));
    try {
      const report = await importBatch(store, join(panel.dir, 'batch'), { checks: bppChecks });
      expect(report.rejected).toEqual([]);
      expect(report.accepted).toBe(8);
      const keys = store.findByEid(eidToBytes(panel.world.eids.first)).map((b) => b.otpk);
      expect(new Set(keys.map((k) => Buffer.from(k).toString('hex'))).size).toBe(2);
    } finally {
      store.close();
    }
  });

  it('refuses to replace a world without force, and rebuilds it with force', async () => {
    const out = join(root, 'again');
    const first = await buildWorld({ out, slots: 1, units: 1, profile: 'synthetic:500', spares: 0 });
    await expect(buildWorld({ out, slots: 1, units: 1, profile: 'synthetic:500' })).rejects.toMatchObject({ code: 'WORLD_EXISTS' });
    const second = await buildWorld({ out, slots: 1, units: 1, profile: 'synthetic:500', force: true });
    expect(second.world.batch.batchId).not.toBe(first.world.batch.batchId);
    expect(second.world.spares).toBe(1);
  });

  it('fits big stations onto the 128-pin board and caps what cannot fit', () => {
    const sim = {};
    const big = planStation({ kind: 'panel-jig', slots: 100, maxAttemptsPerChip: 2, simulation: sim });
    expect(big.bridges.map((b) => b.slots)).toEqual([16, 16, 16, 16, 16, 16, 4]);
    expect(big.slotPins).toEqual(['presence']);
    const r = validateStationConfig(big.config, { file: 'big.json', dir: root });
    expect(r.problems).toEqual([]);
    const prog = planStation({ kind: 'socket-programmer', slots: 40, maxAttemptsPerChip: 2, simulation: sim });
    expect(prog.slotPins).toEqual(['presence', 'passLed', 'failLed']);
    expect(validateStationConfig(prog.config, { file: 'p.json', dir: root }).problems).toEqual([]);
    expect(() => planStation({ kind: 'socket-programmer', slots: 41, maxAttemptsPerChip: 2, simulation: sim })).toThrow(/at most 40/);
    expect(() => planStation({ kind: 'panel-jig', slots: 257, maxAttemptsPerChip: 2, simulation: sim })).toThrow(/at most 256/);
  });
});

describe('operator faults', () => {
  const wiring = wiringFromConfig(planStation({ kind: 'socket-programmer', slots: 40, maxAttemptsPerChip: 2, simulation: {} }).config, 'p.json');
  // initialCards() only decides (no hardware is touched), so no hardware is needed here.
  const noHardware: OperatorHardware = {
    setInput: () => undefined,
    output: () => undefined,
    onOutput: () => () => undefined,
    insertCard: () => Promise.reject(new TestHostError('TEST_UNUSED', 'no hardware')),
    removeCard: () => Promise.reject(new TestHostError('TEST_UNUSED', 'no hardware')),
  };
  const mutes = (seed: number, rate: number) =>
    new Operator(noHardware, { wiring, eidAt: (i) => `chip${i}`, next: 0, end: 40, seed, faults: { muteCard: rate } })
      .initialCards()
      .map((c) => (c.faults?.muteAtLoadCall as number | undefined) ?? 0);

  it('muteCard is decided per chip from the seed: same seed, same chips; a hang after BF23', () => {
    const a = mutes(7, 0.5);
    expect(a).toEqual(mutes(7, 0.5));
    expect(a).not.toEqual(mutes(8, 0.5));
    const hit = a.filter((n) => n > 0);
    expect(hit.length).toBeGreaterThan(5);
    expect(hit.length).toBeLessThan(35);
    expect(mutes(7, 1).every((n) => n >= 2 && n <= 5)).toBe(true);
    expect(mutes(7, 0).every((n) => n === 0)).toBe(true);
  });
});

describe('operator at the start buttons', () => {
  it('presses again as soon as the green lamp comes on (the station is up and waiting), not only after repressMs', async () => {
    const wiring = wiringFromConfig(planStation({ kind: 'panel-jig', slots: 2, maxAttemptsPerChip: 2, simulation: {} }).config, 'j.json');
    const green = wiring.readyLamp!;
    const clamp = wiring.clamp!.output;
    const outputs = new Map<number, number>();
    const listeners = new Set<(pin: number, value: number) => void>();
    const drive = (pin: number, value: number) => {
      outputs.set(pin, value);
      for (const l of listeners) l(pin, value);
    };
    const hw: OperatorHardware = {
      setInput: () => undefined,
      output: (pin) => outputs.get(pin),
      onOutput: (fn) => {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
      insertCard: () => Promise.resolve(),
      removeCard: () => Promise.resolve(),
    };
    // repressMs far beyond the test's time: a second press can only come from the lamp.
    const op = new Operator(hw, { wiring, eidAt: (i) => `chip${i}`, next: 0, end: 2, pressHoldMs: 1, repressMs: 3_600_000 });
    const presses: string[] = [];
    const pressed = () => new Promise<void>((r) => op.once('press', () => r()));
    const cycle = new Promise<void>((r) => op.once('cycle', () => r()));
    op.on('press', () => presses.push('press'));
    op.initialCards();
    const first = pressed();
    op.start();
    try {
      await first; // before the station is up: nobody sees it
      const second = pressed();
      drive(green.pin, green.activeLow ? 0 : 1); // the station is up and waits for a start
      await second;
      drive(clamp.pin, clamp.activeLow ? 0 : 1); // this press started the cycle
      await cycle;
      expect(presses).toEqual(['press', 'press']);
    } finally {
      op.stop();
    }
  });
});

describe('ifpp sim up: the world at run time', () => {
  let h: WorldHandle | undefined;
  let host: Host | undefined;
  let conn: JigBoardConnection | undefined;
  const stop = async () => {
    await host?.close();
    await conn?.close();
    await h?.close();
    host = conn = h = undefined;
  };
  afterAll(stop);

  it('panel jig: devices at the configured paths, first chips in the slots, two-hand start, a panel swap per cycle, clean close', async () => {
    h = await startWorld(panel.dir, { operator: { repressMs: 400 } });
    const world = h;
    const config = await loadConfig(panel.stationFile);
    const bridgePort = config.config!.bridges[0]!.port;
    const boardPort = config.config!.board!.port;
    expect(lstatSync(bridgePort).isSymbolicLink()).toBe(true);
    expect(realpathSync(bridgePort)).toBe(h.bridges[0]!.path);
    expect(realpathSync(boardPort)).toBe(h.board.ready.path);

    host = await Host.open(bridgePort);
    const info = await host.call({ verb: 'INFO' });
    expect(info.slots).toBe(2);
    const first = await eidInSlot(host, 0);
    expect(first.atr[0]).toBe(0x3b);
    expect(first.eid).toBe(panel.world.eids.first);

    // The operator presses both start buttons (again and again, until the clamp closes).
    conn = await connectBoard({ path: boardPort, queryDelayMs: 20 });
    const b = config.config!.board!;
    const left = new five.Button({ pin: b.startButtons!.left.pin, isPullup: true, board: conn.board });
    const right = new five.Button({ pin: b.startButtons!.right.pin, isPullup: true, board: conn.board });
    const sensor = new five.Button({ pin: b.clamp!.closedSensor.pin, isPullup: true, board: conn.board });
    await Promise.all([until<void>((d) => left.once('down', () => d())), until<void>((d) => right.once('down', () => d()))]);

    // Play the station: close the clamp (the sensor follows), then open it: cycle over.
    const clamp = new five.Pin({ pin: b.clamp!.output.pin, type: 'digital', board: conn.board });
    const closed = until<void>((d) => sensor.once('down', () => d()), 8000, 'clamp sensor');
    clamp.high();
    await closed;
    const panel2 = until<string[]>((d) => world.operator!.once('panel', (_n, eids) => d(eids)), 8000, 'second panel');
    clamp.low();
    const eids2 = await panel2;
    expect(eids2).toHaveLength(2);
    expect((await eidInSlot(host, 0)).eid).toBe(eids2[0]);
    expect(eids2[0]).not.toBe(first.eid);

    // Second cycle: the reel (4 chips) is used up, the operator stops.
    await until<void>((d) => left.once('down', () => d()));
    const done = until<number>((d) => world.operator!.once('done', d), 8000, 'done');
    clamp.high();
    await until<void>((d) => sensor.once('down', () => d()));
    clamp.low();
    expect(await done).toBe(4);
    expect(JSON.parse(readFileSync(join(panel.dir, 'chips/feeder.json'), 'utf8'))).toEqual({ next: 4 });

    const children = [...h.bridges.map((x) => x.process.child), h.board.child];
    await stop();
    expect(children.every((c) => c.exitCode !== null || c.signalCode !== null)).toBe(true);
    expect(existsSync(bridgePort) || existsSync(boardPort)).toBe(false);
    expect(existsSync(join(panel.dir, 'dev/world.pid'))).toBe(false);
  });

  it('socket programmer: a lit pass lamp gets the DUT swapped for the next chip', async () => {
    h = await startWorld(sockets.dir, {});
    const world = h;
    const config = (await loadConfig(sockets.stationFile)).config!;
    host = await Host.open(config.bridges[0]!.port);
    const inSlot1 = (await eidInSlot(host, 1)).eid;
    expect(inSlot1).not.toBe(sockets.world.eids.first);
    expect((await eidInSlot(host, 0)).eid).toBe(sockets.world.eids.first);

    conn = await connectBoard({ path: config.board!.port, queryDelayMs: 20 });
    const slot = config.slots[0]!;
    const presence = new five.Button({ pin: slot.presence!.pin, isPullup: true, board: conn.board });
    const swapped = until<string>((d) => world.operator!.once('insert', (id, eid) => id === 'A1' && d(eid)), 8000, 'insert');
    const out = until<void>((d) => presence.once('up', () => d()), 8000, 'presence off');
    new five.Pin({ pin: slot.passLed!.pin, type: 'digital', board: conn.board }).high();
    await out;
    const eid = await swapped;
    expect((await eidInSlot(host, 0)).eid).toBe(eid);
    // Chips 0 and 1 went in at start; the swap brought chip 2.
    expect([sockets.world.eids.first, inSlot1, sockets.world.eids.last]).not.toContain(eid);
    expect(JSON.parse(readFileSync(join(sockets.dir, 'chips/feeder.json'), 'utf8'))).toEqual({ next: 3 });
    await stop();
  });
});
