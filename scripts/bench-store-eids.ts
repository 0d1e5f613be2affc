/** EIDs of the store benchmark's synthetic batches: a prefix, then the line number (valid check digits). */
import { makeEid } from '../src/core/rsp/eid.ts';

export const EID_PREFIX = '8904903299';

/** EID number i: prefix, i zero-padded to 30 digits, check digits. Increasing i gives increasing EIDs. */
export function syntheticEid(prefix: string, i: number): string {
  return makeEid(prefix + String(i).padStart(30 - prefix.length, '0'));
}
