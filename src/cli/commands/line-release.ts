import { userInfo } from 'node:os';
import { parseBppRef, releaseBpp } from '../../line/release.ts';
import { BPP_STATE_NAMES } from '../../station/store/bpp-store.ts';
import { CliUsageError, parseOptions } from '../command.ts';
import { DB_HELP, DB_OPTION, withLineDb } from '../line-db.ts';

export const help = `Usage: ifpp line release --db URL --bpp BATCH#POSITION --reason TEXT [--retire] [--actor NAME]

Takes an in-flight BPP out of its station's claim, for a station that will not settle it
itself (its disk is lost, it is gone for good). Only do this once you know the BPP cannot have
been pushed into a chip: check the chip's key state on a repair bench first. Written to the
audit table with the reason, who and the previous claim. Refuses a BPP that is not in flight.
An expired lease never does this by itself (docs/line-guide.md, "Leases").

Options:
${DB_HELP}
  --bpp BATCH#POSITION  the BPP, as ifpp line status lists it
  --reason TEXT         why it cannot have been pushed (required)
  --retire              mark it spent (failed, key burnt) instead of loadable: the safe
                        choice when unsure
  --actor NAME          who releases (default: the login name)`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { ...DB_OPTION, bpp: { type: 'string' }, reason: { type: 'string' }, retire: { type: 'boolean' }, actor: { type: 'string' } }, true);
  if (positionals.length) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.bpp) throw new CliUsageError('name the BPP with --bpp BATCH#POSITION');
  if (values.reason === undefined) throw new CliUsageError('say why with --reason TEXT (it goes to the audit table)');
  const ref = parseBppRef(values.bpp);
  const r = await withLineDb(values.db, (db, url) =>
    releaseBpp(db, url, ref, { reason: values.reason!, actor: values.actor ?? userInfo().username, retire: values.retire === true }),
  );
  process.stdout.write(
    `BPP ${r.batchId}#${r.position}: released from station ${r.previous.station ?? '-'} (unit ${r.previous.unit ?? '-'}), now ${BPP_STATE_NAMES[r.state]}; audited\n`,
  );
  return 0;
}
