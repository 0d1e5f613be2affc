/**
 * A virtual jig board as its own process, for the demo station and terminal tests:
 *
 *   node --import tsx src/sim/jig/board-process.ts [--link PATH] [--digital 54] [--analog 16]
 *        [--firmware NAME] [--follow OUT:IN:DELAY_MS[:invert]]...
 *
 * stdout, one JSON object per line: first {"event":"ready","path":...,"link":...,"pins":N},
 * then {"event":"output","pin","value"}, {"event":"input","pin","level"}, {"event":"mode",
 * "pin","mode"}, {"event":"reset"}, {"event":"notice","text"}, and answers to commands.
 * stdin, one JSON object per line:
 *   {"set": PIN, "value": 0|1|null}        script an input (null: let it float)
 *   {"analog": CHANNEL, "value": 0..1023}
 *   {"follow": {"output","input","delayMs","invert"?}}
 *   {"snapshot": true}                      -> {"event":"snapshot","pins":[...]}
 *   {"powerCycle": true}
 *   {"close": true}                         unplug the board and exit (so does closing stdin)
 * A bad command answers {"event":"error","message"} and changes nothing.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { isIfppError } from '../../core/errors.ts';
import { VirtualBoardError, type FollowerLink, type VirtualFirmataBoard } from './firmata-board.ts';
import { startPtyBoard } from './pty-board.ts';

/** Parses "OUT:IN:DELAY[:invert]". */
export function parseFollow(spec: string): FollowerLink {
  const m = /^(\d+):(\d+):(\d+)(:invert)?$/.exec(spec);
  if (!m) throw new VirtualBoardError('VBOARD_BAD_OPTIONS', `--follow wants OUT:IN:DELAY_MS[:invert], got "${spec}"`);
  return { output: Number(m[1]), input: Number(m[2]), delayMs: Number(m[3]), invert: m[4] !== undefined };
}

export type ControlResult = { event: string; [k: string]: unknown } | 'close' | undefined;

/** Applies one control line to the board; returns an answer to print, 'close', or nothing. */
export function handleControlLine(board: VirtualFirmataBoard, line: string): ControlResult {
  if (!line.trim()) return undefined;
  let cmd: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    cmd = parsed as Record<string, unknown>;
  } catch (e) {
    return { event: 'error', message: `bad control line: ${(e as Error).message}` };
  }
  try {
    if (typeof cmd.set === 'number') {
      const v = cmd.value;
      if (v !== 0 && v !== 1 && v !== null && typeof v !== 'boolean') throw new VirtualBoardError('VBOARD_BAD_COMMAND', '"value" must be 0, 1, true, false or null');
      board.setInput(cmd.set, v);
    } else if (typeof cmd.analog === 'number') {
      if (typeof cmd.value !== 'number') throw new VirtualBoardError('VBOARD_BAD_COMMAND', '"value" must be a number');
      board.setAnalog(cmd.analog, cmd.value);
    } else if (typeof cmd.follow === 'object' && cmd.follow !== null) {
      const f = cmd.follow as Record<string, unknown>;
      if (typeof f.output !== 'number' || typeof f.input !== 'number' || typeof f.delayMs !== 'number') {
        throw new VirtualBoardError('VBOARD_BAD_COMMAND', '"follow" needs numeric output, input and delayMs');
      }
      board.addLink({ output: f.output, input: f.input, delayMs: f.delayMs, invert: f.invert === true });
    } else if (cmd.snapshot) {
      return { event: 'snapshot', pins: board.snapshot() };
    } else if (cmd.powerCycle) {
      board.powerCycle();
    } else if (cmd.close) {
      return 'close';
    } else {
      throw new VirtualBoardError('VBOARD_BAD_COMMAND', `unknown command ${line.trim()}`);
    }
  } catch (e) {
    return { event: 'error', message: isIfppError(e) ? e.describe() : String(e) };
  }
  return undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      link: { type: 'string' },
      digital: { type: 'string' },
      analog: { type: 'string' },
      firmware: { type: 'string' },
      follow: { type: 'string', multiple: true },
    },
  });
  const out = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  const pb = await startPtyBoard({
    ...(values.link ? { link: values.link } : {}),
    ...(values.digital ? { digitalPins: Number(values.digital) } : {}),
    ...(values.analog ? { analogPins: Number(values.analog) } : {}),
    ...(values.firmware ? { firmwareName: values.firmware } : {}),
    links: (values.follow ?? []).map(parseFollow),
  });
  const { board } = pb;
  board.on('output', (pin, value) => out({ event: 'output', pin, value }));
  board.on('input', (pin, level) => out({ event: 'input', pin, level }));
  board.on('mode', (pin, mode) => out({ event: 'mode', pin, mode }));
  board.on('reset', () => out({ event: 'reset' }));
  board.on('notice', (text) => out({ event: 'notice', text }));
  out({ event: 'ready', path: pb.path, link: pb.link ?? null, pins: board.pinCount });

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await pb.close();
    process.exit(0);
  };
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const r = handleControlLine(board, line);
    if (r === 'close') void shutdown();
    else if (r) out(r);
  });
  rl.on('close', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${isIfppError(e) ? e.describe() : String(e)}\n`);
    process.exit(1);
  });
}
