/**
 * `ifpp probe` as a technician runs it (a child process), against the simulated factory: the
 * bridge simulator and the virtual Firmata jig board on ptys, simulated eUICCs in the slots.
 * Also: the probe's APDU gate against a simulated chip, and its import graph.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { eidToBytes, makeEid } from '../../src/core/rsp/eid.ts';
import { TAG_EUICC_INFO2, TAG_GET_EUICC_DATA } from '../../src/core/rsp/es10.ts';
import { buildWorld } from '../../src/sim/world/build-world.ts';
import { startWorld, type WorldHandle } from '../../src/sim/world/run-world.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { PtyDevice } from '../../src/sim/pty/pty-device.ts';
import { projectEuiccDialect } from '../../src/station/fpa/dialect.ts';
import { FpaClient } from '../../src/station/fpa/fpa-client.ts';
import { ReadOnlyTransmitter } from '../../src/station/probe/read-only.ts';
import type { ProbeReport } from '../../src/station/probe/report.ts';
import { T0ApduChannel } from '../../src/transport/card/t0-apdu.ts';
import { requireConfig } from '../../src/station/config/load.ts';
import { importEuiccData } from '../../src/station/euicc-data/euicc-store.ts';
import { bppChecks } from '../../src/station/store/bpp-checks.ts';
import { BppState, BppStore } from '../../src/station/store/bpp-store.ts';
import { importBatch } from '../../src/station/store/import-batch.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const IFPP = join(root, 'bin/ifpp.js');

async function ifpp(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // The virtual board does not reset when its port opens: no need to wait 2.5 s for it.
  const env = { ...process.env, IFPP_JIG_QUERY_DELAY_MS: '20' };
  try {
    const { stdout, stderr } = await run(process.execPath, [IFPP, 'probe', ...args], { cwd, env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const SLOTS = 4;
let world: WorldHandle;
let dir: string;
/** The world's station store (config.store), with its batch and eUICC data imported. */
let store: string;

/** The EIDs of the chips in the slots (the first panel: the reel's first SLOTS chips). */
function insertedEids(): string[] {
  const { prefix, firstSerial } = world.world.eids;
  return Array.from({ length: SLOTS }, (_, i) => makeEid(prefix + String(BigInt(firstSerial) + BigInt(i)).padStart(30 - prefix.length, '0')));
}

/** Every file of a folder tree with its bytes (hex), to prove the probe wrote nothing there. */
function treeBytes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(root.length)] = readFileSync(p).toString('hex');
    }
  };
  walk(root);
  return out;
}

/** Every chip state file of the world, by name: what the chips remember (keys, profiles). */
function chipStates(): Record<string, string> {
  const chips = join(dir, 'chips');
  return Object.fromEntries(readdirSync(chips).map((f) => [f, readFileSync(join(chips, f), 'utf8')]));
}

/** A copy of the world's station.json with changes, next to it (so its relative paths hold). */
function variant(name: string, change: (c: Record<string, any>) => void): string {
  const c = JSON.parse(readFileSync(join(dir, 'station.json'), 'utf8')) as Record<string, any>;
  change(c);
  writeFileSync(join(dir, name), JSON.stringify(c, null, 2));
  return name;
}

beforeAll(async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'ifpp-probe-')), 'w');
  const built = await buildWorld({ out, slots: SLOTS, units: 12, kind: 'panel-jig', profile: 'synthetic:2500', timeScale: 0 });
  dir = built.dir;
  // Into the station's store, as `ifpp sim station` (and an operator, with ifpp bpp/euicc import) does.
  store = (await requireConfig(built.stationFile)).store;
  const bpps = BppStore.open(store);
  try {
    await importBatch(bpps, join(dir, built.world.files.batch), { checks: bppChecks });
  } finally {
    bpps.close();
  }
  await importEuiccData(store, join(dir, built.world.files.euiccData), 'sim-eum');
  // No automatic operator: the first panel sits in the jig, nobody presses anything.
  world = await startWorld(dir, { timeScale: 0, operator: false });
});

afterAll(async () => {
  await world?.close();
});

describe('ifpp probe on the simulated station', () => {
  it('everything answers: bridge INFO and slot STATUS, jig inputs in words, exit 0, no output driven', async () => {
    const r = await ifpp(dir, 'station.json', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as ProbeReport;
    expect(j.ok).toBe(true);
    expect(j.problems).toEqual([]);
    const b = j.bridges[0]!;
    expect(b.answered).toBe(true);
    expect(b.info).toMatchObject({ protocol: 1, slots: SLOTS, apdu: true });
    expect(b.info!.classes).toContain('C');
    // The first panel is loaded: every slot's bridge sees an unpowered card.
    expect(b.slots.map((s) => [s.id, s.state])).toEqual([
      ['A1', 'OFF'],
      ['A2', 'OFF'],
      ['B1', 'OFF'],
      ['B2', 'OFF'],
    ]);
    expect(b.slots.every((s) => s.card === undefined)).toBe(true); // no --cards: no card touched
    const jig = j.jig!;
    expect(jig.answered).toBe(true);
    expect(jig.firmware!.name).toBe('StandardFirmata.ino');
    const state = Object.fromEntries(jig.inputs.map((i) => [i.name, i.state]));
    expect(state).toMatchObject({ 'e-stop': 'released', 'guard (lid)': 'closed', 'clamp sensor': 'open', 'start left': 'released', 'presence A1': 'present', 'presence B2': 'present' });
    // Read-only: the virtual board saw no output pin driven, ever.
    expect(world.board.outputs.size).toBe(0);

    // Inputs change, the probe sees it: e-stop pressed (a note, not a problem).
    const estop = world.wiring.estop!;
    world.board.setInput(estop.pin, estop.activeLow ? 0 : 1);
    try {
      const t = await ifpp(dir, 'station.json');
      expect(t.code).toBe(0);
      expect(t.stdout).toMatch(/e-stop\s+pin 6\s+pressed/);
      expect(t.stdout).toContain('the e-stop is pressed');
      expect(t.stdout).toMatch(/^ok: everything answered \(1 bridge, 4 slots, the jig board\)$/m);
    } finally {
      world.board.setInput(estop.pin, estop.activeLow ? 1 : 0);
    }
    expect(world.board.outputs.size).toBe(0);
  });

  it('--cards shows the EID of every inserted chip and leaves every chip as it was', async () => {
    const inserted = insertedEids();
    const before = chipStates();
    expect(Object.keys(before)).toEqual(expect.arrayContaining(inserted.map((e) => `${e}.json`)));

    const r = await ifpp(dir, 'station.json', '--cards', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as ProbeReport;
    const cards = j.bridges[0]!.slots.map((s) => s.card!);
    expect(cards.map((c) => c.eid).sort()).toEqual([...inserted].sort());
    for (const c of cards) {
      expect(c.eidValid).toBe(true);
      expect(c.protocols).toContain(0);
      expect(c.negotiation).toBe('pps');
      expect(c.euiccInfo2!.ciKeysForVerification.length).toBeGreaterThan(0);
      // 1 key + 1 spare per chip (buildWorld's default), none used by reading.
      expect(c.factory).toEqual({ fpaServices: 'open', oneTimeKeys: { unused: 2, consumed: 0 } });
    }
    // Nothing the chips keep changed, every slot is powered off again, no jig output moved.
    expect(chipStates()).toEqual(before);
    expect(world.board.outputs.size).toBe(0);
    const again = JSON.parse((await ifpp(dir, 'station.json', '--json')).stdout) as ProbeReport;
    expect(again.bridges[0]!.slots.map((s) => s.state)).toEqual(['OFF', 'OFF', 'OFF', 'OFF']);

    const t = await ifpp(dir, 'station.json', '--cards');
    expect(t.code).toBe(0);
    for (const eid of inserted) expect(t.stdout).toContain(`EID      ${eid}`);
    expect(t.stdout).toContain('2 one-time keys unused, 0 consumed');
    expect(t.stdout).toContain('line protocol 1, runs whole APDUs');
    expect(t.stdout).toMatch(/4 cards read\)$/m);
    expect(chipStates()).toEqual(before);
  });

  it('--cards checks each chip against the store: eUICC data and chain, loadable BPPs from a batch whose CI the chip trusts; the store is not written', async () => {
    const before = treeBytes(store);
    const batchId = world.world.batch.batchId;
    const r = await ifpp(dir, 'station.json', '--cards', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as ProbeReport;
    expect(j.problems).toEqual([]);
    expect(j.notes).toEqual([]);
    for (const s of j.bridges[0]!.slots) {
      // 1 key + 1 spare per chip: both BPPs loadable, both from the one batch, whose CI the chip lists.
      expect(s.card!.station).toEqual({
        euiccData: { state: 'ok', source: 'sim-eum' },
        bpps: { bound: 2, states: { available: 2 }, unusedKeys: 2, loadable: 2, trusted: 2, batches: [batchId] },
      });
    }
    const t = await ifpp(dir, 'station.json', '--cards');
    expect(t.code).toBe(0);
    const line = `    station  eUICC data ✓ (CERT.EUICC chain ok), 2 BPPs loadable (batch ${batchId}, CI trusted by the chip)`;
    expect(t.stdout.split('\n').filter((l) => l === line)).toHaveLength(SLOTS);
    // Read-only: no state byte, index or manifest of the store changed, nothing was added.
    expect(treeBytes(store)).toEqual(before);
  });

  it('--cards with an empty store folder: one note that nothing is imported yet, the hardware still passes', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ifpp-probe-empty-store-'));
    const name = variant('empty-store.json', (c) => {
      c.store = empty;
    });
    const r = await ifpp(dir, name, '--cards', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as ProbeReport;
    expect(j.ok).toBe(true);
    expect(j.problems).toEqual([]);
    const notes = j.notes.filter((n) => n.message.includes('imported yet'));
    expect(notes).toEqual([{ store: empty, message: expect.stringContaining('no eUICC data / no BPP batches imported yet (ifpp euicc import / ifpp bpp import)') }]);
    expect(j.bridges[0]!.slots.every((s) => s.card!.eid !== undefined && s.card!.station === undefined)).toBe(true);
    expect(readdirSync(empty)).toEqual([]); // opened read-only: not even its subfolders were made

    const t = await ifpp(dir, name, '--cards');
    expect(t.code).toBe(0);
    expect(t.stdout.match(/no eUICC data \/ no BPP batches imported yet/g)).toHaveLength(1);
    expect(t.stdout).not.toMatch(/^ {4}station /m);
  });

  it('--cards: a chip whose BPPs are all used is PROBE_CARD_NO_BPP with the numbers, exit 1', async () => {
    // A copy of the store (never the world's own) where every BPP of one inserted chip is installed.
    const copy = join(mkdtempSync(join(tmpdir(), 'ifpp-probe-store-')), 'store');
    cpSync(store, copy, { recursive: true });
    const eid = insertedEids()[0]!;
    const s = BppStore.open(copy);
    try {
      const bound = s.findByEid(eidToBytes(eid));
      expect(bound).toHaveLength(2);
      for (const b of bound) s.setState(b, BppState.installed);
    } finally {
      s.close();
    }
    const before = treeBytes(copy);
    const name = variant('used-store.json', (c) => {
      c.store = copy;
    });
    const r = await ifpp(dir, name, '--cards', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as ProbeReport;
    expect(j.ok).toBe(false);
    const slot = j.bridges[0]!.slots.find((x) => x.card?.eid === eid)!;
    expect(j.problems).toEqual([expect.objectContaining({ code: 'PROBE_CARD_NO_BPP', bridge: 'b0', slot: slot.id })]);
    expect(j.problems[0]!.message).toContain(`no loadable BPP for EID ${eid}: 2 bound to it (2 installed), none of them in a loadable state and bound to one of its 2 unused one-time keys`);
    expect(j.problems[0]!.hint).toContain('ifpp bpp list');
    expect(slot.card!.station!.bpps).toMatchObject({ bound: 2, states: { installed: 2 }, unusedKeys: 2, loadable: 0 });
    // The other chips are still loadable from the copy.
    expect(j.bridges[0]!.slots.filter((x) => x !== slot).every((x) => x.card!.station!.bpps!.loadable === 2)).toBe(true);
    expect(treeBytes(copy)).toEqual(before);

    const t = await ifpp(dir, name, '--cards');
    expect(t.code).toBe(1);
    expect(t.stdout).toContain('    station  eUICC data ✓ (CERT.EUICC chain ok), no BPP loadable ✗ (2 bound to this EID, 2 unused keys)');
    expect(t.stdout).toContain(`PROBE_CARD_NO_BPP: slot ${slot.id} (bridge b0 channel ${slot.channel}): no loadable BPP for EID ${eid}`);
  });

  it('a bridge path that does not exist: exit 1, the problem names the bridge and the path', async () => {
    const name = variant('missing-bridge.json', (c) => {
      c.bridges[0].port = 'dev/no-such-bridge';
    });
    const r = await ifpp(dir, name, '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as ProbeReport;
    expect(j.ok).toBe(false);
    const path = join(dir, 'dev/no-such-bridge');
    expect(j.problems).toEqual([expect.objectContaining({ code: 'PROBE_BRIDGE_MISSING', bridge: 'b0', port: path })]);
    expect(j.problems[0]!.message).toBe(`bridge b0: ${path} does not exist (no such device)`);
    expect(j.problems[0]!.hint).toContain('bridges[0].port');
    expect(j.bridges[0]!.answered).toBe(false);
    expect(j.jig!.answered).toBe(true); // the rest is still probed

    const t = await ifpp(dir, name);
    expect(t.code).toBe(1);
    expect(t.stdout).toContain('PROBE_BRIDGE_MISSING: bridge b0: dev/no-such-bridge does not exist (no such device)'); // shown relative to the working folder
    expect(t.stdout).toMatch(/^1 problem \(1 bridge, 4 slots, the jig board\)$/m);
  });

  it('a port that opens but does not answer, and a bridge with fewer channels than the config gives it', async () => {
    const silent = await PtyDevice.open(join(dir, 'dev', 'silent'));
    try {
      const name = variant('short-bridge.json', (c) => {
        c.bridges[0].slots = 8;
        c.slots.push({ id: 'C1', bridge: 'b0', channel: 6, row: 3, col: 1 });
        c.bridges.push({ id: 'b1', port: 'dev/silent', slots: 1 });
        c.slots.push({ id: 'C2', bridge: 'b1', channel: 0, row: 3, col: 2 });
      });
      const r = await ifpp(dir, name, '--json', '--timeout', '300');
      expect(r.code).toBe(1);
      const j = JSON.parse(r.stdout) as ProbeReport;
      expect(j.problems.map((p) => [p.code, p.bridge, p.slot])).toEqual([
        ['PROBE_BRIDGE_SLOTS', 'b0', 'C1'],
        ['PROBE_BRIDGE_SILENT', 'b1', undefined],
      ]);
      expect(j.problems[0]!.message).toBe('bridge b0 has 4 card channels, the config gives it 8: slot C1 (channel 6) cannot work');
      expect(j.problems[1]!.message).toContain('opened but gave no valid INFO answer within 300 ms');
      expect(j.bridges[0]!.slots.find((s) => s.id === 'C1')!.state).toBe('no-channel');
    } finally {
      await silent.close();
    }
  });

  it('usage: --help says it is read-only; bad arguments exit 2', async () => {
    const h = await ifpp(root, '--help');
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: ifpp probe <config> [--cards] [--json] [--timeout MS]');
    expect(h.stdout).toContain('Read-only: no jig output is driven');
    expect((await ifpp(root)).code).toBe(2);
    const bad = await ifpp(dir, 'station.json', '--timeout', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout must be a whole number');
    expect((await ifpp(dir, 'station.json', '--drive-clamp')).code).toBe(2);
    const missing = await ifpp(dir, 'nope.json', '--json');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).problems[0].code).toBe('CONFIG_NOT_FOUND');
  });
});

describe('the probe APDU gate', () => {
  it('passes the read-only ES10 requests and refuses anything that changes a chip, before it is sent', async () => {
    const { prefix, firstSerial } = world.world.eids;
    // A chip of the reel no bridge holds, in a state folder of its own.
    const eid = makeEid(prefix + String(BigInt(firstSerial) + 10n).padStart(30 - prefix.length, '0'));
    const card = await euiccCardFromReel({ reel: join(dir, 'eum/reel.ndjson'), eid, stateDir: mkdtempSync(join(tmpdir(), 'ifpp-probe-chip-')) }, 0);
    let tpdus = 0;
    const channel = new T0ApduChannel({
      exchange: async (t) => {
        tpdus++;
        return (await card.transmitTpdu(t)).response;
      },
    });
    const allowed = new Set([TAG_GET_EUICC_DATA, TAG_EUICC_INFO2, projectEuiccDialect.factory.tags.getFactoryInfo]);
    const fpa = new FpaClient(new ReadOnlyTransmitter(channel, allowed, { slot: 'X1' }));
    await fpa.selectIsdR();
    expect(await fpa.getEid()).toBe(eid);
    const info = await fpa.getFactoryInfo();
    expect(info.oneTimeKeys.every((k) => k.state === 'unused')).toBe(true);

    const sent = tpdus;
    const refused = { code: 'PROBE_NOT_READ_ONLY', details: { slot: 'X1' } };
    await expect(fpa.deleteOneTimeKeys()).rejects.toMatchObject(refused);
    await expect(fpa.closeFpaServices()).rejects.toMatchObject(refused);
    await expect(fpa.prepareFactoryLoad({ euiccOtpk: info.oneTimeKeys[0]!.otpk, dpPbCertificate: Uint8Array.of(0x30, 0x00) })).rejects.toMatchObject(refused);
    await expect(fpa.listProfiles()).rejects.toMatchObject(refused);
    expect(tpdus).toBe(sent); // none of them reached the chip
    expect((await fpa.getFactoryInfo()).oneTimeKeys).toEqual(info.oneTimeKeys);
  });
});

describe('import graph of the probe', () => {
  const src = join(root, 'src');
  const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

  it('the probe command and src/station/probe never reach sim/, binding/ or ui/', () => {
    const probeDir = join(src, 'station', 'probe');
    const todo = [join(src, 'cli', 'commands', 'probe.ts'), ...readdirSync(probeDir).map((f) => join(probeDir, f))];
    const seen = new Set(todo);
    while (todo.length) {
      const f = todo.pop()!;
      for (const m of readFileSync(f, 'utf8').matchAll(IMPORT_RE)) {
        const spec = m[1] ?? m[2] ?? m[3];
        if (!spec?.startsWith('.')) continue;
        const dep = resolve(dirname(f), spec);
        if (seen.has(dep) || !existsSync(dep) || !statSync(dep).isFile()) continue;
        seen.add(dep);
        todo.push(dep);
      }
    }
    expect(seen.size).toBeGreaterThan(10); // it did follow the imports
    const bad = [...seen].filter((f) => ['sim', 'binding', 'ui'].some((d) => f.startsWith(join(src, d) + '/')));
    expect(bad).toEqual([]);
  });
});
