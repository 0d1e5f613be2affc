/**
 * Words, symbols and colours for everything the UI and the plain log show. One table, so the
 * screen, the headless log and the operator guide say the same thing. Every state has a symbol
 * and a word as well as a colour: the screen must read correctly without colour (NO_COLOR,
 * colour-blind operators, monochrome terminals).
 */
import type { SlotState, StationEvent, StationPhase, UnitOutcome } from '../station/events.ts';

/** Ink/chalk colour names used by the UI. */
export type UiColor = 'gray' | 'white' | 'blue' | 'cyan' | 'magenta' | 'green' | 'red' | 'yellow';

export interface StateLook {
  symbol: string;
  word: string;
  /** At most 4 characters, for the compact cell when the full word does not fit. */
  short: string;
  color: UiColor;
}

export const STATE_LOOK: Readonly<Record<SlotState, StateLook>> = {
  idle: { symbol: '·', word: 'IDLE', short: 'IDLE', color: 'gray' },
  present: { symbol: '○', word: 'PRESENT', short: 'PRES', color: 'white' },
  powered: { symbol: '◔', word: 'POWERED', short: 'POWR', color: 'blue' },
  atr: { symbol: '◑', word: 'ATR', short: 'ATR', color: 'blue' },
  identified: { symbol: '◕', word: 'IDENTIFIED', short: 'IDEN', color: 'cyan' },
  loading: { symbol: '▶', word: 'LOADING', short: 'LOAD', color: 'cyan' },
  verifying: { symbol: '◆', word: 'VERIFYING', short: 'VRFY', color: 'magenta' },
  pass: { symbol: '✓', word: 'PASS', short: 'PASS', color: 'green' },
  fail: { symbol: '✗', word: 'FAIL', short: 'FAIL', color: 'red' },
  interrupted: { symbol: '⊘', word: 'INTERRUPTED', short: 'INTR', color: 'yellow' },
  // Not a verdict on the chip (not for this station): drawn dim, like an empty slot.
  skipped: { symbol: '–', word: 'SKIPPED', short: 'SKIP', color: 'gray' },
};

/** States drawn dim rather than bold: nothing happened to a chip there. */
export function isQuietState(state: SlotState): boolean {
  return state === 'idle' || state === 'skipped';
}

export const PHASE_WORD: Readonly<Record<StationPhase, string>> = {
  starting: 'STARTING',
  'waiting-for-panel': 'WAITING FOR PANEL',
  'waiting-for-start': 'WAITING FOR START',
  clamping: 'CLAMPING',
  running: 'RUNNING',
  paused: 'PAUSED',
  releasing: 'RELEASING',
  aborted: 'ABORTED',
  stopping: 'STOPPING',
  stopped: 'STOPPED',
};

export const PHASE_COLOR: Readonly<Record<StationPhase, UiColor>> = {
  starting: 'white',
  'waiting-for-panel': 'yellow',
  'waiting-for-start': 'yellow',
  clamping: 'cyan',
  running: 'green',
  paused: 'yellow',
  releasing: 'cyan',
  aborted: 'red',
  stopping: 'yellow',
  stopped: 'gray',
};

/** An outcome said in words, for when the station gives no reason of its own. */
export const OUTCOME_WORDS: Readonly<Record<UnitOutcome, string>> = {
  installed: 'profile installed',
  'failed-key-burnt': 'failed after the one-time key was used',
  'failed-before-secure-channel': 'failed before the secure channel was set up',
  'no-bpp': 'no BPP for this EID',
  unreachable: 'card did not answer',
  interrupted: 'load interrupted',
  unknown: 'outcome unknown (check the card)',
  skipped: 'not for this station: left untouched',
  'already-provisioned': 'already done: holds a profile of ours, nothing loaded',
};

/** Last 8 digits of an EID: enough to tell cards apart on one panel. */
export function shortEid(eid: string | null | undefined): string {
  if (!eid) return '';
  return eid.length <= 8 ? eid : `…${eid.slice(-8)}`;
}

/** Keeps the tail (the distinctive end) of an identifier that does not fit in `width`. */
export function fitTail(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return '…';
  return `…${text.slice(text.length - (width - 1))}`;
}

/** Cuts the end off a text that does not fit in `width`. */
export function fitHead(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return '…';
  return `${text.slice(0, width - 1)}…`;
}

/** `m:ss` below an hour, `h:mm:ss` above. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${pad2(m)}:${pad2(sec)}` : `${m}:${pad2(sec)}`;
}

/** Always `h:mm:ss`, with days in front once past 24 h. */
export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const rest = `${h}:${pad2(Math.floor((s % 3600) / 60))}:${pad2(s % 60)}`;
  return d > 0 ? `${d}d ${rest}` : rest;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(2)} MB`;
}

export function percent(sent: number, total: number): number {
  if (total <= 0) return 0;
  return Math.max(0, Math.min(100, Math.floor((sent * 100) / total)));
}

/** `█████░░░░░` of exactly `width` cells. */
export function progressBar(sent: number, total: number, width: number): string {
  if (width <= 0) return '';
  const filled = total <= 0 ? 0 : Math.max(0, Math.min(width, Math.round((sent / total) * width)));
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** Bar plus percentage in exactly `width` characters (the percentage alone if very narrow). */
export function progressText(sent: number, total: number, width: number): string {
  const pct = `${percent(sent, total)}%`;
  const barWidth = width - pct.length - 1;
  if (barWidth < 3) return pct.padStart(Math.max(0, width));
  return `${progressBar(sent, total, barWidth)} ${pct.padStart(4)}`.slice(-width).padEnd(width);
}

/** `T+mm:ss.d` since the station started: deterministic and easy to line up with uptime. */
export function formatRelative(t: number, origin: number | null): string {
  if (origin === null) return new Date(t).toISOString().slice(11, 23);
  const ms = Math.max(0, t - origin);
  const tenth = Math.floor((ms % 1000) / 100);
  return `T+${formatElapsed(ms)}.${tenth}`;
}

/** One line describing an event, without time or slot column. */
export function describeEvent(e: StationEvent): string {
  switch (e.type) {
    case 'station.started':
      return `station ${e.station} started (config ${e.config}, ${e.kind}, ${e.slots.length} slots)`;
    case 'station.phase':
      return `phase ${PHASE_WORD[e.phase]}${e.reason ? `: ${e.reason}` : ''}`;
    case 'station.prompt':
      return e.message === null ? 'prompt cleared' : `OPERATOR: ${e.message}`;
    case 'station.warning':
      return `warning ${e.code}: ${e.message}`;
    case 'station.stopped':
      return `station stopped: ${e.reason}`;
    case 'store.stock': {
      const left = e.batches.reduce((n, b) => n + b.available, 0);
      return `BPP stock ${left} left (${e.batches.map((b) => `${b.batchId} ${b.available}/${b.total}`).join(', ')})`;
    }
    case 'bridge.connected':
      return `bridge ${e.bridge} connected on ${e.port}${e.firmware ? ` (firmware ${e.firmware})` : ''}`;
    case 'bridge.disconnected':
      return `bridge ${e.bridge} DISCONNECTED: ${e.reason}`;
    case 'slot.state': {
      const look = STATE_LOOK[e.state];
      const why = e.reason ?? (e.code ? e.code : '');
      return `${look.symbol} ${look.word}${why ? `: ${why}` : ''}${e.code && e.reason ? ` [${e.code}]` : ''}`;
    }
    case 'slot.identified':
      return `EID ${e.eid} (${e.unusedKeys} unused one-time keys)`;
    case 'slot.bpp-chosen':
      return `BPP ${e.transactionId} from batch ${e.batchId}${e.iccid ? ` ICCID ${e.iccid}` : ''}, attempt ${e.attempt}`;
    case 'slot.progress':
      return `sent ${formatBytes(e.bytesSent)} of ${formatBytes(e.bytesTotal)} (${percent(e.bytesSent, e.bytesTotal)}%, segment ${e.segmentsSent}/${e.segmentsTotal})`;
    case 'slot.apdu':
      return `APDU ${e.summary} → ${e.sw} (${formatMicros(e.micros)})`;
    case 'slot.result': {
      const what = e.outcome === 'installed' ? 'installed' : `${e.outcome}: ${e.reason ?? OUTCOME_WORDS[e.outcome]}`;
      return `result ${what}${e.code ? ` [${e.code}]` : ''}${e.iccid ? ` ICCID ${e.iccid}` : ''} in ${formatMillis(e.millis)}, attempt ${e.attempt}`;
    }
    case 'unit.done':
      return `unit done: ${e.outcome}${e.passFirstTime ? ' (first pass)' : ''}`;
    case 'slot.service':
      return `${e.status === 'out-of-service' ? 'OUT OF SERVICE' : e.status === 'warning' ? 'WEAR WARNING' : 'in service'}: ${e.message}`;
    case 'slot.stats':
      return `stats: run ${e.run.units} units FPY ${formatShare(e.run.fpy)}, history ${e.history.units} units FPY ${formatShare(e.history.fpy)}, ${e.cycles}/${e.cycleLimit} cycles${e.yieldFlag ? `; FLAGGED: ${e.yieldFlag}` : ''}`;
    case 'station.summary': {
      const rate = e.ratePerHour === null ? '' : `, ${Math.round(e.ratePerHour)}/h`;
      const outcomes = Object.entries(e.byOutcome).map(([k, v]) => `${v} ${k}`).join(', ');
      const stock = e.stock.reduce((n, b) => n + b.available, 0);
      const oos = e.outOfService.length ? `; out of service: ${e.outOfService.join(', ')}` : '';
      const flagged = e.flagged.length ? `; low recent yield: ${e.flagged.join(', ')}` : '';
      return `${e.final ? 'final summary' : 'summary'}: ${e.units} units${rate}, FPY ${formatShare(e.fpy)}${outcomes ? ` (${outcomes})` : ''}, ${stock} BPPs left${oos}${flagged}`;
    }
  }
}

/** A share (0..1) as a whole percentage, "—" when there is none yet. */
export function formatShare(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : `${Math.round(x * 1000) / 10}%`;
}

export function formatMicros(us: number): string {
  return us < 10_000 ? `${us} µs` : `${(us / 1000).toFixed(1)} ms`;
}

export function formatMillis(ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The slot an event is about, if any. */
export function eventSlot(e: StationEvent): string | null {
  return 'slot' in e ? e.slot : null;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
