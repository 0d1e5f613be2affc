/**
 * `ifpp bench …`: one chip at a time on a repair bench, in a PC/SC reader. Text for people,
 * --json for scripts. Changes the LPA would make are refused while the chip is still in
 * production (keys left, FPA services open), with the way out in the message.
 */
import { isIfppError } from '../../core/errors.ts';
import { parseIccid } from '../../core/rsp/iccid.ts';
import { requireConfig } from '../../station/config/load.ts';
import type { StationConfig } from '../../station/config/schema.ts';
import { BenchError, openReaderChip, type BenchChip } from '../../station/bench/bench-chip.ts';
import { loadTrace, saveTrace, traceFile } from '../../station/bench/bench-trace.ts';
import { certificateVerdict, chipHistory } from '../../station/bench/chip-history.ts';
import { readChipFacts, readFactory, readNotifications, readProfiles, refuseWhileInProduction, type ChipFacts } from '../../station/bench/chip-facts.ts';
import { finishChip } from '../../station/fpa/finish-chip.ts';
import { openPcscSlot } from '../../station/bench/pcsc-slot.ts';
import { reprovision } from '../../station/bench/reprovision.ts';
import { settleOnBench } from '../../station/bench/settle-on-bench.ts';
import { CliUsageError, parseOptions } from '../command.ts';

export const help = `Usage: ifpp bench <command> --reader NAME [--json] [options]

One chip in a PC/SC reader (a field repair bench). --reader takes the exact reader name or a
pattern (* wildcards, else any part of the name, case-insensitive); \`ifpp bench readers\` lists
them. Text for people, --json for scripts.

  readers                               the PC/SC readers and whether a card is in each
  info [--config F]                     ATR, EID (check digits), EUICCInfo2, FPA services, one-time
                                        keys, profiles, notifications; with --config also the
                                        CERT.EUICC chain verdict and this EID's station history,
                                        and a unit a station stop left unknown on this chip is
                                        settled from the chip's own signed result (its PIR)
  profiles list
  profiles enable|disable ICCID
  profiles delete ICCID --yes
  profiles nickname ICCID NAME          ("" removes the nickname)
  notifications list
  notifications remove SEQ|--all
  finish                                end of production (the station's finish step): delete unused one-time keys, close
                                        FPA services (leaves the chip ready for the device's LPA)
  reprovision --config F                a replacement chip, or one whose load failed: load the next
                                        loadable BPP for its EID with the station's guarantees
                                        (journal, PIR verified, end-of-production step), recorded
                                        as a repair in the journal, PLR and CSV
  trace                                 the APDU exchanges of the last bench command

Options:
  --reader NAME     the reader (required except for readers/trace)
  --config F        station config (store, journal, loading policy): needed by reprovision,
                    optional for info
  --wait-ms MS      how long to wait for the reader and the card (default 5000)
  --json            one JSON object on stdout (errors too: {"ok":false,"code":…})
  --trace-file F    where the last command's exchanges are kept (default: $IFPP_BENCH_TRACE,
                    else a file per user in the temporary folder)

Profile and notification changes are refused while the chip still has unused one-time keys or
open FPA services: finish it first (docs/repair-bench.md lists every refusal).`;

const OPTIONS = {
  reader: { type: 'string' },
  config: { type: 'string' },
  'wait-ms': { type: 'string' },
  json: { type: 'boolean' },
  yes: { type: 'boolean' },
  all: { type: 'boolean' },
  'trace-file': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseOptions<typeof OPTIONS>>['values'];

interface Output {
  json: boolean;
  /** JSON result (merged under ok:true) and its text form. */
  done(result: object, text: string): void;
}

function output(json: boolean): Output {
  return {
    json,
    done(result, text) {
      process.stdout.write(json ? JSON.stringify({ ok: true, ...result }, null, 1) + '\n' : text.endsWith('\n') ? text : text + '\n');
    },
  };
}

function iccidArg(v: string | undefined, verb: string): string {
  if (!v) throw new CliUsageError(`${verb} needs an ICCID`);
  try {
    return parseIccid(v);
  } catch (e) {
    throw new CliUsageError(`"${v}" is not an ICCID: ${isIfppError(e) ? e.message : String(e)}`);
  }
}

function waitMs(v: string | undefined): number {
  if (v === undefined) return 5000;
  if (!/^\d+$/.test(v)) throw new CliUsageError(`--wait-ms must be a whole number of milliseconds, got "${v}"`);
  return Number(v);
}

// ------------------------------------------------------------------ text forms

function factsText(f: ChipFacts): string {
  const lines = [`Reader     ${f.reader} (${f.protocol})`, `ATR        ${f.atr}`, `EID        ${f.eid}${f.eidCheckDigits === 'ok' ? '' : '  (CHECK DIGITS WRONG)'}`];
  const i = f.euiccInfo2;
  if ('error' in i) lines.push(`EUICCInfo2 unreadable: ${i.error}`);
  else lines.push(`eUICC      SGP.22 ${i.svn}, firmware ${i.firmware}, SIMalliance ${i.profileVersion}, free NVM ${i.freeNvm ?? '?'} bytes`, `CI keys    verify ${i.ciForVerification.join(', ') || '-'}; sign ${i.ciForSigning.join(', ') || '-'}`);
  lines.push(`FPA        services ${f.fpaServices}${f.oneTimeKeys ? `, one-time keys ${f.oneTimeKeys.unused} unused / ${f.oneTimeKeys.consumed} consumed` : ''}`);
  lines.push(...profilesText(f.profiles).split('\n'));
  if ('error' in f.notifications) lines.push(`Notifications unreadable: ${f.notifications.error}`);
  else lines.push(...notificationsText(f.notifications).split('\n'));
  return lines.join('\n');
}

function profilesText(ps: ChipFacts['profiles']): string {
  if (ps.length === 0) return 'Profiles   none';
  return ['Profiles', ...ps.map((p) => `  ${p.iccid ?? '?'}  ${p.state.padEnd(8)} ${p.class.padEnd(12)} ${p.name ?? ''}${p.provider ? ` (${p.provider})` : ''}${p.nickname ? `  "${p.nickname}"` : ''}`)].join('\n');
}

function notificationsText(ns: Exclude<ChipFacts['notifications'], { error: string }>): string {
  if (ns.length === 0) return 'Notifications none pending';
  return ['Notifications', ...ns.map((n) => `  #${n.seqNumber}  ${n.event.padEnd(8)} ${n.iccid ?? '-'}  to ${n.address}`)].join('\n');
}

// ------------------------------------------------------------------ commands

async function withChip<T>(v: Values, command: string, f: (chip: BenchChip) => Promise<T>): Promise<T> {
  if (!v.reader) throw new CliUsageError('--reader is required (ifpp bench readers lists them)');
  const chip = await openReaderChip(v.reader, { waitMs: waitMs(v['wait-ms']) });
  let outcome = 'ok';
  try {
    return await f(chip);
  } catch (e) {
    outcome = isIfppError(e) ? `${e.code}: ${e.message}` : String(e);
    throw e;
  } finally {
    try {
      saveTrace(traceFile(v['trace-file']), { command, reader: chip.readerName, at: new Date().toISOString(), exchanges: chip.trace, outcome });
    } finally {
      await chip.close();
    }
  }
}

async function readersCommand(v: Values, out: Output): Promise<number> {
  const { PcscReaders } = await import('../../transport/pcsc/readers.ts');
  const readers = new PcscReaders();
  try {
    const list = await readers.settle(waitMs(v['wait-ms']) > 1000 ? 1000 : waitMs(v['wait-ms']));
    out.done({ readers: list }, list.length === 0 ? 'No PC/SC readers.' : list.map((r) => `${r.name}  ${r.cardPresent ? `card ${r.atr ?? ''}` : 'empty'}`).join('\n'));
    return 0;
  } finally {
    readers.close();
  }
}

async function infoCommand(v: Values, out: Output): Promise<number> {
  let config: StationConfig | undefined;
  if (v.config) config = await requireConfig(v.config);
  return withChip(v, 'info', async (chip) => {
    const facts = await readChipFacts(chip);
    // A unit a station stop left unknown on this chip is settled first (its PIR recovered).
    const settled = config ? await settleOnBench(config, chip.fpa, facts.eid, chip.where) : [];
    const station = config ? { certificate: certificateVerdict(config, facts.eid), settled, history: await chipHistory(config, facts.eid) } : undefined;
    let text = factsText(facts);
    if (station) {
      for (const r of settled) text += `\nSettled    unit ${r.unit.slice(0, 8)} left unknown by a stop: ${r.outcome} (${r.how})`;
      const c = station.certificate;
      text += `\nCERT.EUICC ${c.verdict === 'ok' ? 'verifies up to the CI (imported eUICC data)' : `${c.verdict}: ${c.reason}`}`;
      text += station.history.length === 0 ? '\nHistory    none in this station journal' : `\nHistory\n${station.history.map((h) => `  ${h.at}  ${h.station ?? '?'}  ${h.outcome}${h.repair ? ' (repair)' : ''}  ${h.batchId ? `${h.batchId}#${h.position}` : ''} ${h.iccid ?? ''}${h.code ? `  ${h.code}` : ''}`).join('\n')}`;
    }
    out.done({ ...facts, ...(station ?? {}) }, text);
    return 0;
  });
}

async function profilesCommand(v: Values, pos: string[], out: Output): Promise<number> {
  const verb = pos[0] ?? 'list';
  if (verb === 'list') {
    return withChip(v, 'profiles list', async (chip) => {
      const profiles = await readProfiles(chip);
      out.done({ profiles }, profilesText(profiles));
      return 0;
    });
  }
  if (!['enable', 'disable', 'delete', 'nickname'].includes(verb)) throw new CliUsageError(`unknown profiles command "${verb}" (list, enable, disable, delete, nickname)`);
  const iccid = iccidArg(pos[1], `profiles ${verb}`);
  if (verb === 'delete' && !v.yes) throw new CliUsageError('profiles delete removes the profile for good: add --yes to confirm');
  if (verb === 'nickname' && pos[2] === undefined) throw new CliUsageError('profiles nickname needs ICCID and NAME ("" removes it)');
  return withChip(v, `profiles ${verb} ${iccid}`, async (chip) => {
    await refuseWhileInProduction(chip, `${verb} profile ${iccid}`);
    const id = { iccid };
    const r =
      verb === 'enable' ? await chip.lpa.enable(id) : verb === 'disable' ? await chip.lpa.disable(id) : verb === 'delete' ? await chip.lpa.delete(id) : await chip.lpa.setNickname(iccid, pos[2]!);
    if (r.code !== 0) {
      throw new BenchError('BENCH_CHIP_REFUSED', `the chip refused to ${verb} profile ${iccid}: ${r.name ?? `result ${r.code}`}`, {
        hint: r.name === 'iccidOrAidNotFound' || r.name === 'iccidNotFound' ? 'check the ICCID with `ifpp bench profiles list`' : r.name?.startsWith('profileNotIn') ? 'check the profile state with `ifpp bench profiles list`' : undefined,
      });
    }
    const profiles = await readProfiles(chip);
    out.done({ result: r.name ?? r.code, profiles }, `${verb}: ok\n${profilesText(profiles)}`);
    return 0;
  });
}

async function notificationsCommand(v: Values, pos: string[], out: Output): Promise<number> {
  const verb = pos[0] ?? 'list';
  if (verb === 'list') {
    return withChip(v, 'notifications list', async (chip) => {
      const notifications = await readNotifications(chip);
      out.done({ notifications }, notificationsText(notifications));
      return 0;
    });
  }
  if (verb !== 'remove') throw new CliUsageError(`unknown notifications command "${verb}" (list, remove)`);
  const seqArg = pos[1];
  if (!v.all && (seqArg === undefined || !/^\d+$/.test(seqArg))) throw new CliUsageError('notifications remove needs a sequence number (or --all)');
  return withChip(v, `notifications remove ${v.all ? '--all' : seqArg}`, async (chip) => {
    await refuseWhileInProduction(chip, 'remove notifications');
    const seqs = v.all ? (await readNotifications(chip)).map((n) => n.seqNumber) : [Number(seqArg)];
    for (const s of seqs) {
      const r = await chip.lpa.removeNotification(s);
      if (r.code !== 0) throw new BenchError('BENCH_CHIP_REFUSED', `the chip has no notification #${s} to remove (${r.name ?? r.code})`, { hint: 'list them with `ifpp bench notifications list`' });
    }
    const notifications = await readNotifications(chip);
    out.done({ removed: seqs, notifications }, `removed ${seqs.length ? seqs.map((s) => `#${s}`).join(', ') : 'nothing'}\n${notificationsText(notifications)}`);
    return 0;
  });
}

async function finishCommand(v: Values, out: Output): Promise<number> {
  return withChip(v, 'finish', async (chip) => {
    const r = await finishChip(chip.fpa);
    const after = await readFactory(chip);
    out.done({ ...r, fpaServices: after.fpaServices, oneTimeKeys: after.oneTimeKeys }, `finished: ${r.keysDeleted} unused key(s) deleted, FPA services ${r.fpaClosed ? 'closed' : 'were already closed'}`);
    return 0;
  });
}

async function reprovisionCommand(v: Values, out: Output): Promise<number> {
  if (!v.reader) throw new CliUsageError('--reader is required (ifpp bench readers lists them)');
  if (!v.config) throw new CliUsageError('reprovision needs --config: the station config whose store, journal and policy to use');
  const config = await requireConfig(v.config);
  const h = await openPcscSlot(v.reader, { waitMs: waitMs(v['wait-ms']) });
  let outcome = 'ok';
  try {
    const { events: _events, ...r } = await reprovision(config, h.slot, { reader: h.readerName });
    outcome = r.outcome;
    const text = `${r.outcome}: EID ${r.eid ?? '?'}${r.iccid ? `, ICCID ${r.iccid}` : ''} after ${r.attempts} attempt(s)${r.code ? ` (${r.code}: ${r.reason ?? ''})` : ''}; journalled as a repair`;
    if (r.outcome !== 'installed') {
      if (out.json) process.stdout.write(JSON.stringify({ ok: false, ...r }, null, 1) + '\n');
      else process.stderr.write(`ifpp bench reprovision: ${text}\n`);
      return 1;
    }
    out.done(r, text);
    return 0;
  } catch (e) {
    outcome = isIfppError(e) ? `${e.code}: ${e.message}` : String(e);
    throw e;
  } finally {
    await h.slot.powerOff().catch(() => undefined);
    try {
      saveTrace(traceFile(v['trace-file']), { command: 'reprovision', reader: h.readerName, at: new Date().toISOString(), exchanges: h.trace, outcome });
    } finally {
      await h.close();
    }
  }
}

function traceCommand(v: Values, out: Output): number {
  const t = loadTrace(traceFile(v['trace-file']));
  const text = [`ifpp bench ${t.command} on ${t.reader ?? '?'} at ${t.at}: ${t.outcome}`, ...t.exchanges.map((x) => `> ${x.command}\n< ${x.response}  (${x.ms} ms)`)].join('\n');
  out.done({ trace: t }, text);
  return 0;
}

export async function run(args: string[]): Promise<number> {
  const { values: v, positionals } = parseOptions(args, OPTIONS, true);
  const out = output(v.json === true);
  const [cmd, ...pos] = positionals;
  try {
    switch (cmd) {
      case 'readers':
        return await readersCommand(v, out);
      case 'info':
        return await infoCommand(v, out);
      case 'profiles':
        return await profilesCommand(v, pos, out);
      case 'notifications':
        return await notificationsCommand(v, pos, out);
      case 'finish':
        return await finishCommand(v, out);
      case 'reprovision':
        return await reprovisionCommand(v, out);
      case 'trace':
        return traceCommand(v, out);
      case undefined:
        throw new CliUsageError('which bench command? (readers, info, profiles, notifications, finish, reprovision, trace)');
      default:
        throw new CliUsageError(`unknown bench command "${cmd}"`);
    }
  } catch (e) {
    if (out.json && isIfppError(e) && !(e instanceof CliUsageError)) {
      process.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) }, null, 1) + '\n');
      return 1;
    }
    throw e;
  }
}
