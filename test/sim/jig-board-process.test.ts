import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import five from 'johnny-five';
import { connectBoard, type JigBoardError } from '../../src/transport/jig/connect-board.ts';
import { handleControlLine, parseFollow } from '../../src/sim/jig/board-process.ts';
import { VirtualFirmataBoard } from '../../src/sim/jig/firmata-board.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Line = { event: string; [k: string]: unknown };

/** A child process speaking JSON lines; waitFor() resolves with the first matching line. */
function jsonProcess(args: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  const waiters: { match: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    send: (o: object) => child.stdin.write(JSON.stringify(o) + '\n'),
    waitFor(match: (l: Line) => boolean, ms = 10_000): Promise<Line> {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching line within ${ms} ms; stderr: ${stderr}`)), ms);
        waiters.push({ match, resolve: (l) => (clearTimeout(t), resolve(l)) });
      });
    },
  };
}

describe('board-process control channel', () => {
  it('parses --follow specs and rejects bad ones', () => {
    expect(parseFollow('8:9:300:invert')).toEqual({ output: 8, input: 9, delayMs: 300, invert: true });
    expect(parseFollow('8:9:0')).toEqual({ output: 8, input: 9, delayMs: 0, invert: false });
    expect(() => parseFollow('8:9')).toThrow(/OUT:IN:DELAY_MS/);
  });

  it('applies commands and answers errors without changing the board', () => {
    const board = new VirtualFirmataBoard();
    expect(handleControlLine(board, '{"set": 22, "value": 0}')).toBeUndefined();
    expect(board.readInput(22)).toBe(0);
    expect(handleControlLine(board, '{"set": 22, "value": 7}')).toMatchObject({ event: 'error' });
    expect(handleControlLine(board, '{"set": 0, "value": 1}')).toMatchObject({ event: 'error', message: expect.stringContaining('VBOARD_BAD_PIN') });
    expect(handleControlLine(board, 'not json')).toMatchObject({ event: 'error' });
    expect(handleControlLine(board, '{"jump": 1}')).toMatchObject({ event: 'error' });
    expect(board.readInput(22)).toBe(0);
    const snap = handleControlLine(board, '{"snapshot": true}');
    expect(snap).toMatchObject({ event: 'snapshot' });
    expect(handleControlLine(board, '{"close": true}')).toBe('close');
    board.close();
  });
});

describe('virtual board as its own process', () => {
  it('is driven over stdin, reports writes on stdout, and unplugs on close', async () => {
    const proc = jsonProcess(['src/sim/jig/board-process.ts', '--follow', '8:9:20:invert']);
    try {
      const ready = await proc.waitFor((l) => l.event === 'ready');
      expect(ready.pins).toBe(70);
      const conn = await connectBoard({ path: String(ready.path), queryDelayMs: 20, heartbeatMs: 100 });
      try {
        const clamp = new five.Pin({ pin: 8, board: conn.board });
        clamp.high();
        await proc.waitFor((l) => l.event === 'output' && l.pin === 8 && l.value === 1);
        await proc.waitFor((l) => l.event === 'input' && l.pin === 9 && l.level === 0); // follower link

        const start = new five.Button({ pin: 22, isPullup: true, board: conn.board });
        await proc.waitFor((l) => l.event === 'mode' && l.pin === 22 && l.mode === 0);
        const down = new Promise((res) => start.once('down', res));
        proc.send({ set: 22, value: 0 });
        await down;

        proc.send({ set: 99, value: 1 });
        expect((await proc.waitFor((l) => l.event === 'error')).message).toMatch(/pin 99/);

        const lost = new Promise<JigBoardError>((res) => conn.once('lost', res));
        proc.send({ close: true });
        expect(await proc.exited).toBe(0);
        expect((await lost).code).toBe('JIG_BOARD_LOST');
      } finally {
        await conn.close();
      }
    } finally {
      proc.child.kill();
    }
  });
});

describe('process hygiene', () => {
  it('a program using the connector with johnny-five components exits by itself after close()', async () => {
    // Run in a fresh process: leftover johnny-five timers or open ports would keep it alive.
    const script = `
      import five from 'johnny-five';
      import { startPtyBoard } from './src/sim/jig/pty-board.ts';
      import { connectBoard } from './src/transport/jig/connect-board.ts';
      const pb = await startPtyBoard();
      const conn = await connectBoard({ path: pb.path, queryDelayMs: 20 });
      const led = new five.Led({ pin: 13, board: conn.board });
      led.on();
      const estop = new five.Button({ pin: 30, isPullup: true, board: conn.board });
      const sw = new five.Switch({ pin: 31, board: conn.board });
      await pb.board.waitForOutput(13, 255);
      const down = new Promise((r) => estop.once('down', r));
      pb.board.setInput(30, 0);
      await down;
      const up = new Promise((r) => estop.once('up', r));
      pb.board.setInput(30, 1); // release it: a held Button keeps a 'hold' interval running
      await up;
      await conn.close();
      await pb.close();
      console.log(JSON.stringify({ event: 'done', sigint: process.listenerCount('SIGINT'), cache: five.Board.cache.length, switchOpen: sw.isOpen }));
    `;
    const proc = jsonProcess(['--input-type=module', '-e', script]);
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 20_000);
    try {
      const done = await proc.waitFor((l) => l.event === 'done', 20_000);
      expect(done).toMatchObject({ sigint: 0, cache: 0, switchOpen: true });
      expect(await proc.exited).toBe(0);
    } finally {
      clearTimeout(timer);
      proc.child.kill();
    }
  });
});
