/**
 * Reads the journal record by record without holding the file in memory, with the same rules
 * as Journal.read: bytes after the last newline are a torn tail (cut off by a crash, never
 * acknowledged) and are ignored; any complete line that is not a journal record (not JSON, not
 * an object, no positive integer `seq`, no `type`/`at` string) is corruption, named by line.
 * Sequence numbers must rise strictly; a line whose `seq` does not is listed, not dropped.
 */
import { createReadStream } from 'node:fs';
import { JournalError } from './errors.ts';

/** One complete journal line. */
export interface JournalRecord {
  /** Sequence number, assigned by the journal, strictly increasing across restarts. */
  seq: number;
  /** ISO time the record was appended. */
  at: string;
  type: string;
  [k: string]: unknown;
}

/** A record whose seq is not above every seq before it (duplicated or out of order). */
export interface SequenceProblem {
  line: number;
  seq: number;
  /** The highest seq seen on an earlier line. */
  previous: number;
}

export interface JournalScan {
  records: number;
  tornTail: boolean;
  /** The highest seq in the file (undefined when empty). */
  maxSeq: number | undefined;
  sequenceProblems: SequenceProblem[];
}

const CORRUPT_HINT = 'the journal was edited or the disk is damaged; keep a copy and contact support before running again';

/** Why `v` is not a journal record, or undefined when it is one. */
function shapeProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `is ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}, not a record object`;
  const r = v as Record<string, unknown>;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return `has no positive integer "seq" (found ${JSON.stringify(r.seq)})`;
  if (typeof r.type !== 'string' || r.type === '') return `has no "type" string`;
  if (typeof r.at !== 'string') return `has no "at" time string`;
  return undefined;
}

export async function scanJournal(path: string, onRecord: (r: JournalRecord) => void): Promise<JournalScan> {
  let rest = '';
  let lineNo = 0;
  let records = 0;
  let maxSeq: number | undefined;
  const sequenceProblems: SequenceProblem[] = [];
  const take = (line: string): void => {
    lineNo++;
    if (line === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new JournalError('JOURNAL_CORRUPT', `journal ${path} line ${lineNo} is not valid JSON`, { hint: CORRUPT_HINT, details: { line: lineNo } });
    }
    const problem = shapeProblem(v);
    if (problem) throw new JournalError('JOURNAL_CORRUPT', `journal ${path} line ${lineNo} ${problem}`, { hint: CORRUPT_HINT, details: { line: lineNo } });
    const r = v as JournalRecord;
    if (maxSeq !== undefined && r.seq <= maxSeq) sequenceProblems.push({ line: lineNo, seq: r.seq, previous: maxSeq });
    else maxSeq = r.seq;
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
    // Only file-system failures land here (records are checked above before anyone sees them).
    throw new JournalError(code === 'ENOENT' ? 'JOURNAL_NOT_FOUND' : 'JOURNAL_UNREADABLE', `cannot read journal ${path}: ${(e as Error).message}`, {
      hint: code === 'ENOENT' ? 'the station has not run with this configuration yet, or its "journal" folder is not this one' : 'check the file permissions',
      cause: e,
    });
  }
  return { records, tornTail: rest.length > 0, maxSeq, sequenceProblems };
}

/** One line per sequence problem, for reports and the station's start-up warning. */
export function describeSequenceProblem(p: SequenceProblem): string {
  return `line ${p.line}: seq ${p.seq} ${p.seq === p.previous ? 'repeats' : 'is below'} seq ${p.previous} of an earlier line`;
}
