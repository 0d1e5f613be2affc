/**
 * Hostile-input checks shared by the codec tests: a decoder may refuse bad bytes only with a
 * typed IfppError, never with anything else, and never accepts a truncated DER element.
 */
import fc from 'fast-check';
import { concatBytes } from '../../src/core/bytes.ts';
import { IfppError } from '../../src/core/errors.ts';

/** A decoder's name, the decoder, and a valid sample of what it decodes. */
export type DecoderCase = [string, (b: Uint8Array) => unknown, Uint8Array];

/** Runs f; an IfppError is fine, anything else thrown fails the test. */
export function onlyIfppErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof IfppError)) throw e;
  }
}

/** Every proper prefix of every sample is refused, with an IfppError. */
export function expectTruncationsRefused(cases: readonly DecoderCase[]): void {
  for (const [name, dec, sample] of cases) {
    for (let n = 0; n < sample.length; n++) {
      try {
        dec(sample.subarray(0, n));
      } catch (e) {
        if (!(e instanceof IfppError)) throw new Error(`${name} at ${n}: ${String(e)}`);
        continue;
      }
      // A truncation of a DER element can never be a complete element again.
      throw new Error(`${name} accepted a truncation to ${n} bytes`);
    }
  }
}

/** Random bytes, random bytes behind a valid tag, and one-byte mutations: only IfppErrors. */
export function expectOnlyIfppErrorsOnNoise(cases: readonly DecoderCase[], numRuns: number): void {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (rnd, pos, val) => {
      for (const [, dec, sample] of cases) {
        onlyIfppErrors(() => dec(rnd));
        onlyIfppErrors(() => dec(concatBytes(sample.subarray(0, 2), rnd)));
        const m = sample.slice();
        m[pos % m.length] = val;
        onlyIfppErrors(() => dec(m));
      }
    }),
    { numRuns },
  );
}
