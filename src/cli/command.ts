import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { IfppError } from '../core/errors.ts';

export interface CommandModule {
  help: string;
  run(args: string[]): Promise<number>;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Simulator or demo tooling: may load sim/ and binding/. Every other command is a station command and must not (test/architecture.test.ts). */
  simulator?: true;
  load(): Promise<CommandModule>;
}

export class CliUsageError extends IfppError {
  constructor(message: string) {
    super('CLI_USAGE', message);
  }
}

type ParseOptionsConfig<T extends NonNullable<ParseArgsConfig['options']>> = { args: string[]; options: T; allowPositionals: boolean; strict: true };
/** What parseOptions returns (named, so the build can emit declarations for it). */
export type ParsedOptions<T extends NonNullable<ParseArgsConfig['options']>> = ReturnType<typeof parseArgs<ParseOptionsConfig<T>>>;

/** node:util parseArgs with usage errors turned into CliUsageError. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = false): ParsedOptions<T> {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new CliUsageError((e as Error).message);
  }
}

/** Reads a file the user named, with an error that names the file and the option. */
export function readUserFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new IfppError('FILE_UNREADABLE', `cannot read ${what} "${path}" (${code ?? (e as Error).message})`, {
      hint: code === 'ENOENT' ? 'check the path' : 'check the file permissions',
    });
  }
}
