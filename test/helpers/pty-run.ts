/**
 * Runs a command in a real pseudo-terminal (util-linux `script`, which Debian always has) of a
 * given size: the terminal UI draws as for an operator, keys are typed with `type()`, and the
 * screen output (escape sequences removed) can be waited on. Resolves with the exit code.
 */
import { spawn, spawnSync } from 'node:child_process';

export const hasScript = spawnSync('script', ['--version']).status === 0;

export interface PtyRun {
  /** Everything written to the terminal so far, raw. */
  raw(): string;
  /** The same without escape sequences and carriage returns. */
  text(): string;
  type(keys: string): void;
  /** Resolves once `ok(text())` holds; rejects with the output after `timeoutMs`. */
  until(what: string, ok: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<number>;
  kill(): void;
}

export function stripAnsi(s: string): string {
  // CSI sequences (cursor moves, colours, private modes), OSC titles, and lone ESC pairs.
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?<>=]*[ -/]*[@-~]/g, '').replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '').replace(/\x1b[()][0-9A-Za-z]|\x1b[=>78DEHM]/g, '').replace(/\r/g, '');
}

/**
 * The environment of an operator's terminal: no CI markers (Ink draws only the last frame
 * when it thinks it runs in CI, and the station then picks the plain log), no headless switch.
 */
export function terminalEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', ...extra };
  for (const k of Object.keys(env)) if (k === 'CI' || k === 'CONTINUOUS_INTEGRATION' || k.startsWith('CI_') || k === 'IFPP_HEADLESS' || k === 'NO_COLOR') delete env[k];
  return env;
}

/** Runs `command` (a shell command line) in a pty of cols x rows, in a terminalEnv(env). */
export function runInPty(command: string, opts: { cwd: string; env?: NodeJS.ProcessEnv; cols?: number; rows?: number }): PtyRun {
  const { cols = 100, rows = 30 } = opts;
  const quoted = command.replace(/'/g, `'\\''`);
  const child = spawn('script', ['-qfec', `stty cols ${cols} rows ${rows}; exec sh -c '${quoted}'`, '/dev/null'], {
    cwd: opts.cwd,
    env: terminalEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of [...listeners]) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  const text = () => stripAnsi(out);
  return {
    raw: () => out,
    text,
    type: (keys) => child.stdin.write(keys),
    until: (what, ok, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!ok(text())) return;
          cleanup();
          resolve(text());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${what}; terminal so far:\n${text().slice(-3000)}`));
        }, timeoutMs);
        const onExit = () => {
          if (ok(text())) return check();
          cleanup();
          reject(new Error(`the program exited before ${what}; terminal:\n${text().slice(-3000)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          void exited.then(() => undefined);
        };
        listeners.add(check);
        void exited.then(onExit);
        check();
      }),
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}
