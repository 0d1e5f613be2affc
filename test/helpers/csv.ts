/**
 * RFC 4180 reader for test assertions on the unit CSV (quoted fields, doubled quotes, CRLF):
 * rows as objects keyed by CSV_COLUMNS, the header and every row's width checked.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { CSV_COLUMNS } from '../../src/station/report/csv.ts';

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (f += '"'), (i += 2);
      else if (c === '"') (quoted = false), i++;
      else (f += c), i++;
    } else if (c === '"') (quoted = true), i++;
    else if (c === ',') row.push(f), (f = ''), i++;
    else if (c === '\r' && text[i + 1] === '\n') row.push(f), rows.push(row), (row = []), (f = ''), (i += 2);
    else (f += c), i++;
  }
  expect(f === '' && row.length === 0, 'CSV must end with CRLF').toBe(true);
  return rows;
}

export function csvObjects(path: string): Array<Record<string, string>> {
  const [head, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  expect(head).toEqual([...CSV_COLUMNS]);
  return rows.map((r) => {
    expect(r.length).toBe(CSV_COLUMNS.length);
    return Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, r[i]!]));
  });
}
