/**
 * `ifpp sim up`: runs a simulated world in the foreground (bridges, jig board, automatic
 * operator) until Ctrl+C or SIGTERM, then takes it down cleanly.
 */
import { relative } from 'node:path';
import { startWorld, type OperatorSettings } from '../../sim/world/run-world.ts';
import { CliUsageError, parseOptions } from '../command.ts';

export const help = `Usage: ifpp sim up --world DIR [--time-scale S] [--no-operator] [--from-start]
                   [--handling-ms MS] [--seed N] [--fault-remove RATE] [--fault-mute RATE] [--quiet]

Starts the simulated hardware of a world made by \`ifpp sim world\`: one UART bridge process per
bridge (simulated eUICCs from the world's reel in the slots), the virtual jig board, and an
automatic operator that feeds the reel into the jig. Device links appear in DIR/dev/ (the paths
DIR/station.json names) and go away on exit. Stop with Ctrl+C or SIGTERM.

  --world DIR          the world folder (or its station.json)
  --time-scale S       0 = at once, 1 = real time (default: the world's)
  --no-operator        only load the first panel; press nothing, swap nothing
  --from-start         feed from the reel's first chip again (default: where the last run stopped)
  --handling-ms MS     time to swap a panel or a DUT at time scale 1 (default 300)
  --seed N             seed for the fault decisions (default: random)
  --fault-remove RATE  share of units whose card is pulled and re-seated mid-load (e.g. 0.01)
  --fault-mute RATE    share of units whose chip hangs after BF23, burning a key (e.g. 0.005)
  --quiet              print only the device paths and problems

Operator: panel jig = load a panel, press both start buttons, wait for the clamp to close and
open again, swap the panel; socket programmer = swap a socket's DUT when its pass or fail lamp
lights. Details: docs/sim-tools.md.`;

function rate(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!/^\d*\.?\d+$/.test(v) || !(x >= 0 && x <= 1)) throw new CliUsageError(`--${name} must be a share between 0 and 1, got "${v}"`);
  return x;
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    world: { type: 'string' },
    'time-scale': { type: 'string' },
    'no-operator': { type: 'boolean' },
    'from-start': { type: 'boolean' },
    'handling-ms': { type: 'string' },
    seed: { type: 'string' },
    'fault-remove': { type: 'string' },
    'fault-mute': { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (!values.world) throw new CliUsageError('--world is required');
  const num = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(v)) throw new CliUsageError(`--${name} must be a number >= 0, got "${v}"`);
    return Number(v);
  };
  const timeScale = num(values['time-scale'], 'time-scale');
  const handlingMs = num(values['handling-ms'], 'handling-ms');
  const seed = num(values.seed, 'seed');
  const removeMidLoad = rate(values['fault-remove'], 'fault-remove');
  const muteCard = rate(values['fault-mute'], 'fault-mute');
  const settings: OperatorSettings = {
    ...(handlingMs !== undefined ? { handlingMs } : {}),
    ...(seed !== undefined ? { seed: Math.floor(seed) } : {}),
    ...(removeMidLoad !== undefined || muteCard !== undefined
      ? { faults: { ...(removeMidLoad !== undefined ? { removeMidLoad } : {}), ...(muteCard !== undefined ? { muteCard } : {}) } }
      : {}),
  };

  const say = (s: string) => process.stdout.write(s + '\n');
  const quiet = values.quiet ?? false;
  const t0 = performance.now();
  const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s]`;
  const h = await startWorld(values.world, {
    operator: values['no-operator'] ? false : settings,
    fromStart: values['from-start'] ?? false,
    ...(timeScale !== undefined ? { timeScale } : {}),
  });
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  const w = h.world;
  say(`simulated ${w.slots}-slot ${w.kind} is up (time scale ${h.timeScale}; ${w.units} chips on the reel)`);
  say(`  jig board     ${rel(h.board.link)} -> ${h.board.ready.path}`);
  for (const b of h.bridges) say(`  bridge ${b.id.padEnd(6)} ${rel(b.link)} -> ${b.path} (${b.slots} slots)`);
  say(`  station file  ${rel(h.stationFile)}`);
  say(`run the station: ifpp run --config ${rel(h.stationFile)}     (Ctrl+C here stops the world)`);

  const op = h.operator;
  if (op) {
    if (op.next >= w.units && op.unitsFed === 0) say(`reel exhausted: all ${w.units} chips were fed in earlier runs (use --from-start, or rebuild the world)`);
    op.on('problem', (t) => say(`${stamp()} problem: ${t}`));
    op.on('fault', (kind, slot, eid) => say(`${stamp()} fault ${kind} on ${slot} (${eid})`));
    if (!quiet) {
      op.on('log', (t) => say(`${stamp()} ${t}`));
      op.on('cycle', (phase, n) => say(`${stamp()} panel ${n}: cycle ${phase === 'start' ? 'started (clamp closed)' : 'ended (clamp open)'}`));
    }
  }
  // Ctrl+C reaches the child processes too (one process group): their exits are expected then.
  let stopping = false;
  h.on('exit', (what, code) => stopping || say(`${stamp()} ${what} exited (${code ?? 'signal'}); the world is incomplete, stop it with Ctrl+C`));

  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      stopping = true;
      say(`${sig}: stopping the world`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await h.close();
  say('stopped');
  return 0;
}
