/** The probe report as text for a terminal: one block per device, then problems and notes. */
import { isAbsolute, relative } from 'node:path';
import { mhz } from './bridge-probe.ts';
import type { ProbeNote, ProbeProblem } from './errors.ts';
import type { BridgeReport, CardReport, CardStationCheck, JigReport, ProbeReport, SlotReport } from './report.ts';

export interface FormatOptions {
  /** Paths inside this folder are shown relative to it (default: absolute as in the report). */
  cwd?: string;
}

const SLOT_WORDS: Record<NonNullable<SlotReport['state']>, string> = {
  EMPTY: 'no card',
  OFF: 'card present, unpowered',
  ON: 'card present, powered',
  READY: 'card present, active',
  FAULT: 'SUPPLY FAULT',
  'no-channel': 'no such channel on the bridge',
};

const KEY = 10;
/** Values of bridge and card rows line up in one column. */
const row = (indent: number, key: string, value: string) => `${' '.repeat(indent)}${key.padEnd(KEY + 2 - indent)} ${value}`;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

class Paths {
  constructor(private readonly cwd: string | undefined) {}

  show(p: string): string {
    if (!this.cwd) return p;
    const rel = relative(this.cwd, p);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
  }

  port(port: string, device: string | undefined): string {
    return device ? `${this.show(port)} (${device})` : this.show(port);
  }
}

function bridgeLines(b: BridgeReport, r: ProbeReport, paths: Paths): string[] {
  const out = [`bridge ${b.id}  ${paths.port(b.port, b.device)}, ${b.baudRate} baud: ${b.answered ? 'answered' : 'NOT ANSWERING'}`];
  const i = b.info;
  if (i) {
    const maxMhz = mhz(i.clock.maxHz);
    out.push(
      row(2, 'firmware', `${i.firmware}, line protocol ${i.protocol}${i.apdu ? ', runs whole APDUs' : ', TPDUs only (older firmware: GET RESPONSE from the host)'}`),
      row(2, 'channels', `${i.slots} (the config gives it ${b.slots.length} slot${b.slots.length === 1 ? '' : 's'})`),
      row(2, 'supply', `class ${i.classes.split('').join(', ')} (loading.vcc ${r.loading.vcc})`),
      row(2, 'clock', `${mhz(i.clock.minHz).replace(' MHz', '')} to ${maxMhz}, ${mhz(i.clock.defaultHz)} at power-up (loading.clockHz ${mhz(r.loading.clockHz)})`),
      row(2, 'Fi/Di', `TA1 ${i.ta1.join(' ')}`),
    );
  }
  for (const s of b.slots) {
    const state = s.state === undefined ? 'not probed' : SLOT_WORDS[s.state];
    out.push(row(2, `slot ${s.id}`, `channel ${s.channel}: ${state}${s.enabled ? '' : ' (disabled in the config)'}`));
    if (s.card) out.push(...cardLines(s.card));
    else if (r.cards && s.enabled && s.state !== undefined && s.state !== 'EMPTY' && s.state !== 'no-channel') out.push(row(4, '', 'card not read (see the problems)'));
  }
  return out;
}

function cardLines(c: CardReport): string[] {
  const protocols = c.protocols.map((p) => `T=${p}`).join(', ');
  const how = c.negotiation === 'pps' ? 'after PPS' : c.negotiation === 'specific' ? 'specific mode' : c.negotiation === 'default' ? 'defaults' : c.negotiation;
  const out = [row(4, 'ATR', c.atr), row(4, '', `TA1 ${c.atrTa1}, ${protocols}; runs Fi ${c.fi} / Di ${c.di} (${how}) at ${mhz(c.clockHz)}`)];
  if (c.eid) out.push(row(4, 'EID', `${c.eid}${c.eidValid ? '' : '  (CHECK DIGITS WRONG)'}`));
  const i = c.euiccInfo2;
  if (i) {
    const mem = [i.freeNvm !== undefined ? `free NVM ${i.freeNvm} B` : '', i.freeRam !== undefined ? `free RAM ${i.freeRam} B` : ''].filter(Boolean).join(', ');
    out.push(row(4, 'eUICC', `SGP.22 ${i.svn}, firmware ${i.firmware}${mem ? ', ' + mem : ''}`));
    out.push(row(4, 'CI keys', i.ciKeysForVerification.join(' ') || '(none trusted)'));
  }
  const f = c.factory;
  if (f) out.push(row(4, 'keys', `${f.oneTimeKeys.unused} one-time key${f.oneTimeKeys.unused === 1 ? '' : 's'} unused, ${f.oneTimeKeys.consumed} consumed; FPA services ${f.fpaServices}`));
  const st = c.station && stationWords(c.station);
  if (st) out.push(row(4, 'station', st));
  return out;
}

/** "eUICC data ✓ (CERT.EUICC chain ok), 2 BPPs loadable (batch B, CI trusted by the chip)"; ✗ where production would fail. */
function stationWords(s: CardStationCheck): string {
  const parts: string[] = [];
  const e = s.euiccData;
  if (e) parts.push(e.state === 'ok' ? 'eUICC data ✓ (CERT.EUICC chain ok)' : e.state === 'unknown' ? 'eUICC data ✗ (no CERT.EUICC for this EID)' : 'eUICC data ✗ (CERT.EUICC chain invalid)');
  const b = s.bpps;
  if (b) {
    const batches = `batch${b.batches.length === 1 ? '' : 'es'} ${b.batches.join(', ')}`;
    if (b.loadable === 0) parts.push(`no BPP loadable ✗ (${b.bound} bound to this EID, ${plural(b.unusedKeys, 'unused key')})`);
    else if (b.trusted === undefined) parts.push(`${plural(b.loadable, 'BPP')} loadable (${batches}, CI trust not known: EUICCInfo2 not read)`);
    else if (b.trusted === 0) parts.push(`${plural(b.loadable, 'BPP')} loadable ✗ (${batches}, CI not trusted by the chip)`);
    else parts.push(`${plural(b.trusted, 'BPP')} loadable (${batches}, CI trusted by the chip)`);
  }
  return parts.join(', ');
}

function jigLines(j: JigReport, paths: Paths): string[] {
  const out = [`jig board  ${paths.port(j.port, j.device)}, ${j.baudRate} baud: ${j.answered ? 'answered' : 'NOT ANSWERING'}`];
  const w = Math.max(KEY, ...j.inputs.map((i) => i.name.length));
  const line = (k: string, v: string) => `  ${k.padEnd(w)}  ${v}`;
  if (j.firmware) out.push(line('firmware', `${j.firmware.name || '(unnamed)'} ${j.firmware.version}, Firmata protocol ${j.firmware.protocol}, ${j.pins} pins`));
  for (const i of j.inputs) out.push(line(i.name, `pin ${i.pin.padEnd(3)} ${i.state}`));
  if (j.answered) out.push(line('outputs', `${plural(j.outputsChecked, 'pin')} checked, none driven`));
  return out;
}

/** The message with the device or store path it names shown as the rest of the report shows paths. */
function shownMessage(p: ProbeProblem | ProbeNote, paths: Paths): string {
  let m = p.message;
  if (p.port) m = m.replaceAll(p.port, paths.show(p.port));
  if (p.store) m = m.replaceAll(p.store, paths.show(p.store));
  return m;
}

function problemLines(p: ProbeProblem, paths: Paths): string[] {
  return [`  ${p.code}: ${shownMessage(p, paths)}`, ...(p.hint ? [`    → ${p.hint}`] : [])];
}

export function formatProbeReport(r: ProbeReport, opts: FormatOptions = {}): string {
  const paths = new Paths(opts.cwd);
  const out = [`station "${r.station}" (${r.kind}), ${paths.show(r.file)}`, ''];
  for (const b of r.bridges) out.push(...bridgeLines(b, r, paths), '');
  if (r.jig) out.push(...jigLines(r.jig, paths), '');
  if (r.problems.length) out.push(`problems (${r.problems.length}):`, ...r.problems.flatMap((p) => problemLines(p, paths)), '');
  if (r.notes.length) out.push('notes:', ...r.notes.map((n) => `  ${shownMessage(n, paths)}`), '');
  const slots = r.bridges.reduce((n, b) => n + b.slots.length, 0);
  const read = r.bridges.reduce((n, b) => n + b.slots.filter((s) => s.card).length, 0);
  const what = `${plural(r.bridges.length, 'bridge')}, ${plural(slots, 'slot')}${r.jig ? ', the jig board' : ''}${r.cards ? `; ${plural(read, 'card')} read` : ''}`;
  out.push(r.ok ? `ok: everything answered (${what})` : `${plural(r.problems.length, 'problem')} (${what})`);
  return out.join('\n') + '\n';
}
