/**
 * loading.dialect: a built-in name or a module; validated at config load, used by the FPA.
 * The example second dialect (fixtures-config/dialects/acme-factory.mjs) really talks to a
 * simulated eUICC speaking that dialect, which the project dialect cannot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/station/config/load.ts';
import { loadDialect } from '../../src/station/fpa/dialect-loader.ts';
import { projectEuiccDialect } from '../../src/station/fpa/dialect.ts';
import { FpaClient } from '../../src/station/fpa/fpa-client.ts';
import { T0ApduChannel } from '../../src/transport/card/t0-apdu.ts';
import { euiccCardFromReel } from '../../src/sim/euicc/card-factory.ts';
import { miniFactory, type MiniFactory } from '../helpers/mini-factory.ts';

const EXAMPLE = resolve(import.meta.dirname, '../../fixtures-config/dialects/acme-factory.mjs');

function config(dir: string, loading: Record<string, unknown> | undefined): string {
  const cfg = {
    name: 't',
    kind: 'socket-programmer',
    store: 'store',
    journal: 'journal',
    reports: 'reports',
    bridges: [{ id: 'b0', port: '/dev/ttyUSB0', slots: 1 }],
    slots: [{ id: 'A1', bridge: 'b0', channel: 0, row: 1, col: 1 }],
    ...(loading ? { loading } : {}),
  };
  const file = join(dir, 'station.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'ifpp-dialect-'));

describe('loading.dialect', () => {
  it('defaults to the project dialect', async () => {
    const { config: c, problems } = await loadConfig(config(tmp(), undefined));
    expect(problems).toEqual([]);
    expect(c!.loading.dialect).toBe('ifpp-project');
    expect(await loadDialect(c!.loading.dialect)).toBe(projectEuiccDialect);
  });

  it('refuses an unknown built-in name with a suggestion, and a missing module with its path', async () => {
    const a = await loadConfig(config(tmp(), { dialect: 'ifpp-projet' }));
    expect(a.config).toBeUndefined();
    expect(a.problems).toEqual([expect.objectContaining({ path: 'loading.dialect', message: expect.stringContaining('not a built-in eUICC dialect'), hint: expect.stringContaining('did you mean "ifpp-project"') })]);
    const dir = tmp();
    const b = await loadConfig(config(dir, { dialect: './nope.mjs' }));
    expect(b.problems).toEqual([expect.objectContaining({ path: 'loading.dialect', message: `dialect module ${join(dir, 'nope.mjs')} does not exist` })]);
  });

  it.each([
    ['exports nothing usable', 'export const x = 1;', /must export/],
    ['has a one-byte tag', 'export default { name: "x", factoryTags: { getFactoryInfo: 0x70, prepareFactoryLoad: 0xbf71, deleteOneTimeKeys: 0xbf72, closeFpaServices: 0xbf73 } };', /factoryTags\.getFactoryInfo/],
    ['repeats a tag', 'export default { name: "x", factoryTags: { getFactoryInfo: 0xbf70, prepareFactoryLoad: 0xbf70, deleteOneTimeKeys: 0xbf72, closeFpaServices: 0xbf73 } };', /four different tags/],
    ['takes a built-in name', 'export default { name: "ifpp-project", factoryTags: { getFactoryInfo: 0xbf60, prepareFactoryLoad: 0xbf61, deleteOneTimeKeys: 0xbf62, closeFpaServices: 0xbf63 } };', /built-in dialect/],
    ['is a half-made dialect object', 'export default { name: "x", isdRAid: new Uint8Array(16), factory: {}, maxBlockSize: 255, storeDataLe: false };', /factory\.requestKind/],
    ['throws on import', 'throw new Error("boom");', /cannot load.*boom/],
  ])('a dialect module that %s is a config problem, not a crash', async (_what, text, message) => {
    const dir = tmp();
    writeFileSync(join(dir, 'd.mjs'), text);
    const r = await loadConfig(config(dir, { dialect: './d.mjs' }));
    expect(r.config).toBeUndefined();
    expect(r.problems).toEqual([expect.objectContaining({ path: 'loading.dialect', message: expect.stringMatching(message) })]);
  });

  describe('the example second dialect against a chip that speaks it', () => {
    let f: MiniFactory;
    beforeAll(async () => {
      f = await miniFactory({ chips: 1, keys: 2, perEuicc: 1 });
    });
    afterAll(() => f.close());

    it('is accepted by the config, and only it reads the chip', async () => {
      const dir = tmp();
      const r = await loadConfig(config(dir, { dialect: EXAMPLE }));
      expect(r.problems).toEqual([]);
      const acme = await loadDialect(r.config!.loading.dialect);
      expect(acme.name).toBe('acme-factory/1');
      expect(acme.factory.tags.getFactoryInfo).toBe(0xbf60);
      expect(acme.maxBlockSize).toBe(200);

      const card = await euiccCardFromReel({ reel: f.reel, eid: f.eids[0]!, stateDir: join(dir, 'chips') }, 0, acme.factory);
      const channel = new T0ApduChannel({ exchange: async (t: Uint8Array) => (await card.transmitTpdu(t)).response });
      card.atr('cold');
      const sent: string[] = [];
      const fpa = new FpaClient({ transmit: (a) => channel.transmit(a) }, { dialect: acme, onApdu: (s) => sent.push(s.command) });
      await fpa.selectIsdR();
      const info = await fpa.getFactoryInfo();
      expect(info.fpaServices).toBe('open');
      expect(info.oneTimeKeys.length).toBe(2);
      // The project dialect's BF70 means nothing to this chip.
      const wrong = new FpaClient({ transmit: (a) => channel.transmit(a) }, { dialect: projectEuiccDialect });
      await expect(wrong.getFactoryInfo()).rejects.toMatchObject({ code: expect.stringMatching(/^FPA_/) });
    });
  });
});
