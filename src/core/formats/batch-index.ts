/**
 * One line of a batch's index.ndjson (docs/formats.md), as the SM-DPf writes it and the station
 * reads it: one shape for both sides.
 */
export interface IndexLine {
  eid: string;
  otpk: string;
  transactionId: string;
  /** Hex of the 10 bytes of metadata tag 5A (nibble-swapped BCD, F-padded). */
  iccid: string;
  file: string;
  offset: number;
  length: number;
  sha256: string;
}
