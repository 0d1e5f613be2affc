/**
 * The bridge simulator as a separate process (what `ifpp sim bridge` will run). Cards come
 * from a card factory module (default: the echo test card) given per-slot options; the
 * process prints one JSON ready line with the pty path, then takes control commands on stdin
 * (one per line, each answered by one JSON line on stdout):
 *
 *   insert <slot> [<json options>]   put a new card (from the factory) into a slot
 *   remove <slot>                    pull the card
 *   fault <slot|-> <CODE>            raise a fault (e.g. OVERCURRENT)
 *   corrupt [n] | drop [n]           corrupt the next n lines / drop the next n responses
 *   disconnect | reconnect           unplug / replug the bridge (same --link path)
 *   status                           slot states and connection
 *   quit                             close and exit (so does closing stdin, or SIGTERM)
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { InputError, IfppError } from '../../core/errors.ts';
import { MAX_SLOTS } from '../../core/bridge-protocol/frame.ts';
import type { CardFactory, SimCard } from '../card/card-model.ts';
import { BridgeSim } from './bridge-sim.ts';
import { moduleFile, moduleUrl, nodeArgs } from '../node-entry.ts';

export interface BridgeProcessOptions {
  slots: number;
  /** Symlink path the host opens; stays valid across disconnect/reconnect. */
  link?: string;
  /** 0 = answer at once, 1 = real time (default). */
  timeScale?: number;
  /** Module (path relative to the working directory, or file: URL) exporting `createCard`. Default: the echo card. */
  cardModule?: string;
  /**
   * Options handed to the factory. An array gives them by slot (null or missing = empty
   * slot); anything else goes to every slot.
   */
  cardOptions?: unknown;
  /** Clock every slot starts with, Hz. */
  fdefHz?: number;
  /** APDUs per APDUS request (INFO BATCH=); 0 = a bridge without the APDUS verb. Default: the simulator's. */
  batch?: number;
  /** Host link model: pty (as it is) or usb-fs (each line at the next 1 ms frame boundary, each way). */
  linkModel?: 'pty' | 'usb-fs';
}

export interface ReadyLine {
  event: 'ready';
  path: string;
  link: string | null;
  slots: number;
  timeScale: number;
  pid: number;
}

export type ControlReply = { ok: true; cmd: string; [k: string]: unknown } | { ok: false; cmd: string; error: string };

export interface RunningBridge {
  bridge: BridgeSim;
  ready: ReadyLine;
  /** Runs one control command (see the module comment). */
  control(line: string): Promise<ControlReply>;
  close(): Promise<void>;
}

/** Card modules named by a word, so they work wherever the package is installed. */
const BUILTIN_CARD_MODULES: Record<string, string> = {
  echo: moduleUrl('../card/echo-card.ts', import.meta.url).href,
  euicc: moduleUrl('../euicc/card-factory.ts', import.meta.url).href,
};
const DEFAULT_CARD_MODULE = BUILTIN_CARD_MODULES.echo!;

async function loadFactory(spec: string | undefined): Promise<CardFactory> {
  const url =
    spec === undefined ? DEFAULT_CARD_MODULE : (BUILTIN_CARD_MODULES[spec] ?? (spec.startsWith('file:') ? spec : pathToFileURL(resolve(spec)).href));
  let mod: { createCard?: unknown };
  try {
    mod = (await import(url)) as { createCard?: unknown };
  } catch (e) {
    throw new InputError('BRIDGE_CARD_MODULE', `cannot load card module ${spec}: ${(e as Error).message}`, { cause: e });
  }
  if (typeof mod.createCard !== 'function') {
    throw new InputError('BRIDGE_CARD_MODULE', `card module ${spec ?? DEFAULT_CARD_MODULE} does not export createCard(ctx)`, {
      hint: 'export const createCard: CardFactory = ({ slot, options }) => new MyCard(options)',
    });
  }
  return mod.createCard as CardFactory;
}

function slotOptions(all: unknown, slot: number): { present: boolean; options: unknown } {
  if (Array.isArray(all)) {
    const o: unknown = all[slot];
    return { present: o !== null && o !== undefined, options: o };
  }
  return { present: true, options: all ?? {} };
}

/** Starts a bridge simulator in this process, with cards from the factory. */
export async function startBridgeProcess(opts: BridgeProcessOptions): Promise<RunningBridge> {
  const factory = await loadFactory(opts.cardModule);
  const cards: (SimCard | undefined)[] = [];
  for (let slot = 0; slot < opts.slots; slot++) {
    const { present, options } = slotOptions(opts.cardOptions, slot);
    cards.push(present ? await factory({ slot, options }) : undefined);
  }
  const timeScale = opts.timeScale ?? 1;
  const bridge = await BridgeSim.start({
    slots: opts.slots,
    timeScale,
    cards,
    ...(opts.link !== undefined ? { link: opts.link } : {}),
    ...(opts.fdefHz !== undefined ? { fdefHz: opts.fdefHz } : {}),
    ...(opts.batch !== undefined ? { batch: opts.batch } : {}),
    ...(opts.linkModel === 'usb-fs' ? { linkFrameMs: 1 } : {}),
  });
  const ready: ReadyLine = { event: 'ready', path: bridge.path, link: opts.link ?? null, slots: opts.slots, timeScale, pid: process.pid };

  const slotArg = (s: string | undefined): number => {
    const n = Number(s);
    if (s === undefined || !/^\d+$/.test(s) || n >= opts.slots) throw new InputError('BRIDGE_CONTROL', `slot "${s ?? ''}" is not 0..${opts.slots - 1}`);
    return n;
  };
  const countArg = (s: string | undefined): number => (s === undefined ? 1 : /^\d+$/.test(s) ? Number(s) : 1);

  async function control(line: string): Promise<ControlReply> {
    const [cmd = '', a, ...rest] = line.trim().split(/\s+/);
    try {
      switch (cmd) {
        case 'insert': {
          const slot = slotArg(a);
          const options = rest.length ? (JSON.parse(rest.join(' ')) as unknown) : slotOptions(opts.cardOptions, slot).options ?? {};
          bridge.insertCard(slot, await factory({ slot, options }));
          return { ok: true, cmd, slot };
        }
        case 'remove': {
          const slot = slotArg(a);
          return { ok: true, cmd, slot, removed: bridge.removeCard(slot) !== undefined };
        }
        case 'fault': {
          const slot = a === '-' ? null : slotArg(a);
          const code = rest[0] ?? 'OVERCURRENT';
          if (!/^[A-Z]{1,12}$/.test(code)) throw new InputError('BRIDGE_CONTROL', 'fault code must be 1-12 upper-case letters');
          bridge.injectFault(slot, code);
          return { ok: true, cmd, slot, code };
        }
        case 'corrupt':
          bridge.corruptNextLine(countArg(a));
          return { ok: true, cmd };
        case 'drop':
          bridge.dropNextResponse(countArg(a));
          return { ok: true, cmd };
        case 'disconnect':
          await bridge.disconnect();
          return { ok: true, cmd };
        case 'reconnect':
          return { ok: true, cmd, path: await bridge.reconnect() };
        case 'status':
          return {
            ok: true,
            cmd,
            connected: bridge.connected,
            slots: Array.from({ length: opts.slots }, (_, i) => bridge.slotState(i)),
          };
        default:
          throw new InputError('BRIDGE_CONTROL', `unknown control command "${cmd}"`);
      }
    } catch (e) {
      if (e instanceof IfppError || e instanceof SyntaxError) return { ok: false, cmd, error: e.message };
      throw e;
    }
  }

  return { bridge, ready, control, close: () => bridge.close() };
}

export const BRIDGE_USAGE = `Usage: bridge-main --slots N [--link PATH] [--time-scale X] [--card-module M] [--card-options JSON] [--fdef HZ]
                   [--batch N] [--link-model pty|usb-fs]
  --slots N            slots served, 1..${MAX_SLOTS} (default 1)
  --link PATH          symlink to the pty, stable across reconnects
  --time-scale X       0 = answer at once, 1 = real card-contact time (default 1)
  --card-module M      euicc (simulated eUICC), echo (test card, the default), or the path
                       of a module exporting createCard({slot, options})
  --card-options JSON  options for every slot, or a JSON array by slot (null = empty slot)
  --fdef HZ            card clock each slot starts with (default 4000000)
  --batch N            APDUs per APDUS request (INFO BATCH=, default 8); 0 = a bridge without APDUS
  --link-model M       pty (default) or usb-fs: each line waits for the next 1 ms frame boundary, each way`;

/** Parses the process command line; throws InputError with the usage in its hint. */
export function parseBridgeArgs(argv: string[]): BridgeProcessOptions {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        slots: { type: 'string', default: '1' },
        link: { type: 'string' },
        'time-scale': { type: 'string' },
        'card-module': { type: 'string' },
        'card-options': { type: 'string' },
        fdef: { type: 'string' },
        batch: { type: 'string' },
        'link-model': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new InputError('BRIDGE_ARGS', (e as Error).message, { hint: BRIDGE_USAGE });
  }
  const slots = Number(v.slots);
  if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS) throw new InputError('BRIDGE_ARGS', `--slots must be 1..${MAX_SLOTS}`, { hint: BRIDGE_USAGE });
  const out: BridgeProcessOptions = { slots };
  if (v.link !== undefined) out.link = v.link;
  if (v['time-scale'] !== undefined) {
    const x = Number(v['time-scale']);
    if (!(x >= 0)) throw new InputError('BRIDGE_ARGS', '--time-scale must be a number >= 0', { hint: BRIDGE_USAGE });
    out.timeScale = x;
  }
  if (v['card-module'] !== undefined) out.cardModule = v['card-module'];
  if (v['card-options'] !== undefined) {
    try {
      out.cardOptions = JSON.parse(v['card-options']) as unknown;
    } catch (e) {
      throw new InputError('BRIDGE_ARGS', `--card-options is not JSON: ${(e as Error).message}`, { hint: BRIDGE_USAGE });
    }
  }
  if (v.fdef !== undefined) {
    const f = Number(v.fdef);
    if (!Number.isInteger(f) || f <= 0) throw new InputError('BRIDGE_ARGS', '--fdef must be a positive integer (Hz)', { hint: BRIDGE_USAGE });
    out.fdefHz = f;
  }
  if (v.batch !== undefined) {
    const b = Number(v.batch);
    if (!Number.isInteger(b) || b < 0 || b > 16) throw new InputError('BRIDGE_ARGS', '--batch must be 0..16 (0 = no APDUS verb)', { hint: BRIDGE_USAGE });
    out.batch = b;
  }
  if (v['link-model'] !== undefined) {
    const m = v['link-model'];
    if (m !== 'pty' && m !== 'usb-fs') throw new InputError('BRIDGE_ARGS', '--link-model must be pty or usb-fs', { hint: BRIDGE_USAGE });
    out.linkModel = m;
  }
  return out;
}

/** A bridge simulator running as a child process. */
export interface SpawnedBridge {
  ready: ReadyLine;
  child: ChildProcessWithoutNullStreams;
  control(line: string): Promise<ControlReply>;
  /** Closes stdin and waits for the process to exit. */
  stop(): Promise<void>;
}

/** Spawns bridge-main with `args` and waits for its ready line. */
export function spawnBridgeProcess(args: string[], readyTimeoutMs = 20_000): Promise<SpawnedBridge> {
  // Resolved per spawn: IFPP_SIM_CHILDREN (node-entry.ts) may differ between callers.
  const main = moduleFile('./bridge-main.ts', import.meta.url);
  const child = spawn(process.execPath, [...nodeArgs(main), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buf = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  const nextLine = () => new Promise<string>((res) => (lines.length ? res(lines.shift()!) : waiters.push(res)));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  let queue: Promise<unknown> = Promise.resolve();

  return new Promise((resolveReady, reject) => {
    const fail = (why: string) => reject(new IfppError('BRIDGE_SPAWN', `bridge process ${why}${stderr ? ': ' + stderr.trim() : ''}`));
    const timer = setTimeout(() => {
      child.kill();
      fail('did not get ready in time');
    }, readyTimeoutMs);
    void exited.then(() => {
      clearTimeout(timer);
      fail(`exited with ${child.exitCode}`);
    });
    void nextLine().then((l) => {
      clearTimeout(timer);
      let ready: ReadyLine;
      try {
        ready = JSON.parse(l) as ReadyLine;
      } catch {
        child.kill();
        return fail(`printed "${l}" instead of a ready line`);
      }
      resolveReady({
        ready,
        child,
        control(cmd: string) {
          const p = queue.then(async () => {
            child.stdin.write(cmd + '\n');
            return JSON.parse(await nextLine()) as ControlReply;
          });
          queue = p.catch(() => undefined);
          return p;
        },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.stdin.end();
          await exited;
        },
      });
    });
  });
}
