import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, requireConfig } from '../../src/station/config/load.ts';
import { validateStationConfig, formatProblem, type ConfigProblem } from '../../src/station/config/validate.ts';
import { parseJsonWithPositions, JsonSyntaxError } from '../../src/station/config/json-locate.ts';
import { gridSlots, rowLetter, defineStation } from '../../src/station/config/layout.ts';
import { ConfigError } from '../../src/station/config/errors.ts';
import { DEFAULTS } from '../../src/station/config/schema.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BAD = join(ROOT, 'test/fixtures/bad-configs');
const run = promisify(execFile);

/** 1-based line of the only line in `file` that contains `marker` (independent of the locator). */
function lineWith(file: string, marker: string): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(marker) ? [i + 1] : []));
  expect(hits, `marker ${marker} in ${file}`).toHaveLength(1);
  return hits[0]!;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'ifpp-config-'));
}

/** A small valid panel jig, as an object, for tests that change one thing. */
function jig(): Record<string, any> {
  return {
    name: 't',
    kind: 'panel-jig',
    store: 'store',
    journal: 'journal',
    reports: 'reports',
    board: {
      port: '/dev/ttyACM0',
      clamp: { output: 2, closedSensor: 3 },
      startButtons: { left: 4, right: 5 },
      estop: 6,
      guard: { type: 'lid', pin: 7 },
    },
    bridges: [{ id: 'b0', port: '/dev/ttyUSB0', slots: 2 }],
    slots: [
      { id: 'A1', bridge: 'b0', channel: 0, row: 1, col: 1, power: 22 },
      { id: 'A2', bridge: 'b0', channel: 1, row: 1, col: 2, power: 23 },
    ],
  };
}

function check(raw: unknown): ConfigProblem[] {
  return validateStationConfig(raw, { file: 'x.ts', dir: '/cfg' }).problems;
}

describe('shipped example configs', () => {
  it('sim-jig-8.json validates clean, with pty paths resolved against fixtures-config/', async () => {
    const { config, problems } = await loadConfig(join(ROOT, 'fixtures-config/sim-jig-8.json'));
    expect(problems).toEqual([]);
    expect(config!.kind).toBe('panel-jig');
    expect(config!.slots).toHaveLength(8);
    expect(config!.bridges).toEqual([{ id: 'b0', port: join(ROOT, 'var/sim/bridge0'), baudRate: DEFAULTS.bridgeBaudRate, slots: 8 }]);
    expect(config!.board!.port).toBe(join(ROOT, 'var/sim/jig'));
    // "A0" on a Mega is Firmata pin 54; the label keeps what the file says.
    expect(config!.slots[0]!.reset).toEqual({ pin: 54, label: 'A0', activeLow: false });
    expect(config!.slots[7]!.presence).toEqual({ pin: 37, label: '37', activeLow: true, pullup: true });
    expect(config!.simulation).toEqual({ world: '../var/sim/world' });
  });

  it('sim-programmer-16.ts (scripted with gridSlots) validates clean', async () => {
    const { config, problems } = await loadConfig(join(ROOT, 'fixtures-config/sim-programmer-16.ts'));
    expect(problems).toEqual([]);
    expect(config!.kind).toBe('socket-programmer');
    expect(config!.slots.map((s) => s.id)).toEqual(['A1', 'A2', 'A3', 'A4', 'B1', 'B2', 'B3', 'B4', 'C1', 'C2', 'C3', 'C4', 'D1', 'D2', 'D3', 'D4']);
    const d4 = config!.slots[15]!;
    expect([d4.bridge, d4.channel, d4.row, d4.col]).toEqual(['b1', 7, 4, 4]);
    expect(d4.failLed).toEqual({ pin: 69, label: 'A15', activeLow: false });
    expect(config!.source.dir).toBe(join(ROOT, 'fixtures-config'));
  });

  it('real-jig-template.jsonc (commented) validates clean', async () => {
    const { config, problems } = await loadConfig(join(ROOT, 'fixtures-config/real-jig-template.jsonc'));
    expect(problems).toEqual([]);
    expect(config!.bridges.map((b) => b.id)).toEqual(['b0', 'b1']);
    expect(config!.board!.guard).toEqual({ type: 'light-curtain', pin: 7, label: '7', activeLow: true, pullup: false });
    expect(config!.store).toBe('/var/lib/ifpp/store');
  });
});

describe('broken configs are rejected with the place named', () => {
  const cases: Array<{ file: string; path: string; marker: string; message: RegExp; hint?: RegExp }> = [
    { file: 'unknown-key.json', path: 'slots[2].pwoer', marker: '"pwoer"', message: /unknown key "pwoer"/, hint: /did you mean "power"/ },
    { file: 'duplicate-pin.json', path: 'slots[1].passLed', marker: '"passLed": 22', message: /pin 22 is already used by slots\[0\]\.power/ },
    { file: 'missing-bridge.json', path: 'slots[1].bridge', marker: '"main"', message: /no bridge "main"/, hint: /b0/ },
    { file: 'channel-out-of-range.json', path: 'slots[2].channel', marker: '"channel": 4', message: /channel 4 does not exist: bridge "b0" has 4 slots/ },
    { file: 'duplicate-slot-id.json', path: 'slots[2].id', marker: '"channel": 2', message: /slot id "A1" is already used by slots\[0\]/ },
    { file: 'duplicate-channel.json', path: 'slots[2].channel', marker: '"id": "A3"', message: /channel 0 is already used by slots\[0\]/ },
    { file: 'layout-collision.json', path: 'slots[2].row', marker: '"id": "A3"', message: /row 1, col 2, where slots\[1\] already is/ },
    { file: 'panel-jig-no-estop.json', path: 'board.estop', marker: '"board"', message: /a panel-jig needs "estop"/ },
    { file: 'two-hand-window.json', path: 'board.startButtons.windowMs', marker: '"windowMs"', message: /5000 is out of range 50\.\.2000/ },
    { file: 'pin-out-of-range.json', path: 'slots[2].power', marker: '"A16"', message: /pin A16 does not exist/, hint: /A0\.\.A15/ },
    { file: 'wrong-type.json', path: 'bridges[0].slots', marker: '"slots": "4"', message: /expected a whole number, got the string "4"/ },
    { file: 'socket-programmer-clamp.json', path: 'board.clamp', marker: '"clamp"', message: /a socket-programmer has no clamp/ },
  ];

  for (const c of cases) {
    it(`${c.file}: ${c.path}`, async () => {
      const file = join(BAD, c.file);
      const { config, problems } = await loadConfig(file);
      expect(config).toBeUndefined();
      const p = problems.find((x) => x.path === c.path);
      expect(p, JSON.stringify(problems, null, 1)).toBeDefined();
      expect(p!.message).toMatch(c.message);
      expect(p!.line).toBe(lineWith(file, c.marker));
      expect(p!.hint).not.toBe('');
      if (c.hint) expect(p!.hint).toMatch(c.hint);
    });
  }

  it('a duplicate pin names both places, also across an analog alias ("A0" = 54 on a Mega)', () => {
    const cfg = jig();
    cfg.board.buzzer = 54;
    cfg.slots[1].reset = 'A0';
    const [p, ...rest] = check(cfg);
    expect(rest).toEqual([]);
    expect(p!.path).toBe('slots[1].reset');
    expect(p!.message).toBe('pin A0 (54) is already used by board.buzzer');
    expect(p!.hint).toContain('slots[1].reset and board.buzzer');
  });

  it('a JSON key written twice is a problem (JSON.parse would silently keep the last)', async () => {
    const file = join(BAD, 'duplicate-key.json');
    const { problems } = await loadConfig(file);
    const lines = readFileSync(file, 'utf8').split('\n');
    const estops = lines.flatMap((l, i) => (l.includes('"estop"') ? [i + 1] : []));
    expect(problems).toEqual([
      { file: expect.stringContaining('duplicate-key.json'), path: 'board.estop', line: estops[1], message: `duplicate key (first written at line ${estops[0]})`, hint: expect.any(String) },
    ]);
  });

  it('a JSON syntax error is a ConfigError with the line and column', async () => {
    const file = join(BAD, 'syntax-error.json');
    const err = await loadConfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe('CONFIG_SYNTAX');
    const line = lineWith(file, '"journal": "journal"');
    // The missing comma belongs right after the value on that line.
    const column = readFileSync(file, 'utf8').split('\n')[line - 1]!.length + 1;
    expect(e.details).toMatchObject({ line, column });
    expect(e.message).toContain(`syntax-error.json:${line}:${column}: missing "," after the value of "journal"`);
  });

  it('collects every problem, not just the first, in file order', async () => {
    const dir = tmp();
    const file = join(dir, 'many.json');
    const cfg = jig();
    cfg.kind = 'panel_jig';
    cfg.bridges[0].slots = 17;
    cfg.slots[1].colour = 'red';
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    const { problems } = await loadConfig(file);
    expect(problems.map((p) => [p.path, p.hint.match(/did you mean "[^"]+"/)?.[0]])).toEqual([
      ['kind', 'did you mean "panel-jig"'],
      ['bridges[0].slots', undefined],
      ['slots[1].colour', undefined],
    ]);
    const lines = problems.map((p) => p.line!);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(formatProblem(problems[0]!)).toBe(`${file}:${lineWith(file, '"panel_jig"')} kind: the string "panel_jig" is not one of "panel-jig", "socket-programmer" (did you mean "panel-jig"?)`);
  });

  it('missing keys are reported at their own path, with the line of the enclosing object', async () => {
    const dir = tmp();
    const file = join(dir, 'missing.json');
    const cfg = jig();
    delete cfg.slots[1].row;
    delete cfg.name;
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    const { problems } = await loadConfig(file);
    const text = readFileSync(file, 'utf8').split('\n');
    const slot1Line = text.findIndex((l) => l.includes('"A2"')); // 0-based "id" line = 1-based line of the slot's "{"
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['name', 1],
      ['slots[1].row', slot1Line],
    ]);
  });

  it('pins need a board; socket-programmer slots on a board need presence (without one, bridge card-detect); serial pins are reserved', () => {
    const noBoard = jig();
    delete noBoard.board;
    noBoard.kind = 'socket-programmer';
    const ps = check(noBoard);
    expect(ps.map((p) => p.path)).toEqual(['slots[0].power']);
    expect(ps[0]!.message).toBe('a pin is used but there is no board');

    const onBoard = jig();
    onBoard.kind = 'socket-programmer';
    delete onBoard.board.clamp;
    delete onBoard.board.startButtons;
    for (const s of onBoard.slots) delete s.presence;
    expect(check(onBoard).map((p) => p.path)).toEqual(['slots[0].presence', 'slots[1].presence']);

    const serial = jig();
    serial.board.buzzer = 1;
    expect(check(serial).map((p) => [p.path, p.message])).toEqual([['board.buzzer', 'pin 1 is reserved']]);
  });

  it('PC/SC readers carry slots like bridges: one slot per reader, a slot is a channel or a reader, names and ids unique', () => {
    const bench = (): Record<string, any> => ({
      name: 'bench',
      kind: 'socket-programmer',
      store: 'store',
      journal: 'journal',
      reports: 'reports',
      readers: [
        { id: 'r0', name: 'ACS ACR39U ICC Reader 00 00' },
        { id: 'r1', name: 'acr39u*01 00' },
      ],
      slots: [
        { id: 'A1', reader: 'r0', row: 1, col: 1 },
        { id: 'A2', reader: 'r1', row: 1, col: 2 },
      ],
    });
    const ok = validateStationConfig(bench(), { file: 'x.json', dir: '/cfg' });
    expect(ok.problems).toEqual([]);
    expect(ok.config!.bridges).toEqual([]);
    expect(ok.config!.readers).toEqual(bench().readers);
    expect(ok.config!.slots[1]).toMatchObject({ id: 'A2', reader: 'r1', bridge: 'r1', channel: 0 });

    // Readers beside bridges and a board, presence from the board.
    const mixed = jig();
    mixed.readers = [{ id: 'r0', name: 'Reader' }];
    mixed.slots.push({ id: 'B1', reader: 'r0', row: 2, col: 1 });
    expect(check(mixed)).toEqual([]);

    const bad = bench();
    bad.readers.push({ id: 'r0', name: 'other' }, { id: 'r2', name: 'acr39u*01 00' }, { id: 'r3' });
    bad.slots.push(
      { id: 'A3', reader: 'r1', row: 1, col: 3 },
      { id: 'A4', reader: 'rX', row: 1, col: 4 },
      { id: 'A5', reader: 'r0', bridge: 'b0', channel: 0, row: 1, col: 5 },
      { id: 'A6', row: 1, col: 6 },
    );
    expect(check(bad).map((p) => [p.path, p.message])).toEqual([
      ['readers[2].id', 'reader id "r0" is already used by readers[0]'],
      ['readers[3].name', 'reader name "acr39u*01 00" is already used by readers[1]'],
      ['readers[4].name', 'missing required key "name"'],
      ['slots[2].reader', 'reader "r1" is already used by slots[1]'],
      ['slots[3].reader', 'no reader "rX"'],
      ['slots[4].reader', 'a slot is either a bridge channel ("bridge" + "channel") or a reader ("reader"), not both'],
      ['slots[5]', 'a slot needs "bridge" and "channel" (a bridge channel) or "reader" (a PC/SC reader)'],
    ]);

    const nothing = bench();
    delete nothing.readers;
    expect(check(nothing).map((p) => p.message)).toContain('no "bridges" and no "readers": nothing carries the slots');
    const clash = jig();
    clash.readers = [{ id: 'b0', name: 'Reader' }];
    expect(check(clash).map((p) => [p.path, p.message])).toEqual([['readers[0].id', 'reader id "b0" is already a bridge\'s id']]);
  });

  it('a module config with problems reports paths without lines', async () => {
    const dir = tmp();
    const file = join(dir, 'station.mjs');
    const cfg = jig();
    cfg.slots[1].bridge = 'b1';
    writeFileSync(file, `export default async () => (${JSON.stringify(cfg)});\n`);
    const { problems } = await loadConfig(file);
    expect(problems).toEqual([{ file, path: 'slots[1].bridge', message: 'no bridge "b1"', hint: 'did you mean "b0"?' }]);
  });

  it('a module that throws is a ConfigError naming the file', async () => {
    const dir = tmp();
    const file = join(dir, 'boom.mjs');
    writeFileSync(file, `throw new Error('wiring table missing');\n`);
    const err = (await loadConfig(file).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('CONFIG_MODULE_FAILED');
    expect(err.message).toContain('boom.mjs');
    expect(err.message).toContain('wiring table missing');
  });

  it('missing files, comments in .json and unknown extensions are ConfigErrors', async () => {
    const dir = tmp();
    await expect(loadConfig(join(dir, 'none.json'))).rejects.toMatchObject({ code: 'CONFIG_NOT_FOUND' });
    writeFileSync(join(dir, 'c.json'), '{\n  // a note\n  "name": "x"\n}\n');
    await expect(loadConfig(join(dir, 'c.json'))).rejects.toMatchObject({ code: 'CONFIG_SYNTAX', details: { line: 2, column: 3 }, hint: expect.stringContaining('.jsonc') });
    writeFileSync(join(dir, 'c.yaml'), 'name: x\n');
    await expect(loadConfig(join(dir, 'c.yaml'))).rejects.toMatchObject({ code: 'CONFIG_UNSUPPORTED' });
  });

  it('requireConfig throws CONFIG_INVALID carrying every problem', async () => {
    const err = (await requireConfig(join(BAD, 'socket-programmer-clamp.json')).catch((e: unknown) => e)) as ConfigError;
    expect(err.code).toBe('CONFIG_INVALID');
    expect((err.details.problems as ConfigProblem[]).length).toBe(5);
    expect(err.message).toContain('board.clamp');
  });
});

describe('defaults and path resolution', () => {
  it('applies defaults and resolves relative paths against the config file folder', async () => {
    const dir = tmp();
    const file = join(dir, 'min.jsonc');
    const cfg = jig();
    cfg.bridges[0].port = 'sim/bridge0';
    cfg.board.port = 'COM3';
    writeFileSync(file, `// minimal\n${JSON.stringify(cfg, null, 2).replace(/\n}$/, ',\n}')}\n`);
    const { config, problems } = await loadConfig(file, { cwd: '/' });
    expect(problems).toEqual([]);
    expect(config!.store).toBe(join(dir, 'store'));
    expect(config!.bridges[0]!.port).toBe(join(dir, 'sim/bridge0'));
    expect(config!.board!.port).toBe('COM3');
    expect(config!.board!.baudRate).toBe(57600);
    expect(config!.board!.startButtons!.windowMs).toBe(500);
    expect(config!.board!.clamp!.closeTimeoutMs).toBe(3000);
    expect(config!.loading).toEqual({ blockSize: 255, logicalChannel: 0, pps: true, vcc: 'C', clockHz: 5_000_000, retry: { maxAttemptsPerChip: 2, timeoutFactor: 3 }, dialect: 'ifpp-project' });
    expect(config!.eidPolicy).toEqual({ verifyCheckDigits: true, unknownEid: 'fail', alreadyProvisioned: 'skip' });
    expect(config!.postChecks).toEqual({ verifyProfileListed: true, deleteUnusedOneTimeKeys: true, closeFpaServices: true });
    expect(config!.slots.every((s) => s.enabled)).toBe(true);
  });
});

describe('JSON locator', () => {
  it('parses what JSON.stringify writes, whatever the value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 2), (v, indent) => {
        const text = JSON.stringify(v, null, indent);
        expect(parseJsonWithPositions(text, { jsonc: false }).value).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('gives the line of keys and of list items', () => {
    const text = '{\n  "a": [\n    1,\n    { "b": 2,\n      "c": 3 }\n  ]\n}';
    const { positions } = parseJsonWithPositions(text, { jsonc: false });
    expect(positions.get('a')).toEqual({ line: 2, column: 3 });
    expect(positions.get('a[0]')!.line).toBe(3);
    expect(positions.get('a[1].b')!.line).toBe(4);
    expect(positions.get('a[1].c')!.line).toBe(5);
  });

  it('allows comments and trailing commas only in JSONC', () => {
    const text = '{ /* x */ "a": [1, 2,], // y\n "b": 1, }';
    expect(parseJsonWithPositions(text, { jsonc: true }).value).toEqual({ a: [1, 2], b: 1 });
    expect(() => parseJsonWithPositions('{ "a": [1, 2,] }', { jsonc: false })).toThrow(JsonSyntaxError);
    expect(() => parseJsonWithPositions('{ "a": 1 } x', { jsonc: true })).toThrow(/after the end/);
  });
});

describe('layout helpers', () => {
  const bridges = [
    { id: 'b0', slots: 3 },
    { id: 'b1', slots: 3 },
  ];

  it('gridSlots hands out channels, ids and pin blocks in layout order', () => {
    const slots = gridSlots({
      rows: 2,
      cols: 3,
      bridges,
      order: 'column-major',
      pins: { power: { first: 'A2', step: 2 }, presence: { first: 30, activeLow: true } },
      customize: (s, pos) => (pos.index === 5 ? { ...s, enabled: false } : s),
    });
    expect(slots.map((s) => `${s.id}@${s.bridge}.${s.channel}`)).toEqual(['A1@b0.0', 'B1@b0.1', 'A2@b0.2', 'B2@b1.0', 'A3@b1.1', 'B3@b1.2']);
    expect(slots[3]!.power).toBe('A8');
    expect(slots[3]!.presence).toEqual({ pin: 33, activeLow: true });
    expect(slots[5]!.enabled).toBe(false);
    expect(slots[0]!.reset).toBeUndefined();
  });

  it('gridSlots refuses a grid larger than the bridges', () => {
    expect(() => gridSlots({ rows: 3, cols: 3, bridges })).toThrow(ConfigError);
    expect(() => gridSlots({ rows: 3, cols: 3, bridges })).toThrow(/9 slots, but the bridges have only 6 channels/);
  });

  it('rowLetter counts like spreadsheet columns', () => {
    expect([1, 26, 27, 52, 53].map(rowLetter)).toEqual(['A', 'Z', 'AA', 'AZ', 'BA']);
  });

  it('a generated config validates, and its generated pins are checked like written ones', () => {
    const cfg = defineStation({ ...(jig() as any), bridges: [{ id: 'b0', port: 'p0', slots: 3 }, { id: 'b1', port: 'p1', slots: 3 }] });
    cfg.slots = gridSlots({ rows: 2, cols: 3, bridges, pins: { power: { first: 22 } } });
    expect(check(cfg)).toEqual([]);
    cfg.slots = gridSlots({ rows: 2, cols: 3, bridges, pins: { power: { first: 22 }, passLed: { first: 26 } } });
    expect(check(cfg).map((p) => p.path)).toEqual(['slots[4].power', 'slots[5].power']);
  });
});

describe('ifpp validate (CLI)', () => {
  const cli = (...args: string[]) =>
    run(process.execPath, [join(ROOT, 'bin/ifpp.js'), 'validate', ...args], { cwd: ROOT }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('exits 1 and names file, line and path of each problem', async () => {
    const rel = 'test/fixtures/bad-configs/duplicate-pin.json';
    const line = lineWith(join(ROOT, rel), '"passLed": 22');
    const r = await cli(rel);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${rel}:${line} slots[1].passLed: pin 22 is already used by slots[0].power (`);
    expect(r.stderr).toContain('1 problem');
  });

  it('exits 0 with a summary for a good config, and --json gives the same facts', async () => {
    const ok = await cli('fixtures-config/sim-jig-8.json');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('ok: 8 slots on 1 bridge, panel-jig');
    const bad = await cli('test/fixtures/bad-configs/syntax-error.json', '--json');
    expect(bad.code).toBe(1);
    const out = JSON.parse(bad.stdout) as { ok: boolean; problems: ConfigProblem[] };
    expect(out.ok).toBe(false);
    expect(out.problems[0]).toMatchObject({ line: lineWith(join(ROOT, 'test/fixtures/bad-configs/syntax-error.json'), '"journal": "journal"'), message: expect.stringContaining('CONFIG_SYNTAX') });
  });

  it("loads .mjs and .mts configs from outside the repo that import 'ifpp-station/config' by name", async () => {
    const dir = tmp(); // no node_modules anywhere above it: the running ifpp provides the package
    const body = (types: string) =>
      `import { defineStation, gridSlots } from 'ifpp-station/config';\nconst cfg${types} = ${JSON.stringify(jig())};\ncfg.slots = gridSlots({ rows: 1, cols: 2, bridges: cfg.bridges });\nexport default defineStation(cfg);\n`;
    writeFileSync(join(dir, 'station.mjs'), body(''));
    writeFileSync(join(dir, 'station.mts'), body(': any'));
    for (const f of ['station.mjs', 'station.mts']) {
      const r = await cli(join(dir, f));
      expect(r.stdout, r.stderr).toContain('ok: 2 slots on 1 bridge, panel-jig');
    }
  });
});
