import { requireConfig } from '../../station/config/load.ts';
import { DEFAULTS } from '../../station/config/schema.ts';
import { describeRun, earlyStopNotice, runStation } from '../run-station.ts';
import { StopSignals } from '../stop-signals.ts';
import { runExitCode } from '../exit-codes.ts';
import { CliUsageError, parseOptions } from '../command.ts';

export const help = `Usage: ifpp run --config F [--headless] [--units N] [--events FILE|-] [--metrics PORT] [--summary-every S]
                [--allow-empty]

Runs the station described by the config: connects the bridges and the jig board, settles
anything a previous run left in flight (from the journal; chips still in their sockets are
asked for their signed results), then loads units until stopped. A store with no eUICC data or
no loadable BPP is refused (NOTHING_TO_LOAD, with the import commands) before any device opens.

  --config F     station configuration (fixtures-config/*, checked as by ifpp validate)
  --headless     no terminal UI: a plain log on stderr (automatic when not on a terminal)
  --units N      stop after N units (any outcome)
  --events F|-   also write every event as NDJSON to F (or stdout) for MES integration
  --metrics PORT serve Prometheus metrics on http://127.0.0.1:PORT/metrics (localhost only)
  --summary-every S  a station.summary event every S seconds (default: the config's
                 metrics.summaryEverySeconds, 60; 0 = only the final one)
  --allow-empty  start even with nothing to load (every chip then ends as no-bpp)

Ctrl+C (or q in the UI) stops after the units in flight; a second Ctrl+C (or Q) aborts them.
Ctrl+C or SIGTERM during start-up stops the station as soon as the step under way ends,
before any unit starts (exit 0).

Exit codes: 0 stopped as asked, every unit settled · 1 error (config, device, store) ·
2 bad usage · 3 stopped with units interrupted (run those chips again) · 4 the terminal UI
failed (the station stopped as on a forced quit).`;

export async function run(args: string[]): Promise<number> {
  // Ctrl+C / SIGTERM from the first moment: a stop during start-up is clean (exit 0), never a signal exit.
  const stops = new StopSignals(earlyStopNotice);
  try {
    return await runCommand(args, stops);
  } finally {
    stops.dispose();
  }
}

async function runCommand(args: string[], stops: StopSignals): Promise<number> {
  const { values } = parseOptions(args, {
    config: { type: 'string' },
    headless: { type: 'boolean' },
    units: { type: 'string' },
    events: { type: 'string' },
    metrics: { type: 'string' },
    'summary-every': { type: 'string' },
    'allow-empty': { type: 'boolean' },
  });
  if (!values.config) throw new CliUsageError('--config is required');
  const units = values.units !== undefined ? Number(values.units) : undefined;
  if (units !== undefined && (!Number.isInteger(units) || units < 1)) throw new CliUsageError('--units must be a positive whole number');
  const metricsPort = values.metrics !== undefined ? Number(values.metrics) : undefined;
  if (metricsPort !== undefined && (!Number.isInteger(metricsPort) || metricsPort < 1 || metricsPort > 65535)) throw new CliUsageError('--metrics must be a port number, 1..65535');
  const every = values['summary-every'] !== undefined ? Number(values['summary-every']) : undefined;
  if (every !== undefined && (!Number.isFinite(every) || every < 0 || every > 86_400)) throw new CliUsageError('--summary-every must be a number of seconds, 0..86400');
  const loaded = await requireConfig(values.config);
  const config = every === undefined ? loaded : { ...loaded, metrics: { ...(loaded.metrics ?? DEFAULTS.metrics), summaryEverySeconds: every } };
  // Boards with auto-reset need ~2.5 s before Firmata answers; jig boards without it (and the
  // simulated one) can be asked at once: IFPP_JIG_QUERY_DELAY_MS shortens the wait.
  const qd = Number(process.env.IFPP_JIG_QUERY_DELAY_MS);
  const summary = await runStation(config, {
    stops,
    ...(Number.isFinite(qd) && qd >= 0 ? { open: { jigOptions: { connect: { queryDelayMs: qd } } } } : {}),
    ...(values.headless ? { headless: true } : {}),
    ...(values['allow-empty'] ? { allowEmpty: true } : {}),
    ...(units !== undefined ? { units } : {}),
    ...(values.events ? { events: values.events } : {}),
    ...(metricsPort !== undefined ? { metricsPort, onMetrics: (port: number) => process.stderr.write(`metrics: http://127.0.0.1:${port}/metrics\n`) } : {}),
  });
  process.stderr.write(describeRun(summary, config.source.file));
  return runExitCode(summary, summary.uiError !== undefined);
}
