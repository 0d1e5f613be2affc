/**
 * Errors of the crypto core: bad keys, key files, signatures and KDF parameters. One class so
 * callers can tell "the input was cryptographically unusable" from transport or TLV failures.
 */
import { IfppError } from '../errors.ts';

export type CryptoErrorCode =
  | 'CRYPTO_BAD_PUBLIC_KEY'
  | 'CRYPTO_BAD_SECRET_KEY'
  | 'CRYPTO_BAD_SIGNATURE'
  | 'CRYPTO_BAD_KEY_FILE'
  | 'CRYPTO_ENCRYPTED_KEY'
  | 'CRYPTO_UNSUPPORTED_CURVE'
  | 'CRYPTO_KEY_MISMATCH'
  | 'CRYPTO_BAD_LENGTH';

export class CryptoError extends IfppError {
  declare readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string, opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, opts);
  }
}
