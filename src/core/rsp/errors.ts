/**
 * Errors of the RSP object layer that are not decoding errors. Decoders throw TlvError (from
 * the BER-TLV layer) naming offset, tag and path; these cover bad arguments to encoders and
 * the card-side STORE DATA reassembly, which must also tell the simulator which status word
 * to answer.
 */
import { swHex } from '../apdu.ts';
import { IfppError } from '../errors.ts';

/** An encoder was given a value it cannot represent (wrong size, bad digits, too long...). */
export class RspEncodeError extends IfppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('RSP_ENCODE', message, { details, hint: 'fix the value passed to the encoder' });
  }
}

/** A value that is well-formed TLV but not a valid value of its type (EID digits, ICCID BCD...). */
export class RspValueError extends IfppError {
  constructor(code: RspValueErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { details });
  }
}

export type RspValueErrorCode = 'RSP_BAD_EID' | 'RSP_BAD_ICCID';

export type StoreDataErrorCode =
  | 'STORE_DATA_BAD_APDU'
  | 'STORE_DATA_BAD_CLA'
  | 'STORE_DATA_BAD_INS'
  | 'STORE_DATA_BAD_P1'
  | 'STORE_DATA_BLOCK_ORDER'
  | 'STORE_DATA_CHANNEL_CHANGED'
  | 'STORE_DATA_TOO_LARGE';

/**
 * Card-side STORE DATA framing error. `sw` is the status word an ISO 7816-4 card would answer
 * (e.g. 6A86 for wrong P1/P2), so the simulator need not keep its own mapping.
 */
export class StoreDataError extends IfppError {
  readonly sw: number;
  constructor(code: StoreDataErrorCode, message: string, sw: number, details: Record<string, unknown> = {}) {
    super(code, message, { details: { ...details, sw: swHex(sw) } });
    this.sw = sw;
  }
}
