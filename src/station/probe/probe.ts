/**
 * `ifpp probe`: is the hardware a station config names there and answering? Every bridge and
 * the jig board are looked at in parallel, each on its own port; the result lists what each
 * answered and every problem with the device it is about. Nothing is driven: no jig output, no
 * slot power (except, with `cards`, the bridge supply of a slot while its chip is read).
 * With `cards`, each chip is also checked against the station's store, opened read-only.
 */
import type { StationConfig } from '../config/schema.ts';
import type { EuiccDialect } from '../fpa/dialect.ts';
import { loadDialect } from '../fpa/dialect-loader.ts';
import { probeBridge } from './bridge-probe.ts';
import { Findings } from './errors.ts';
import { probeJig } from './jig-probe.ts';
import type { ProbeReport } from './report.ts';
import { StationCheck } from './station-check.ts';

export interface ProbeOptions {
  /**
   * Read the chips (activation and read-only ES10) in every enabled slot holding one, and check
   * each against the store (config.store): eUICC data, loadable BPPs, trusted CI.
   */
  cards?: boolean;
  /** How long each device may take to answer, ms (default 2000). */
  timeoutMs?: number;
  /** Wait before asking the jig board, for boards that reset when the port opens, ms (default 2500). */
  jigQueryDelayMs?: number;
  dialect?: EuiccDialect;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 2000;
export const DEFAULT_JIG_QUERY_DELAY_MS = 2500;

export async function probeStation(config: StationConfig, opts: ProbeOptions = {}): Promise<ProbeReport> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const cards = opts.cards === true;
  const storeFindings = new Findings();
  // The chips are asked in the dialect the station would use (loading.dialect) unless told otherwise.
  const dialect = opts.dialect ?? (cards ? await loadDialect(config.loading.dialect) : undefined);
  const station = cards ? StationCheck.open(config.store, storeFindings) : undefined;
  const [bridges, jig] = await Promise.all([
    Promise.all(config.bridges.map((b) => probeBridge(config, b, { timeoutMs, cards, ...(dialect ? { dialect } : {}), ...(station ? { station } : {}) }))),
    config.board ? probeJig(config, { timeoutMs, queryDelayMs: opts.jigQueryDelayMs ?? DEFAULT_JIG_QUERY_DELAY_MS }) : undefined,
  ]).finally(() => station?.close());
  // Findings in config order (bridges, then the board, then the store), whatever finished first.
  const all = new Findings();
  for (const b of bridges) all.add(b.findings);
  if (jig) all.add(jig.findings);
  all.add(storeFindings);
  return {
    station: config.name,
    kind: config.kind,
    file: config.source.file,
    ok: all.problems.length === 0,
    cards,
    loading: { vcc: config.loading.vcc, clockHz: config.loading.clockHz, pps: config.loading.pps },
    bridges: bridges.map((b) => b.report),
    ...(jig ? { jig: jig.report } : {}),
    problems: all.problems,
    notes: all.notes,
  };
}
