/**
 * Composition of a running station for the CLI: the station itself, the terminal UI or the
 * plain/NDJSON logs, and signal handling. Station code never imports this (nor the UI).
 */
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { IfppError, isIfppError } from '../core/errors.ts';
import { invokedAs } from './invoked-as.ts';
import type { StationConfig } from '../station/config/schema.ts';
import { EventBus } from '../station/events.ts';
import { attachEventLog } from '../station/event-log.ts';
import { Station, type RunSummary, type StationOpenOptions } from '../station/orchestrator/station.ts';
import { StopSignals, type StopSignalName } from './stop-signals.ts';

export interface RunStationOptions {
  headless?: boolean;
  units?: number;
  /** NDJSON event log: a file path, or "-" for stdout (implies headless). */
  events?: string;
  open?: Omit<StationOpenOptions, 'bus'>;
  /** Serve Prometheus metrics on 127.0.0.1 at this port (0: any free port). */
  metricsPort?: number;
  /** Told the port once the metrics endpoint listens. */
  onMetrics?: (port: number) => void;
  /**
   * Start even when the store has no eUICC data or no loadable BPP (`ifpp run --allow-empty`);
   * otherwise the run refuses with NOTHING_TO_LOAD before opening any device.
   */
  allowEmpty?: boolean;
  /**
   * Signals caught since the command started (so a stop during its own start-up counts);
   * default: caught from here on. Disposed by the caller that made it.
   */
  stops?: StopSignals;
  /** Called once the station is open (e.g. the simulator's operator starts feeding units). */
  onOpen?: (station: Station) => void | Promise<void>;
}

export interface StationRunResult extends RunSummary {
  /** The terminal UI threw while rendering; the station was stopped as on a forced quit. */
  uiError?: Error;
}

export async function runStation(config: StationConfig, opts: RunStationOptions = {}): Promise<StationRunResult> {
  const stops = opts.stops ?? new StopSignals(earlyStopNotice);
  try {
    return await runStationWith(config, opts, stops);
  } finally {
    if (!opts.stops) stops.dispose();
  }
}

/** Said when a stop is asked for before the station is open. */
export function earlyStopNotice(sig: StopSignalName): void {
  process.stderr.write(`${sig}: stopping as soon as start-up ends (no unit will be started)\n`);
}

/** The summary of a run stopped by a signal during start-up: nothing was loaded. */
function stoppedAtStart(sig: StopSignalName): StationRunResult {
  return { units: 0, byOutcome: {}, reason: `${sig} during start-up` };
}

async function runStationWith(config: StationConfig, opts: RunStationOptions, stops: StopSignals): Promise<StationRunResult> {
  if (stops.requested) return stoppedAtStart(stops.requested);
  const bus = new EventBus();
  const eventsToStdout = opts.events === '-';
  // React's development build costs ~3x the CPU per frame; the station always runs production.
  process.env.NODE_ENV ??= 'production';
  const { shouldUseTui } = await import('../ui/render.ts');
  const tui = shouldUseTui(process.stdout, process.env, { headless: opts.headless === true || eventsToStdout, stdin: process.stdin });
  // What this run creates: if the station cannot start, these go again (no empty store,
  // journal or event log left behind by a run that never ran).
  const fresh = [config.store, config.journal, ...(opts.events && !eventsToStdout ? [resolve(opts.events)] : [])].filter((p) => !existsSync(p));
  const log = opts.events ? attachEventLog(bus, opts.events) : undefined;
  let detachPlain: (() => void) | undefined;
  if (!tui && !eventsToStdout) {
    const { attachPlainLog } = await import('../ui/plain-log.ts');
    detachPlain = attachPlainLog(bus, process.stderr);
  }
  let metrics: { port: number; close(): Promise<void> } | undefined;
  if (opts.metricsPort !== undefined) {
    const { serveMetrics } = await import('../station/metrics/prometheus.ts');
    metrics = await serveMetrics(bus, opts.metricsPort);
    opts.onMetrics?.(metrics.port);
  }
  const station = await Station.open(config, { ...opts.open, bus, requireStock: opts.allowEmpty !== true }).catch(async (e: unknown) => {
    await metrics?.close();
    await log?.close();
    detachPlain?.();
    for (const p of fresh) rmSync(p, { recursive: true, force: true });
    throw withProbeHint(e, config);
  });
  // A stop asked for during start-up: the station closes again before any unit starts.
  if (stops.requested) {
    await station.close();
    detachPlain?.();
    await log?.close();
    await metrics?.close();
    return stoppedAtStart(stops.requested);
  }
  let ui: { unmount(): void } | undefined;
  let uiError: Error | undefined;
  if (tui) {
    const { renderStationUi } = await import('../ui/render.ts');
    const handle = renderStationUi({ bus, controls: station.controls });
    ui = handle;
    // A UI that threw no longer reads keys nor shows anything: stop as on a forced quit (no
    // new unit, units in flight aborted and journaled) instead of loading on behind it.
    handle.waitUntilExit().catch((e: unknown) => {
      uiError = e instanceof Error ? e : new Error(String(e));
      station.quit(true);
    });
  }
  // First Ctrl+C / SIGTERM: finish the units in flight, start no more. Second: abort them.
  stops.handle((sig, count) => {
    if (count === 1) station.requestStop(`${sig}: finishing the units in flight (again to abort them)`);
    else station.quit(true);
  });
  try {
    await opts.onOpen?.(station);
    const summary = await station.run(opts.units !== undefined ? { units: opts.units } : {});
    return uiError ? { ...summary, uiError } : summary;
  } finally {
    await station.close();
    ui?.unmount();
    detachPlain?.();
    await log?.close();
    await metrics?.close();
  }
}

/**
 * The closing lines of a run: what stopped it, the counts, a UI failure if there was one, and
 * the command that writes its reports, named as the user invoked ifpp (`ifpp` after a global
 * install, `npx ifpp`, or `node bin/ifpp.js` in a checkout).
 */
export function describeRun(result: StationRunResult, configFile: string): string {
  const parts = Object.entries(result.byOutcome).map(([k, v]) => `${v} ${k}`);
  const lines = [`station stopped (${result.reason}): ${result.units} units${parts.length ? ': ' + parts.join(', ') : ''}`];
  if (result.uiError) {
    lines.push(`the terminal UI failed: ${result.uiError.message}`);
    lines.push('  the station stopped as on a forced quit (units in flight aborted and journaled); --headless runs without the UI');
  }
  const unsettled = (result.byOutcome['interrupted'] ?? 0) + (result.byOutcome['unknown'] ?? 0);
  if (unsettled > 0) lines.push(`${unsettled} unit${unsettled === 1 ? ' was' : 's were'} interrupted: run ${unsettled === 1 ? 'that chip' : 'those chips'} again`);
  lines.push(`reports: ${invokedAs()} report --config ${configFile}`);
  return lines.join('\n') + '\n';
}

/** A device that is missing or silent at start-up: point at the command that checks them all. */
function withProbeHint(e: unknown, config: StationConfig): unknown {
  if (!isIfppError(e) || !/^(BRIDGE|JIG)_/.test(e.code)) return e;
  const probe = `ifpp probe ${config.source.file} checks every bridge, slot and jig input at once`;
  return new IfppError(e.code, e.message, { hint: e.hint ? `${e.hint}; ${probe}` : probe, details: e.details, cause: e });
}
