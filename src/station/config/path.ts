/**
 * Config paths as problems print them: `slots[3].power`, `board.clamp.closedSensor`.
 * The JSON locator and the validator both key on this one format.
 */
export type PathSegment = string | number;

const IDENT = /^[A-Za-z_$][\w$]*$/;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
