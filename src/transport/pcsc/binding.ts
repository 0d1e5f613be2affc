/**
 * Loads the PC/SC binding (@pokusew/pcsclite, native, built by node-gyp during `npm ci`). It is
 * an optional dependency: where it could not be built (no PC/SC headers, no compiler) the rest
 * of the product works and every PC/SC command fails here with one clear, coded error.
 *
 * The interfaces below are the part of the binding this project uses, declared here so the
 * code type-checks whether or not the package is installed.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { IfppError } from '../../core/errors.ts';

export class PcscError extends IfppError {}

export interface PcscReaderStatus {
  readonly state: number;
  readonly atr?: Buffer;
}

export interface PcscCardReader extends EventEmitter {
  readonly name: string;
  readonly connected: boolean;
  readonly SCARD_SHARE_SHARED: number;
  readonly SCARD_SHARE_EXCLUSIVE: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_STATE_EMPTY: number;
  readonly SCARD_STATE_MUTE: number;
  readonly SCARD_LEAVE_CARD: number;
  readonly SCARD_RESET_CARD: number;
  readonly SCARD_UNPOWER_CARD: number;
  connect(options: { share_mode?: number; protocol?: number }, cb: (err: unknown, protocol: number) => void): void;
  disconnect(disposition: number, cb: (err: unknown) => void): void;
  transmit(data: Buffer, resLen: number, protocol: number, cb: (err: unknown, response: Buffer) => void): void;
  close(): void;
}

export interface PcscLite extends EventEmitter {
  close(): void;
}

type PcscFactory = () => PcscLite;

let cached: PcscFactory | undefined;

const HINT =
  'the PC/SC binding (@pokusew/pcsclite) is built by `npm ci` when the PC/SC headers are present: on Debian/Ubuntu ' +
  '`apt-get install libpcsclite-dev pcscd`, then `npm rebuild @pokusew/pcsclite` (docs/repair-bench.md)';

/** The binding's factory, or PCSC_BINDING_MISSING naming why it could not be loaded. */
export function loadPcsc(): PcscFactory {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require('@pokusew/pcsclite') as PcscFactory;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'MODULE_NOT_FOUND' && /@pokusew\/pcsclite/.test((e as Error).message) ? 'is not installed' : `could not be loaded (${(e as Error).message.split('\n')[0]})`;
    throw new PcscError('PCSC_BINDING_MISSING', `the PC/SC binding ${why}`, { hint: HINT, cause: e });
  }
  return cached;
}
