/**
 * The package's licence as users see it: package.json's `license` names Apache-2.0 and the
 * LICENSE file at the top holds that licence's text (npm ships LICENSE whatever `files` says;
 * the install test checks it is in the tarball).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

describe('licence', () => {
  it('LICENSE holds the licence package.json names', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license?: string };
    expect(pkg.license).toBe('Apache-2.0');
    expect(existsSync(join(ROOT, 'LICENSE')), 'LICENSE is missing at the top of the repository').toBe(true);
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(text.slice(0, 200)).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(text).toContain('END OF TERMS AND CONDITIONS');
  });
});
