/**
 * Reads the journal record by record without holding the file in memory, with the same rules
 * as Journal.read: bytes after the last newline are a torn tail (cut off by a crash, never
 * acknowledged) and are ignored; any complete line that is not JSON is corruption.
 */
import { createReadStream } from 'node:fs';
import { JournalError } from './errors.ts';
import type { JournalRecord } from './journal.ts';

export interface JournalScan {
  records: number;
  tornTail: boolean;
}

export async function scanJournal(path: string, onRecord: (r: JournalRecord) => void): Promise<JournalScan> {
  let rest = '';
  let lineNo = 0;
  let records = 0;
  const take = (line: string): void => {
    lineNo++;
    if (line === '') return;
    let r: JournalRecord;
    try {
      r = JSON.parse(line) as JournalRecord;
    } catch {
      throw new JournalError('JOURNAL_CORRUPT', `journal ${path} line ${lineNo} is not valid JSON`, {
        hint: 'the journal was edited or the disk is damaged; keep a copy and contact support before running again',
      });
    }
    records++;
    onRecord(r);
  };
  try {
    // The utf8 decoder keeps multi-byte characters split across chunks whole.
    for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 16 })) {
      const text = rest + (chunk as string);
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const line of lines) take(line);
    }
  } catch (e) {
    if (e instanceof JournalError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new JournalError(code === 'ENOENT' ? 'JOURNAL_NOT_FOUND' : 'JOURNAL_UNREADABLE', `cannot read journal ${path}: ${(e as Error).message}`, {
      hint: code === 'ENOENT' ? 'the station has not run with this configuration yet, or its "journal" folder is not this one' : 'check the file permissions',
      cause: e,
    });
  }
  return { records, tornTail: rest.length > 0 };
}
