/**
 * Errors of the X.509 layer: parsing (malformed or unsupported certificates) and chain
 * verification (the codes in a failed ChainResult are the same ones).
 */
import { IfppError } from '../errors.ts';

export type X509ErrorCode =
  // parsing
  | 'X509_MALFORMED'
  | 'X509_TRAILING_BYTES'
  | 'X509_BAD_PEM'
  | 'X509_BAD_TIME'
  | 'X509_BAD_EXTENSION'
  | 'X509_BAD_PUBLIC_KEY'
  | 'X509_BAD_SIGNATURE_ENCODING'
  | 'X509_UNSUPPORTED_KEY'
  | 'X509_UNSUPPORTED_ALGORITHM'
  // chain verification
  | 'X509_UNKNOWN_ISSUER'
  | 'X509_BAD_SIGNATURE'
  | 'X509_NAME_MISMATCH'
  | 'X509_KEY_ID_MISMATCH'
  | 'X509_NOT_CA'
  | 'X509_PATH_LENGTH'
  | 'X509_CHAIN_TOO_LONG'
  | 'X509_EXPIRED'
  | 'X509_NOT_YET_VALID'
  | 'X509_UNKNOWN_CRITICAL_EXTENSION'
  | 'X509_BAD_KEY_USAGE'
  | 'X509_NO_KEY_USAGE'
  | 'X509_WRONG_ROLE'
  | 'X509_EID_NOT_PERMITTED';

export class X509Error extends IfppError {
  declare readonly code: X509ErrorCode;

  constructor(code: X509ErrorCode, message: string, opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, opts);
  }
}
