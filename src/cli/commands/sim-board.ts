/**
 * `ifpp sim board`: the virtual Firmata jig board (src/sim/jig/board-process.ts) in the
 * foreground, inputs scripted on stdin.
 */
import { parseFollow } from '../../sim/jig/board-process.ts';
import { moduleFile } from '../../sim/node-entry.ts';
import { runForeground } from '../../sim/world/foreground.ts';
import { CliUsageError, parseOptions } from '../command.ts';

const MAIN = moduleFile('../../sim/jig/board-process.ts', import.meta.url);

export const help = `Usage: ifpp sim board [--link PATH] [--digital N] [--analog N] [--firmware NAME]
                      [--follow OUT:IN:DELAY_MS[:invert]]...

A virtual jig I/O board speaking Firmata (StandardFirmata 2.5, Mega-like) on a new
pseudo-terminal: the station opens it with johnny-five as it would open /dev/ttyACM0.

  --link PATH        symlink to the pty
  --digital N        digital pins (default 54); --analog N analog pins after them (default 16);
                     at most 128 pins in all
  --firmware NAME    name in the firmware report (default StandardFirmata.ino)
  --follow O:I:MS    input I follows output O after MS ms (e.g. a clamp and its closed sensor;
                     ":invert" for the opposite level); repeatable

stdout, one JSON object per line: {"event":"ready","path","link","pins"} first, then output,
input, mode, reset and notice events. stdin, one JSON object per line:

  {"set": PIN, "value": 0|1|null}      drive an input (null: let it float to its pull-up)
  {"analog": CHANNEL, "value": 0..1023}
  {"follow": {"output","input","delayMs","invert"?}}
  {"snapshot": true}                   every pin's state
  {"powerCycle": true}
  {"close": true}                      unplug and exit (so does end of input, Ctrl+C, SIGTERM)`;

export async function run(args: string[]): Promise<number> {
  // Check the options here, so mistakes get the usage instead of a stack trace from the child.
  const { values } = parseOptions(args, {
    link: { type: 'string' },
    digital: { type: 'string' },
    analog: { type: 'string' },
    firmware: { type: 'string' },
    follow: { type: 'string', multiple: true },
  });
  for (const k of ['digital', 'analog'] as const) {
    const v = values[k];
    if (v !== undefined && !/^\d+$/.test(v)) throw new CliUsageError(`--${k} must be a whole number, got "${v}"`);
  }
  for (const f of values.follow ?? []) parseFollow(f);
  return runForeground(MAIN, args);
}
