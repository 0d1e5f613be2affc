/**
 * `ifpp slots reset-cycles --config F --slot ID [--by NAME] [--note TEXT]`: after the contacts
 * of a slot were serviced, sets its cycle counter back to 0, recording who and when. A running
 * station picks it up within seconds (the slot comes back into service) and journals it; a
 * stopped one journals it when it next starts.
 */
import { userInfo } from 'node:os';
import { CliUsageError, parseOptions } from '../command.ts';
import { IfppError } from '../../core/errors.ts';
import { requireConfig } from '../../station/config/load.ts';
import { closest } from '../../station/config/suggest.ts';
import { WearLedger, wearPath } from '../../station/metrics/wear-ledger.ts';
import { slotWear } from '../../station/metrics/wear-policy.ts';

export const help = `Usage: ifpp slots reset-cycles --config <file> --slot <id> [--by <name>] [--note <text>]

Sets the contact-cycle counter of one slot back to 0 after its pogo pins or socket were
serviced or replaced, and records who did it and when (the station journals it as
"slot.cycles-reset"). A slot taken out of service at its cycle limit comes back into service:
at once on a running station (within 2 s), else at the next start.

Options:
  --config <file>  the station configuration
  --slot <id>      the slot, as the configuration names it
  --by <name>      who serviced it (default: the login name, ${safeUser()})
  --note <text>    what was done, e.g. "pogo block replaced"`;

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { config: { type: 'string' }, slot: { type: 'string' }, by: { type: 'string' }, note: { type: 'string' } });
  if (positionals.length) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.config) throw new CliUsageError('name the station configuration with --config <file>');
  if (!values.slot) throw new CliUsageError('name the slot with --slot <id>');
  const by = (values.by ?? safeUser()).trim();
  if (!by) throw new CliUsageError('--by must name someone');
  const config = await requireConfig(values.config);
  const slot = config.slots.find((s) => s.id === values.slot);
  if (!slot) {
    const ids = config.slots.map((s) => s.id);
    const guess = closest(values.slot, new Set(ids));
    throw new IfppError('SLOT_UNKNOWN', `no slot "${values.slot}" in ${values.config}`, { hint: guess ? `did you mean "${guess}"?` : `slots: ${ids.join(', ')}` });
  }
  const ledger = WearLedger.open(wearPath(config));
  const before = slotWear(config, slot, ledger.cycles(slot.id));
  const r = ledger.reset(slot.id, by, values.note);
  process.stdout.write(
    `slot ${slot.id}: cycle counter reset from ${r.cycles} to 0 (limit ${before.limit}, ${before.socket}) by ${r.by} at ${r.at}` +
      `${before.status === 'out-of-service' ? '; the slot is back in service' : ''}\n` +
      `recorded in ${ledger.path}; the station journals it (at once if it is running, else when it next starts)\n`,
  );
  return 0;
}
