/**
 * The command named in closing hints (`reports: … report --config …`) is one the user can type:
 * `ifpp` through a global install's bin link, `npx ifpp` through a project's node_modules/.bin,
 * `node <script>` when ifpp was run by path.
 */
import { describe, expect, it } from 'vitest';
import { invokedAs } from '../../src/cli/invoked-as.ts';

describe('invokedAs', () => {
  it('names ifpp, npx ifpp or node <script> as the user ran it', () => {
    expect(invokedAs('/usr/local/bin/ifpp', '/home/op')).toBe('ifpp');
    expect(invokedAs('/home/op/line5/node_modules/.bin/ifpp', '/home/op/line5')).toBe('npx ifpp');
    expect(invokedAs('/work/ifpp-station/bin/ifpp.js', '/work/ifpp-station')).toBe('node bin/ifpp.js');
    expect(invokedAs('/work/ifpp-station/bin/ifpp.js', '/tmp')).toBe('node /work/ifpp-station/bin/ifpp.js');
  });
});
