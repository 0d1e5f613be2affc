/**
 * `ifpp sim bridge`: the UART bridge simulator (src/sim/bridge/bridge-main.ts) in the
 * foreground, control commands on stdin.
 */
import { BRIDGE_USAGE, parseBridgeArgs } from '../../sim/bridge/bridge-process.ts';
import { moduleFile } from '../../sim/node-entry.ts';
import { runForeground } from '../../sim/world/foreground.ts';
import { InputError } from '../../core/errors.ts';
import { CliUsageError } from '../command.ts';

const MAIN = moduleFile('../../sim/bridge/bridge-main.ts', import.meta.url);

export const help = `${BRIDGE_USAGE.replace('bridge-main', 'ifpp sim bridge')}

Serves the bridge line protocol (hardware/PROTOCOL.md) on a new pseudo-terminal. Prints one
JSON ready line ({"event":"ready","path":…,"link":…}), then reads control commands on stdin,
one per line, each answered by one JSON line:

  insert <slot> [<json options>]   put a new card into a slot (options for the card module;
                                   for the eUICC card e.g. {"reel":"…","stateDir":"…","eid":"…"})
  remove <slot>                    pull the card
  fault <slot|-> <CODE>            raise a fault (OVERCURRENT, UNDERVOLTAGE, OVERHEAT)
  corrupt [n] | drop [n]           corrupt the next n lines / drop the next n responses
  disconnect | reconnect           unplug / replug (same --link path)
  status                           slot states
  quit                             stop (so do end of input, Ctrl+C, SIGTERM)

Simulated eUICCs: --card-module euicc --card-options
'{"reel":"var/sim/world/eum/reel.ndjson","stateDir":"var/sim/world/chips"}' (docs/simulators.md).`;

export async function run(args: string[]): Promise<number> {
  try {
    parseBridgeArgs(args); // usage errors here, before a process starts
  } catch (e) {
    if (e instanceof InputError) throw new CliUsageError(e.message);
    throw e;
  }
  return runForeground(MAIN, args);
}
