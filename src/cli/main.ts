/**
 * `ifpp` command line. Commands load lazily so that station commands never pull simulator
 * or decryption modules into their import graph (GENS09/GENS10).
 */
import { isIfppError } from '../core/errors.ts';
import { CliUsageError, type CommandSpec } from './command.ts';

const commands: CommandSpec[] = [
  // Station commands
  { name: 'run', summary: 'Run the station (terminal UI by default; --headless for logs)', load: () => import('./commands/run.ts') },
  { name: 'probe', summary: 'Check that the bridges, slots and jig board a config names are there and answer (--cards: read the chips)', load: () => import('./commands/probe.ts') },
  { name: 'validate', summary: 'Check a station configuration (fixtures-config/*) and list every problem with its place', load: () => import('./commands/validate.ts') },
  { name: 'euicc import', summary: "Import an EUM's eUICC data (CERT.EUICC per EID) into the station store", load: () => import('./commands/euicc-import.ts') },
  { name: 'bpp import', summary: 'Import Esbpp batches into the station BPP store (hashes, chain and signatures checked)', load: () => import('./commands/bpp-import.ts') },
  { name: 'bpp list', summary: 'Batches in the store with counts per state, or the BPPs of one EID', load: () => import('./commands/bpp-list.ts') },
  { name: 'bpp inspect', summary: 'Inspect a Bound Profile Package and check its SM-DPf signature and chain (no decryption)', load: () => import('./commands/bpp-inspect.ts') },
  { name: 'bench', summary: 'Repair bench: one chip in a PC/SC reader (info, profiles, notifications, finish, trace)', load: () => import('./commands/bench.ts') },
  { name: 'slots', summary: 'Per-slot yield, failure codes, contact cycles and service state (from the journal)', load: () => import('./commands/slots.ts') },
  { name: 'slots reset-cycles', summary: "Reset a slot's contact-cycle counter after servicing it (records who/when; brings it back into service)", load: () => import('./commands/slots-reset-cycles.ts') },
  { name: 'history', summary: 'Every load attempt for one chip (EID) across the journals, and its BPPs in the store', load: () => import('./commands/history.ts') },
  { name: 'report', summary: 'Write the Profile Loading Reports (per batch) and the per-unit traceability CSV from the journal', load: () => import('./commands/report.ts') },
  // Line commands (several stations, one inventory in PostgreSQL: docs/line-guide.md)
  { name: 'line init', summary: 'Create or update the line database schema (versioned, idempotent migrations)', load: () => import('./commands/line-init.ts') },
  { name: 'line import', summary: 'Import Esbpp batches into the line inventory (same checks as bpp import)', load: () => import('./commands/line-import.ts') },
  { name: 'line euicc import', summary: "Import an EUM's eUICC data into the line database (same checks as euicc import)", load: () => import('./commands/line-euicc-import.ts') },
  { name: 'line assign', summary: "Pre-assign chips' BPPs to a station for offline work (--reel or --eids)", load: () => import('./commands/line-assign.ts') },
  { name: 'line status', summary: 'Stations, heartbeats, in-flight BPPs and leases, stock per batch, outbox lag', load: () => import('./commands/line-status.ts') },
  { name: 'line release', summary: 'Audited manual release of an in-flight BPP (--bpp BATCH#POS --reason TEXT)', load: () => import('./commands/line-release.ts') },
  { name: 'line report', summary: 'Profile Loading Reports per batch and the unit CSV across all stations of the line', load: () => import('./commands/line-report.ts') },
  // Simulated factory (test and demo infrastructure; the station never imports it)
  { name: 'sim station', summary: 'Simulated 8-slot jig end to end: world, simulated hardware and the real station (npm start)', simulator: true, load: () => import('./commands/sim-station.ts') },
  { name: 'sim line', summary: 'Simulated line: N real stations (processes) on one PostgreSQL inventory, fed from one reel; failed chips move between stations', simulator: true, load: () => import('./commands/sim-line.ts') },
  { name: 'sim world', summary: 'Simulated world: chips, reel, BPP batch and a station config wired to simulated bridges and jig board', simulator: true, load: () => import('./commands/sim-world.ts') },
  { name: 'sim up', summary: 'Run a simulated world: bridges, jig board and an automatic operator, until Ctrl+C', simulator: true, load: () => import('./commands/sim-up.ts') },
  { name: 'sim eum', summary: 'Simulated EUM: test PKI and N chips; writes eUICC data (Esed2), the reel and the SM-DPf identity', simulator: true, load: () => import('./commands/sim-eum.ts') },
  { name: 'sim smdpf bind', summary: 'Simulated SM-DPf: bind a profile to the chips of an eUICC data file; writes an Esbpp batch', simulator: true, load: () => import('./commands/sim-smdpf.ts') },
  { name: 'sim bind', summary: 'Simulated SM-DPf: bind a profile package (UPP) to an eUICC one-time key', simulator: true, load: () => import('./commands/sim-bind.ts') },
  { name: 'sim unbind', summary: 'Simulated eUICC: verify, decrypt and unpack a BPP with a one-time private key', simulator: true, load: () => import('./commands/sim-unbind.ts') },
  { name: 'sim bridge', summary: 'Simulated UART bridge on a pty (cards from a card module; control commands on stdin)', simulator: true, load: () => import('./commands/sim-bridge.ts') },
  { name: 'sim vpcd', summary: 'Serve one simulated eUICC of a world to pcscd through the vsmartcard virtual reader (vpcd)', simulator: true, load: () => import('./commands/sim-vpcd.ts') },
  { name: 'sim board', summary: 'Virtual Firmata jig board on a pty (inputs scripted with JSON lines on stdin)', simulator: true, load: () => import('./commands/sim-board.ts') },
  { name: 'demo', summary: 'Bind a sample profile with test keys and inspect the result', simulator: true, load: () => import('./commands/demo.ts') },
];

function usage(): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    'ifpp — in-factory eSIM profile provisioning station (GSMA SGP.41)',
    '',
    'Usage: ifpp <command> [options]     (ifpp <command> --help for its options)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(usage());
    return argv.length === 0 ? 2 : 0;
  }
  // Longest command name that prefixes the arguments wins ("bpp inspect" over "bpp").
  const match = commands
    .filter((c) => {
      const words = c.name.split(' ');
      return words.every((w, i) => argv[i] === w);
    })
    .sort((a, b) => b.name.length - a.name.length)[0];
  if (!match) {
    process.stderr.write(`ifpp: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${usage()}`);
    return 2;
  }
  const rest = argv.slice(match.name.split(' ').length);
  const mod = await match.load();
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(mod.help + '\n');
      return 0;
    }
    return await mod.run(rest);
  } catch (e) {
    if (e instanceof CliUsageError) {
      process.stderr.write(`ifpp ${match.name}: ${e.message}\n\n${mod.help}\n`);
      return 2;
    }
    if (isIfppError(e)) {
      process.stderr.write(`ifpp ${match.name}: ${e.describe()}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
