/**
 * The simulated eUICC behind the UART bridge simulator, driven over a pty by a real serialport
 * client speaking the bridge line protocol: in-process (BridgeSim) and as the bridge process
 * with the eUICC card factory, a reel file and a state directory, killed with SIGKILL and
 * restarted (the chip remembers its burnt key and installed profile).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { DelimiterParser } from '@serialport/parser-delimiter';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindProfile } from '../../src/binding/bind.ts';
import { fromHex } from '../../src/core/bytes.ts';
import { ecdsaVerify } from '../../src/core/crypto/ecdsa.ts';
import { IfppError } from '../../src/core/errors.ts';
import { parseBridgeLine, type BridgeFrame } from '../../src/core/bridge-protocol/frame.ts';
import { buildPps, parseAtr } from '../../src/core/bridge-protocol/iso7816.ts';
import { decodeEvent, decodeReply, encodeRequest, type BridgeEvent, type BridgeRequest, type ReplyMap } from '../../src/core/bridge-protocol/verbs.ts';
import { decodeProfileInfoListResponse, encodeProfileInfoListRequest } from '../../src/core/rsp/es10.ts';
import { projectDialect as dialect } from '../../src/core/rsp/factory.ts';
import { decodePir } from '../../src/core/rsp/pir.ts';
import { parseCertificate } from '../../src/core/x509/certificate.ts';
import { BridgeSim } from '../../src/sim/bridge/bridge-sim.ts';
import { spawnBridgeProcess, type SpawnedBridge } from '../../src/sim/bridge/bridge-process.ts';
import { moduleFile } from '../../src/sim/node-entry.ts';
import type { SimCard, TpduResult } from '../../src/sim/card/card-model.ts';
import type { ReelChip } from '../../src/sim/eum/formats.ts';
import { T0CardClient } from '../../src/sim/euicc/card-client.ts';
import type { ChipState } from '../../src/sim/euicc/chip-state.ts';
import { SimulatedEuicc } from '../../src/sim/euicc/euicc-card.ts';
import { makeTestChips, type TestChips } from '../../src/sim/euicc/test-chips.ts';
import { syntheticUpp } from '../../src/sim/profiles/upp.ts';

// A card module named by its path, as the child runs it (dist/ in the suite: node-entry.ts).
const CARD_FACTORY = moduleFile('../../src/sim/euicc/card-factory.ts', import.meta.url);

class BridgeError extends IfppError {}

/** A minimal bridge host: serialport + line parser, request ids, replies matched by id. */
class Host {
  readonly events: BridgeEvent[] = [];
  private nextId = 1;
  private waiting = new Map<number, (f: BridgeFrame) => void>();

  private constructor(readonly port: SerialPort) {
    port.pipe(new DelimiterParser({ delimiter: '\n' })).on('data', (d: Buffer) => {
      const f = parseBridgeLine(d.toString('latin1'));
      if (f.kind === 'event') {
        const e = decodeEvent(f);
        if (e) this.events.push(e);
        return;
      }
      this.waiting.get(f.id)?.(f);
      this.waiting.delete(f.id);
    });
  }

  static async open(path: string): Promise<Host> {
    const port = new SerialPort({ path, baudRate: 115200 });
    await new Promise<void>((res, rej) => port.once('open', res).once('error', rej));
    port.on('error', () => undefined);
    port.write('\n');
    return new Host(port);
  }

  async send(req: BridgeRequest): Promise<BridgeFrame & { kind: 'response' }> {
    const id = this.nextId++;
    const p = new Promise<BridgeFrame>((res, rej) => {
      const t = setTimeout(() => rej(new BridgeError('TEST_TIMEOUT', `no reply to ${req.verb}`)), 10_000);
      this.waiting.set(id, (f) => (clearTimeout(t), res(f)));
    });
    this.port.write(encodeRequest(id, req));
    return (await p) as BridgeFrame & { kind: 'response' };
  }

  async call<R extends BridgeRequest>(req: R): Promise<ReplyMap[R['verb']]> {
    const f = await this.send(req);
    if (!f.ok) throw new BridgeError(`ERR_${f.error}`, `${req.verb} answered ERR ${f.error}`);
    return decodeReply(req.verb, f.args) as ReplyMap[R['verb']];
  }

  close(): Promise<void> {
    return new Promise((res) => (this.port.isOpen ? this.port.close(() => res()) : res()));
  }
}

/** One bridge slot seen as a card, so the same T=0 client drives it. */
class BridgeSlotCard implements SimCard {
  constructor(
    private readonly host: Host,
    private readonly slot: number,
  ) {}
  atr(): Uint8Array {
    throw new BridgeError('TEST_UNUSED', 'use activate()');
  }
  pps(): Uint8Array | null {
    return null;
  }
  async transmitTpdu(tpdu: Uint8Array): Promise<TpduResult> {
    const r = await this.host.call({ verb: 'TPDU', slot: this.slot, tpdu });
    return { response: r.data, processingSeconds: r.micros / 1e6 };
  }
  powerOff(): void {}
}

async function activate(host: Host, slot: number, ta1 = 0x96) {
  await host.call({ verb: 'POWER', slot, vcc: 'C' });
  const atr = parseAtr((await host.call({ verb: 'RESET', slot, kind: 'COLD' })).data);
  await host.call({ verb: 'PPS', slot, pps: buildPps(ta1) });
  const client = new T0CardClient(new BridgeSlotCard(host, slot));
  expect(await client.selectIsdr(0)).toBe(0x9000);
  return { atr, client };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

let t: TestChips;
beforeAll(() => {
  t = makeTestChips({ curve: 'nist', count: 2, keysPerChip: 2 });
});

const ICCID = '8949449999999990023';

function bppFor(chip: ReelChip, keyIndex: number, iccid = ICCID) {
  return bindProfile({
    upp: syntheticUpp(iccid, 13_000),
    eid: chip.eid,
    euiccOtpk: fromHex(chip.otks[keyIndex]!.pk),
    dpPb: { curve: 'nist', secretKey: t.dpPb.secretKey! },
    metadata: { iccid, serviceProviderName: 'IFPP Test', profileName: 'Bridge test' },
  });
}

async function prepareAndLoad(client: T0CardClient, chip: ReelChip, keyIndex: number, bpp: Uint8Array) {
  const prep = await client.es10(dialect.encodePrepareFactoryLoadRequest({ euiccOtpk: fromHex(chip.otks[keyIndex]!.pk), dpPbCertificate: t.dpPb.der }));
  expect(dialect.decodePrepareFactoryLoadResponse(prep.data).name).toBe('ok');
  return client.loadBpp(bpp, { blockSize: 255 });
}

async function keyStates(client: T0CardClient): Promise<string[]> {
  return dialect.decodeGetFactoryInfoResponse((await client.es10(dialect.encodeGetFactoryInfoRequest())).data).oneTimeKeys.map((k) => k.state);
}

describe('simulated eUICC behind the in-process bridge simulator', () => {
  it('ATR and PPS through the bridge, then a full BPP load with a PIR that verifies with CERT.EUICC', async () => {
    const cards = t.chips.map((chip) => new SimulatedEuicc({ chip, header: t.header, atr: { ta1: 0x97, wi: 20 } }));
    const bridge = await BridgeSim.start({ slots: 2, cards, timeScale: 0 });
    cleanup.push(() => bridge.close());
    const host = await Host.open(bridge.path);
    cleanup.push(() => host.close());

    const { atr, client } = await activate(host, 1, 0x97);
    expect(atr.ta1).toBe(0x97);
    expect(atr.wi).toBe(20);
    expect(await host.call({ verb: 'STATUS', slot: 1 })).toMatchObject({ state: 'READY', ta1: 0x97 });
    const chip = t.chips[1]!;
    const { bpp, transactionId } = bppFor(chip, 0);
    const out = await prepareAndLoad(client, chip, 0, bpp);
    const pir = decodePir(out.pir!);
    const cert = parseCertificate(new Uint8Array(Buffer.from(chip.certEuicc, 'base64')));
    expect(ecdsaVerify('nist', cert.publicKey.point, pir.bf27Raw, pir.signature)).toBe(true);
    expect(Buffer.from(pir.transactionId).equals(Buffer.from(transactionId))).toBe(true);
    expect(pir.finalResult.kind).toBe('success');
    // The bridge's reported contact times include the chip's modeled processing.
    expect(client.cardSeconds).toBeGreaterThan(0.5);
    const last = bridge.lastExchange(1)!;
    expect(last.verb).toBe('TPDU');
  });

  it('removal mid-load: the bridge answers NOCARD and reports the card out; re-inserted, the chip shows the burnt key', async () => {
    const chip = t.chips[0]!;
    const card = new SimulatedEuicc({ chip, header: t.header, faults: { removeAtLoadCall: 6 } });
    const bridge = await BridgeSim.start({ slots: 1, cards: [card], timeScale: 0 });
    cleanup.push(() => bridge.close());
    card.onRemoval = () => void bridge.removeCard(0);
    const host = await Host.open(bridge.path);
    cleanup.push(() => host.close());

    const { client } = await activate(host, 0);
    const { bpp } = bppFor(chip, 1);
    await expect(prepareAndLoad(client, chip, 1, bpp)).rejects.toMatchObject({ code: 'ERR_NOCARD' });
    await expect.poll(() => host.events).toContainEqual({ event: 'CARD', slot: 0, present: false });
    expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ state: 'EMPTY' });

    bridge.insertCard(0, card);
    const again = await activate(host, 0);
    expect(await keyStates(again.client)).toEqual(['unused', 'consumed']);
    const list = decodeProfileInfoListResponse((await again.client.es10(encodeProfileInfoListRequest())).data);
    expect(list.ok && list.profiles).toEqual([]);
  });

  it('a mute card earns TIMEOUT and comes back after a power cycle', async () => {
    const card = new SimulatedEuicc({ chip: t.chips[0]!, header: t.header });
    const bridge = await BridgeSim.start({ slots: 1, cards: [card], timeScale: 0 });
    cleanup.push(() => bridge.close());
    const host = await Host.open(bridge.path);
    cleanup.push(() => host.close());
    const { client } = await activate(host, 0);
    card.faults.mute = 'untilPowerOff';
    await expect(keyStates(client)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    await host.call({ verb: 'POWER', slot: 0, vcc: 'OFF' });
    const again = await activate(host, 0);
    expect(await keyStates(again.client)).toEqual(['unused', 'unused']);
  });
});

describe('bridge process with the eUICC card factory', () => {
  let proc: SpawnedBridge | undefined;
  afterEach(async () => {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) await proc.stop();
    proc = undefined;
  });

  it('keeps chip state across a SIGKILL of the bridge process (stateDir)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ifpp-euicc-'));
    const reel = join(dir, 'reel.ndjson');
    writeFileSync(reel, [t.header, ...t.chips].map((x) => JSON.stringify(x)).join('\n') + '\n');
    const stateDir = join(dir, 'chips');
    const link = join(dir, 'bridge0');
    const args = ['--slots', '2', '--link', link, '--time-scale', '0', '--card-module', CARD_FACTORY, '--card-options', JSON.stringify({ reel, stateDir, eids: [t.chips[1]!.eid, t.chips[0]!.eid] })];

    proc = await spawnBridgeProcess(args);
    let host = await Host.open(link);
    let { client } = await activate(host, 0);
    const chip = t.chips[1]!; // slot 0 holds chip 1 (eids option)
    const out = await prepareAndLoad(client, chip, 1, bppFor(chip, 1).bpp);
    expect(decodePir(out.pir!).finalResult.kind).toBe('success');
    const saved = JSON.parse(readFileSync(join(stateDir, `${chip.eid}.json`), 'utf8')) as ChipState;
    expect(saved.keys.map((k) => k.state)).toEqual(['unused', 'consumed']);

    await host.close();
    proc.child.kill('SIGKILL');
    await new Promise((res) => proc!.child.once('exit', res));

    proc = await spawnBridgeProcess(args);
    host = await Host.open(link);
    cleanup.push(() => host.close());
    ({ client } = await activate(host, 0));
    expect(await keyStates(client)).toEqual(['unused', 'consumed']);
    const list = decodeProfileInfoListResponse((await client.es10(encodeProfileInfoListRequest())).data);
    expect(list.ok && list.profiles.map((p) => p.iccid)).toEqual([ICCID]);
    // The other slot's chip is untouched.
    const other = await activate(host, 1);
    expect(await keyStates(other.client)).toEqual(['unused', 'unused']);
  });

  it('control "remove" then "insert" gives back the same chip within the process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ifpp-euicc-'));
    const reel = join(dir, 'reel.ndjson');
    writeFileSync(reel, [t.header, ...t.chips].map((x) => JSON.stringify(x)).join('\n') + '\n');
    const link = join(dir, 'bridge0');
    proc = await spawnBridgeProcess(['--slots', '1', '--link', link, '--time-scale', '0', '--card-module', CARD_FACTORY, '--card-options', JSON.stringify({ reel })]);
    const host = await Host.open(link);
    cleanup.push(() => host.close());
    const { client } = await activate(host, 0);
    const chip = t.chips[0]!;
    await prepareAndLoad(client, chip, 0, bppFor(chip, 0).bpp);
    expect(await proc.control('remove 0')).toMatchObject({ ok: true, removed: true });
    expect(await proc.control(`insert 0 ${JSON.stringify({ reel, faults: { pps: 'decline' } })}`)).toMatchObject({ ok: true });
    await host.call({ verb: 'POWER', slot: 0, vcc: 'C' });
    await host.call({ verb: 'RESET', slot: 0, kind: 'COLD' });
    expect((await host.call({ verb: 'PPS', slot: 0, pps: buildPps(0x96) })).data).toEqual(Uint8Array.of(0xff, 0x00, 0xff));
    expect(await host.call({ verb: 'STATUS', slot: 0 })).toMatchObject({ ta1: 0x11 });
    const again = new T0CardClient(new BridgeSlotCard(host, 0));
    expect(await again.selectIsdr(0)).toBe(0x9000);
    expect(await keyStates(again)).toEqual(['consumed', 'unused']);
  });
});
