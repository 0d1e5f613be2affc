/**
 * `ifpp sim world`: builds a whole simulated factory world (PKI, chips, reel, eUICC data, a
 * BPP batch and a station config wired to simulated bridges and the virtual jig board).
 */
import { relative } from 'node:path';
import { parseCurveName } from '../../core/crypto/curves.ts';
import { progressPrinter } from '../../sim/eum/progress.ts';
import { buildWorld } from '../../sim/world/build-world.ts';
import type { WorldKind } from '../../sim/world/world-files.ts';
import { CliUsageError, parseOptions } from '../command.ts';
import { invokedAs } from '../invoked-as.ts';
import { importCommands, importWorld } from '../world-import.ts';
import { requireConfig } from '../../station/config/load.ts';

export const help = `Usage: ifpp sim world --out DIR [--slots N] [--units U] [--kind panel-jig|socket-programmer]
                      [--curve nist|brp] [--profile synthetic[:BYTES]|FILE] [--spares K]
                      [--card-ms X] [--time-scale S] [--name S] [--import] [--force]

Makes everything a station demo needs in DIR, with no hardware:

  station.json   station config: N slots on ceil(N/16) simulated bridges (dev/bridge0..) and
                 the virtual jig board (dev/jig); store, journal, reports under station/
  eum/           U chips: public eUICC data, the reel (chip secrets), test PKI, SM-DPf identity
  batch/         Esbpp batch: 1+K BPPs per chip (spares for retries after a burnt key)
  chips/         chip state at run time (chips remember burnt keys and profiles)
  world.json     what was made

The station's store starts empty (ifpp run refuses to start on it): import the world's eUICC
data and batch with the two commands it prints at the end, or with --import. Then
\`ifpp sim up --world DIR\` starts the bridges, the board and an automatic operator, and
\`ifpp run --config DIR/station.json\` runs the station on them.

  --slots N          slots (default 8; a socket programmer has at most 40)
  --units U          chips on the reel (default 8 x slots)
  --kind K           panel-jig (default) or socket-programmer
  --curve C          nist (default) or brp
  --profile P        synthetic[:BYTES] or a SAIP DER file (default: a TS.48 test profile
                     from ../shared when present, else synthetic, about 12 kB)
  --spares K         spare one-time keys and BPPs per chip (default 1)
  --card-ms X        the chip's own time for one profile load, ms (default: the card model's,
                     about 1000 ms for 12 kB)
  --time-scale S     0 = cards answer at once, 1 = real time (default 1)
  --import           import the eUICC data and the batch into the station's store at once
  --force            replace a world already in DIR (its chips, batch, store and journal go)

Details: docs/sim-tools.md.`;

function num(v: string | undefined, name: string, whole: boolean): number | undefined {
  if (v === undefined) return undefined;
  const ok = whole ? /^\d+$/.test(v) : /^\d+(\.\d+)?$/.test(v);
  if (!ok) throw new CliUsageError(`--${name} must be ${whole ? 'a whole number' : 'a number'}, got "${v}"`);
  return Number(v);
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    out: { type: 'string' },
    slots: { type: 'string' },
    units: { type: 'string' },
    kind: { type: 'string' },
    curve: { type: 'string' },
    profile: { type: 'string' },
    spares: { type: 'string' },
    'card-ms': { type: 'string' },
    'time-scale': { type: 'string' },
    name: { type: 'string' },
    import: { type: 'boolean' },
    force: { type: 'boolean' },
  });
  if (!values.out) throw new CliUsageError('--out is required');
  const kind = values.kind ?? 'panel-jig';
  if (kind !== 'panel-jig' && kind !== 'socket-programmer') throw new CliUsageError(`--kind must be panel-jig or socket-programmer, got "${kind}"`);
  const slots = num(values.slots, 'slots', true) ?? 8;
  const units = num(values.units, 'units', true) ?? 8 * slots;
  const spares = num(values.spares, 'spares', true);
  const cardMs = num(values['card-ms'], 'card-ms', false);
  const timeScale = num(values['time-scale'], 'time-scale', false);

  const progress = { chips: progressPrinter('chips'), BPPs: progressPrinter('BPPs') };
  const b = await buildWorld({
    out: values.out,
    slots,
    units,
    kind: kind as WorldKind,
    curve: parseCurveName(values.curve ?? 'nist'),
    force: values.force ?? false,
    ...(values.profile !== undefined ? { profile: values.profile } : {}),
    ...(spares !== undefined ? { spares } : {}),
    ...(cardMs !== undefined ? { cardMs } : {}),
    ...(timeScale !== undefined ? { timeScale } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    onProgress: (what, d, t) => progress[what].update(d, t),
  });
  progress.chips.end();
  progress.BPPs.end();

  const w = b.world;
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  const say = (s: string) => process.stdout.write(s + '\n');
  const dir = rel(b.dir);
  say(`made a simulated ${w.slots}-slot ${w.kind} world in ${dir}/ (${(b.elapsedMs / 1000).toFixed(1)} s)`);
  say(`  chips         ${w.units} (${w.curve}), ${w.spares + 1} one-time keys each, EIDs ${w.eids.first} .. ${w.eids.last}   (${(w.eum.ms / 1000).toFixed(1)} s)`);
  say(`  batch         ${w.batch.count} BPPs of ${w.profile.source} (${w.batch.avgBppBytes} bytes each) bound in ${(w.batch.bindMs / 1000).toFixed(1)} s (${w.batch.bppsPerSecond} BPPs/s)`);
  say(`  station       ${dir}/${w.files.station}: ${w.devices.bridges.length} bridge(s), board ${w.devices.board.model} (${w.devices.board.digitalPins + w.devices.board.analogPins} pins), per-slot pins: ${w.slotPins.join(', ') || 'none'}`);
  say(`  devices       ${[w.devices.board.link, ...w.devices.bridges.map((x) => x.link)].map((l) => `${dir}/${l}`).join(' ')}   (while \`ifpp sim up\` runs)`);
  say(`  timing        card ${w.cardMs} ms per load (model ${w.cardModelMs} ms), time scale ${w.timeScale}`);
  const ifpp = invokedAs();
  if (values.import) {
    for (const line of await importWorld(b.dir, w, await requireConfig(b.stationFile))) say(`  ${line}`);
  } else {
    say(`import its data into the station's store (or make it with --import):`);
    for (const c of importCommands(ifpp, dir, w)) say(`  ${c}`);
  }
  say(`next: ${ifpp} sim up --world ${dir}     then: ${ifpp} run --config ${dir}/${w.files.station}`);
  return 0;
}
