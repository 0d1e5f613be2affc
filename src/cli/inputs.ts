/** Reading the files and values users give on the command line, with errors that name them. */
import { fromHex } from '../core/bytes.ts';
import { InputError } from '../core/errors.ts';
import { loadCertificates, type Certificate } from '../core/x509/certificate.ts';
import { readUserFile } from './command.ts';

/** A binary object given as DER, or as hex or base64 text (what other tools often write). */
export function readBinaryObject(path: string, what: string): Uint8Array {
  const raw = readUserFile(path, what);
  if (raw.length === 0) throw new InputError('FILE_EMPTY', `${what} "${path}" is empty`);
  const first = raw[0]!;
  // DER of the objects we read starts with a constructed tag (30, BF..., A.).
  if (first === 0x30 || first === 0xbf || (first & 0xe0) === 0xa0) return raw;
  const text = Buffer.from(raw).toString('latin1').trim();
  if (/^[0-9a-fA-F\s]+$/.test(text)) return fromHex(text, `${what} "${path}"`);
  if (/^[A-Za-z0-9+/=\s]+$/.test(text)) return new Uint8Array(Buffer.from(text, 'base64'));
  return raw;
}

export function readCertificateFile(path: string, what: string): Certificate[] {
  const raw = readUserFile(path, what);
  const text = Buffer.from(raw).toString('latin1');
  try {
    return loadCertificates(text.includes('-----BEGIN') ? text : raw);
  } catch (e) {
    throw new InputError('CERT_UNREADABLE', `${what} "${path}": ${(e as Error).message}`, { hint: 'give a DER or PEM X.509 certificate' });
  }
}

export function hexOption(value: string | undefined, name: string, bytes?: number): Uint8Array | undefined {
  if (value === undefined) return undefined;
  const b = fromHex(value, `--${name}`);
  if (bytes !== undefined && b.length !== bytes) {
    throw new InputError('BAD_OPTION', `--${name} must be ${bytes} bytes (${bytes * 2} hex digits), got ${b.length}`);
  }
  return b;
}
