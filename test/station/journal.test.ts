import { describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Journal, JournalError, type AnyRecord } from '../../src/station/journal/journal.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'ifpp-journal-'));

describe('Journal', () => {
  it('appends records with increasing seq and reads them back after reopen', async () => {
    const path = join(dir(), 'j.ndjson');
    const { journal, existing } = await Journal.open<AnyRecord>(path);
    expect(existing.records).toEqual([]);
    const recs = await Promise.all(Array.from({ length: 50 }, (_, i) => journal.append('step', { i })));
    expect(recs.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await journal.close();
    const again = await Journal.open<AnyRecord>(path);
    expect(again.existing.records.map((r) => r.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const next = await again.journal.append('later', {});
    expect(next.seq).toBe(51);
    await again.journal.close();
  });

  it('writes a record nobody waits for at once and syncs it with the next record that is waited for', async () => {
    const path = join(dir(), 'j.ndjson');
    const { journal } = await Journal.open<AnyRecord>(path);
    await journal.append('unit.start', { unit: 'u1' }, { sync: false });
    await journal.append('unit.identified', { unit: 'u1' }, { sync: false });
    // Written (a killed process keeps it), without an fdatasync of its own.
    expect(readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l).type)).toEqual(['unit.start', 'unit.identified']);
    expect(journal.syncs).toBe(0);
    await journal.append('bpp.chosen', { unit: 'u1' });
    expect(journal.syncs).toBe(1);
    await journal.append('bf23.sending', { unit: 'u1' });
    expect(journal.syncs).toBe(2);
    await journal.close();
    expect((await Journal.read(path)).records.map((r) => [r.seq, r.type])).toEqual([
      [1, 'unit.start'],
      [2, 'unit.identified'],
      [3, 'bpp.chosen'],
      [4, 'bf23.sending'],
    ]);
  });

  it('drops a torn last line (crash mid-write) and keeps appending cleanly', async () => {
    const path = join(dir(), 'j.ndjson');
    const { journal } = await Journal.open<AnyRecord>(path);
    await journal.append('a', {});
    await journal.close();
    appendFileSync(path, '{"seq":2,"at":"x","type":"b"'); // cut off before the newline
    const { journal: j2, existing } = await Journal.open<AnyRecord>(path);
    expect(existing.tornTail).toBe(true);
    expect(existing.records.map((r) => r.type)).toEqual(['a']);
    await j2.append('c', {});
    await j2.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l).type);
    expect(lines).toEqual(['a', 'c']);
  });

  it('refuses a journal corrupted in the middle, with a typed error', async () => {
    const path = join(dir(), 'j.ndjson');
    writeFileSync(path, '{"seq":1,"at":"x","type":"a"}\nnot json\n{"seq":3,"at":"x","type":"c"}\n');
    await expect(Journal.read(path)).rejects.toBeInstanceOf(JournalError);
    await expect(Journal.read(path)).rejects.toMatchObject({ code: 'JOURNAL_CORRUPT' });
  });

  it.each([
    ['null', 'null', /line 2 is null/],
    ['a number', '42', /line 2 is number/],
    ['an array', '[1,2]', /line 2 is an array/],
    ['a record without seq', '{"at":"x","type":"b"}', /line 2 has no positive integer "seq"/],
    ['a record with a string seq', '{"seq":"2","at":"x","type":"b"}', /line 2 has no positive integer "seq"/],
    ['a record without type', '{"seq":2,"at":"x"}', /line 2 has no "type"/],
    ['a record without at', '{"seq":2,"type":"b"}', /line 2 has no "at"/],
  ])('refuses a line that is %s with JOURNAL_CORRUPT naming the file and line', async (_what, line, message) => {
    const path = join(dir(), 'j.ndjson');
    writeFileSync(path, `{"seq":1,"at":"x","type":"a"}\n${line}\n{"seq":3,"at":"x","type":"c"}\n`);
    const e = await Journal.read(path).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(JournalError);
    expect(e).toMatchObject({ code: 'JOURNAL_CORRUPT', message: expect.stringMatching(message) });
    expect((e as Error).message).toContain(path);
  });

  it('reports duplicate and decreasing sequence numbers, and continues above the highest seq', async () => {
    const path = join(dir(), 'j.ndjson');
    const recs = [1, 2, 2, 5, 3, 6].map((seq, i) => JSON.stringify({ seq, at: 'x', type: `t${i}` }));
    writeFileSync(path, recs.join('\n') + '\n');
    const { journal, existing } = await Journal.open<AnyRecord>(path);
    expect(existing.records.length).toBe(6);
    expect(existing.sequenceProblems).toEqual([
      { line: 3, seq: 2, previous: 2 },
      { line: 5, seq: 3, previous: 5 },
    ]);
    expect((await journal.append('next', {})).seq).toBe(7);
    await journal.close();
    const clean = await Journal.read(path);
    expect(clean.sequenceProblems.length).toBe(2); // the two old lines stay listed; the new one is fine
  });

  it('creates the journal owner read/write only, in a folder only the owner can enter', async () => {
    const folder = join(dir(), 'journal');
    const path = join(folder, 'j.ndjson');
    const { journal } = await Journal.open<AnyRecord>(path);
    await journal.append('a', {});
    await journal.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
  });

  it('keeps every acknowledged record when the writer is killed with SIGKILL', async () => {
    const path = join(dir(), 'j.ndjson');
    const ackFile = path + '.acks';
    // The child appends forever and prints each acknowledged seq; we kill it mid-stream.
    const script = `
      import { Journal } from ${JSON.stringify(new URL('../../src/station/journal/journal.ts', import.meta.url).pathname)};
      const { journal } = await Journal.open(${JSON.stringify(path)});
      for (let i = 0; ; i++) {
        const recs = await Promise.all([journal.append('x', { i }), journal.append('y', { i })]);
        process.stdout.write(recs.map((r) => r.seq).join('\\n') + '\\n');
      }`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        acked += d.toString();
        if (acked.split('\n').length > 200) resolve();
      });
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    writeFileSync(ackFile, acked);
    const ackedSeqs = acked.split('\n').filter(Boolean).map(Number);
    const { records } = await Journal.read(path);
    const onDisk = new Set(records.map((r) => r.seq));
    for (const s of ackedSeqs) expect(onDisk.has(s)).toBe(true);
    // Sequence numbers on disk are contiguous from 1: nothing lost in the middle.
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: records.length }, (_, i) => i + 1));
  });
});
