/**
 * The virtual jig board (src/sim/jig/board-process.ts) as a child process: JSON lines on its
 * stdin script the inputs, JSON lines on its stdout report what the host drives.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { moduleFile, nodeArgs } from '../node-entry.ts';
import { WorldError } from './errors.ts';

const BOARD_PROCESS = moduleFile('../jig/board-process.ts', import.meta.url);

export interface BoardReady {
  event: 'ready';
  path: string;
  link: string | null;
  pins: number;
}

export interface BoardChildEvents {
  /** An output pin now drives `value` (0/1 for digital outputs). */
  output: [pin: number, value: number];
  /** The host reset the board (SYSTEM_RESET, e.g. the station reconnected). */
  reset: [];
  /** A control line the board refused, or anything else it printed. */
  notice: [text: string];
  exit: [code: number | null];
}

export class BoardChild extends EventEmitter<BoardChildEvents> {
  /** Last value driven on each output pin (absent: the host never drove it). */
  readonly outputs = new Map<number, number>();
  private readonly exited: Promise<void>;

  constructor(
    readonly ready: BoardReady,
    readonly child: ChildProcessWithoutNullStreams,
    exited: Promise<void>,
  ) {
    super();
    this.exited = exited;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Drives an input pin (0/1), or lets it float (null). */
  setInput(pin: number, value: 0 | 1 | null): void {
    this.send({ set: pin, value });
  }

  send(cmd: object): void {
    if (this.alive && this.child.stdin.writable) this.child.stdin.write(JSON.stringify(cmd) + '\n');
  }

  /** Unplugs the board (its pty and link go) and waits for the process to end. */
  async stop(): Promise<void> {
    if (this.alive) this.child.stdin.end();
    await this.exited;
  }
}

/** Spawns the board process with `args` (see board-process.ts) and waits for its ready line. */
export function spawnBoardProcess(args: string[], readyTimeoutMs = 20_000): Promise<BoardChild> {
  const child = spawn(process.execPath, [...nodeArgs(BOARD_PROCESS), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined); // a board that died mid-write shows up as 'exit'
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return new Promise((resolveReady, reject) => {
    let board: BoardChild | undefined;
    const fail = (why: string) => reject(new WorldError('WORLD_BOARD_SPAWN', `jig board process ${why}${stderr ? ': ' + stderr.trim() : ''}`));
    const timer = setTimeout(() => {
      child.kill();
      fail('did not get ready in time');
    }, readyTimeoutMs);
    void exited.then(() => {
      clearTimeout(timer);
      if (board) board.emit('exit', child.exitCode);
      else fail(`exited with ${child.exitCode}`);
    });
    createInterface({ input: child.stdout }).on('line', (text) => {
      let line: { event?: string; [k: string]: unknown };
      try {
        line = JSON.parse(text) as typeof line;
      } catch {
        board?.emit('notice', text);
        return;
      }
      if (!board) {
        if (line.event !== 'ready') return;
        clearTimeout(timer);
        board = new BoardChild(line as unknown as BoardReady, child, exited);
        resolveReady(board);
        return;
      }
      if (line.event === 'output' && typeof line.pin === 'number' && typeof line.value === 'number') {
        board.outputs.set(line.pin, line.value);
        board.emit('output', line.pin, line.value);
      } else if (line.event === 'reset') {
        board.emit('reset');
      } else if (line.event === 'error' || line.event === 'notice') {
        board.emit('notice', String(line.message ?? line.text ?? text));
      }
    });
  });
}
