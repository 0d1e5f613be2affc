/**
 * Runs a simulator entry point (bridge-main.ts, board-process.ts) as a child process wired to
 * this terminal: its stdin takes the control lines, its stdout gives the ready line and the
 * answers. SIGINT/SIGTERM are passed on and the child's exit status is returned, so the child
 * shuts down its pty (and link) itself.
 */
import { spawn } from 'node:child_process';
import { nodeArgs } from '../node-entry.ts';

export function runForeground(script: string, args: string[]): Promise<number> {
  const child = spawn(process.execPath, [...nodeArgs(script), ...args], { stdio: 'inherit' });
  // Ctrl+C reaches the child through the terminal's process group; a kill aimed at us only
  // reaches us, so pass SIGTERM on. Either way wait for the child to finish its own shutdown.
  const onInt = () => undefined;
  const onTerm = () => child.kill('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal ? 128 + 2 : 1));
    });
  });
}
