/**
 * Access to the GSMA test material in ../shared (never copied into the repo). Tests that need
 * it use `describeShared`, which skips with a clear message when the folder is absent.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_DIR = process.env.IFPP_SHARED_DIR ?? resolve(repoRoot, '../shared');
export const RSP_TESTDATA = join(SHARED_DIR, 'rsp-testdata');
export const hasSharedData = existsSync(join(RSP_TESTDATA, 'sgp26')) && existsSync(join(RSP_TESTDATA, 'ts48'));

let warned = false;
/** describe() that skips (and says why, once) when ../shared/rsp-testdata is not there. */
export function describeShared(name: string, fn: () => void): void {
  if (!hasSharedData && !warned) {
    warned = true;
    console.warn(`[skip] ${RSP_TESTDATA} not found: tests that need GSMA SGP.26/TS.48 test data are skipped`);
  }
  describe.skipIf(!hasSharedData)(name, fn);
}

export function sharedFile(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(join(RSP_TESTDATA, ...parts)));
}

export function sharedText(...parts: string[]): string {
  return readFileSync(join(RSP_TESTDATA, ...parts), 'utf8');
}

/** The TS.48 test profiles (SAIP DER), by file name. */
export function ts48Profiles(): { name: string; der: Uint8Array }[] {
  if (!hasSharedData) return [];
  return readdirSync(join(RSP_TESTDATA, 'ts48'))
    .filter((f) => f.endsWith('.der'))
    .sort()
    .map((name) => ({ name, der: sharedFile('ts48', name) }));
}
