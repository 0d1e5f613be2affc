/**
 * `ifpp probe <config> [--cards] [--json] [--timeout MS]`: is the hardware the config names
 * there and answering? Bridges (INFO, STATUS of every configured slot), the jig board
 * (firmware, every configured input read once), and with --cards the chips (read-only) and
 * whether the station could load each of them from its store.
 */
import { isIfppError } from '../../core/errors.ts';
import { requireConfig } from '../../station/config/load.ts';
import { formatProbeReport } from '../../station/probe/format.ts';
import { DEFAULT_JIG_QUERY_DELAY_MS, DEFAULT_PROBE_TIMEOUT_MS, probeStation } from '../../station/probe/probe.ts';
import { CliUsageError, parseOptions } from '../command.ts';

export const help = `Usage: ifpp probe <config> [--cards] [--json] [--timeout MS]

Checks that the hardware a station configuration names is there and answers, before a
production run: for a new jig, or at the repair bench.

  bridges    each port is opened with the station's bridge driver: INFO (line protocol,
             firmware, card channels, supply classes, Fi/Di list, clock range) checked against
             the config, then STATUS of every slot the config puts on it
  jig board  connected as the station does (Firmata): firmware, every configured pin checked
             against the board, every configured input read once (e-stop, guard, clamp
             sensor, start buttons, presence) and shown in words

Read-only: no jig output is driven (clamp, slot power, reset, lamps and buzzer stay as they
are), and no card is powered except with --cards (then only through the bridge's own card
supply). Run it while the station is stopped: a running station holds the ports.

Options:
  --cards        also read the chip in every enabled slot whose bridge sees a card: supply at
                 loading.vcc, cold reset, ATR and Fi/Di, then SELECT ISD-R, GetEID, EUICCInfo2
                 (trusted CI keys, free memory) and the one-time key states; the slot is
                 powered off after. Only these read-only requests can be sent: no one-time key
                 is used and nothing on the chip changes. Probe does not close the clamp or
                 switch DUT power: a chip reachable only that way is not seen.
                 Each chip is then checked against the station's store (config.store, opened
                 read-only) as a production run would: its EID in the imported eUICC data with
                 a valid CERT.EUICC chain, a BPP loadable with its unused keys, from a batch
                 whose CI the chip trusts. A chip the station could not load is a problem; an
                 empty store (nothing imported yet) is a note.
  --json         print the report as one JSON object { ok, bridges, jig?, problems, notes }
  --timeout MS   how long each device may take to answer (default ${DEFAULT_PROBE_TIMEOUT_MS}); the jig board
                 also gets its start-up wait (IFPP_JIG_QUERY_DELAY_MS, default ${DEFAULT_JIG_QUERY_DELAY_MS})

Exit status: 0 when everything the config names answered, 1 when any problem was found (or
the config cannot be used), 2 for a usage error.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { cards: { type: 'boolean' }, json: { type: 'boolean' }, timeout: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new CliUsageError(positionals.length === 0 ? 'name the station configuration to probe' : 'give exactly one configuration file');
  const timeoutMs = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= 600_000)) {
    throw new CliUsageError('--timeout must be a whole number of milliseconds, 1..600000');
  }
  const json = values.json === true;
  const path = positionals[0]!;

  let config;
  try {
    config = await requireConfig(path);
  } catch (e) {
    // --json callers get JSON for an unusable config too.
    if (!json || !isIfppError(e)) throw e;
    process.stdout.write(JSON.stringify({ ok: false, file: path, problems: [{ code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) }] }, null, 2) + '\n');
    return 1;
  }
  // As for `ifpp run`: a board known not to reset on open can be asked at once.
  const qd = Number(process.env.IFPP_JIG_QUERY_DELAY_MS);
  const report = await probeStation(config, {
    cards: values.cards === true,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(process.env.IFPP_JIG_QUERY_DELAY_MS && Number.isFinite(qd) && qd >= 0 ? { jigQueryDelayMs: qd } : {}),
  });
  process.stdout.write(json ? JSON.stringify(report, null, 2) + '\n' : formatProbeReport(report, { cwd: process.cwd() }));
  return report.ok ? 0 : 1;
}
