/**
 * Updates a generated block of docs/performance.md (between `<!-- NAME:begin -->` and
 * `<!-- NAME:end -->`), so re-running a benchmark with --write refreshes its figures and leaves
 * the prose around them alone. Used by bench-station.ts and bench-store.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Terminal report to Markdown: tables, blank lines and headings ("Produced by", "...:") stay, every other line becomes a list item. */
function markdown(body: string): string {
  return body
    .trimEnd()
    .split('\n')
    .map((l) => (l === '' || l.startsWith('|') || l.startsWith('Produced by') || l.endsWith(':') ? l : `- ${l}`))
    .join('\n');
}

export function writeDocBlock(root: string, name: string, body: string): string {
  const doc = join(root, 'docs', 'performance.md');
  let text = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Performance\n';
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${begin}\n${markdown(body)}\n${end}`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  text = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(doc, text);
  return doc;
}
