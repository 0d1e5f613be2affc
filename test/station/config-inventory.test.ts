import { describe, expect, it } from 'vitest';
import { validateStationConfig } from '../../src/station/config/validate.ts';

/** A small valid bench station, as an object, with an inventory section. */
function bench(inventory: unknown): Record<string, unknown> {
  return {
    name: 't',
    kind: 'socket-programmer',
    store: 'store',
    journal: 'journal',
    reports: 'reports',
    bridges: [{ id: 'b0', port: '/dev/ttyUSB0', slots: 1 }],
    slots: [{ id: 'A1', bridge: 'b0', channel: 0, row: 1, col: 1 }],
    ...(inventory === undefined ? {} : { inventory }),
  };
}

const check = (inv: unknown) => validateStationConfig(bench(inv), { file: 'x.json', dir: '/cfg' });

describe('config "inventory"', () => {
  it('is absent by default: the local store, as always', () => {
    const r = check(undefined);
    expect(r.problems).toEqual([]);
    expect(r.config!.inventory).toBeUndefined();
    expect(check({ kind: 'local' }).config!.inventory).toEqual({ kind: 'local' });
  });

  it('postgres: url and stationId required, lease and heartbeat defaulted', () => {
    expect(check({ kind: 'postgres', url: 'postgres://ifpp@db/line', stationId: 'st-1' }).config!.inventory).toEqual({
      kind: 'postgres',
      url: 'postgres://ifpp@db/line',
      stationId: 'st-1',
      leaseSeconds: 600,
      heartbeatSeconds: 15,
    });
    const missing = check({ kind: 'postgres' }).problems.map((p) => [p.path, p.message]);
    expect(missing).toEqual([
      ['inventory.url', 'missing required key "url"'],
      ['inventory.stationId', 'missing required key "stationId"'],
    ]);
  });

  it('names each bad value with a hint: kind, URL, password in the file, station id, lease vs heartbeat, keys of the other kind', () => {
    const one = (inv: unknown) => check(inv).problems.map((p) => `${p.path}: ${p.message} (${p.hint})`);
    expect(one({ kind: 'postgress' })[0]).toMatch(/^inventory.kind: the string "postgress" is not one of "local", "postgres" \(did you mean "postgres"\?\)/);
    expect(one({ kind: 'postgres', url: 'mysql://x', stationId: 's' })[0]).toMatch(/^inventory.url: .*PostgreSQL URL/);
    expect(one({ kind: 'postgres', url: 'postgres://ifpp:secret@db/line', stationId: 's' })[0]).toMatch(/holds a password.*PGPASSWORD/);
    expect(one({ kind: 'postgres', url: 'postgres://db/line', stationId: 'st 1' })[0]).toMatch(/^inventory.stationId: /);
    expect(one({ kind: 'postgres', url: 'postgres://db/line', stationId: 's', leaseSeconds: 60, heartbeatSeconds: 45 })[0]).toMatch(/cannot keep a 60 s lease fresh/);
    expect(one({ kind: 'local', stationId: 's' })[0]).toMatch(/^inventory.stationId: "stationId" applies only to "kind": "postgres"/);
    expect(one({ kind: 'postgres', url: 'postgres://db/line', stationId: 's', leasSeconds: 60 })[0]).toMatch(/unknown key "leasSeconds".*did you mean "leaseSeconds"/);
  });
});
