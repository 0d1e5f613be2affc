/**
 * Bounded-memory sort of the batch index by (EID, one-time public key), as docs/formats.md
 * requires. Keys are the 32 EID digits followed by the lower-case hex key, so string order is
 * byte order. Up to `maxInMemory` lines are held; beyond that, sorted runs go to temporary
 * files and are merged. The EUM tool writes chips in EID order, so in practice the input is
 * already sorted; the sort is there so that any other eUICC data still gives a valid index.
 * Equal keys (the same one-time key twice) are refused: one key loads one profile (GENS08).
 */
import { createReadStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BufferedFileWriter } from '../eum/file-writer.ts';
import { SmdpfError } from './errors.ts';

export const DEFAULT_SORT_LINES = 100_000;

interface Item {
  key: string;
  line: string;
}

const byKey = (a: Item, b: Item) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export class IndexSorter {
  private buf: Item[] = [];
  private runs: string[] = [];
  private lastKey: string | undefined;
  /** True while every key arrived after the one before it. */
  inOrder = true;
  count = 0;

  constructor(
    private readonly tmpDir: string,
    private readonly maxInMemory = DEFAULT_SORT_LINES,
  ) {
    if (maxInMemory < 1) throw new SmdpfError('SMDPF_INTERNAL', 'index sort needs room for at least one line');
  }

  add(key: string, line: string): void {
    if (this.lastKey !== undefined && key <= this.lastKey) this.inOrder = false;
    this.lastKey = key;
    this.buf.push({ key, line });
    this.count++;
    if (this.buf.length >= this.maxInMemory) this.spill();
  }

  private spill(): void {
    if (!this.inOrder) this.buf.sort(byKey);
    const path = join(this.tmpDir, `index-run-${this.runs.length}.tmp`);
    const w = new BufferedFileWriter(path);
    // A tab never occurs unescaped in JSON text, so it separates the key from the line.
    for (const it of this.buf) w.writeLine(`${it.key}\t${it.line}`);
    w.close();
    this.runs.push(path);
    this.buf = [];
  }

  /** Emits every line in key order, refusing duplicate keys; removes the temporary files. */
  async finish(emit: (line: string) => void): Promise<void> {
    let prev: string | undefined;
    const out = (it: Item) => {
      if (it.key === prev) {
        throw new SmdpfError('SMDPF_DUPLICATE_KEY', `EID ${it.key.slice(0, 32)} with one-time key ${it.key.slice(32, 48)}… occurs twice`, {
          hint: 'a one-time key may be bound to one profile only (SGP.41 GENS08); check the eUICC data for repeated chips or keys',
        });
      }
      prev = it.key;
      emit(it.line);
    };
    try {
      if (this.runs.length === 0) {
        if (!this.inOrder) this.buf.sort(byKey);
        for (const it of this.buf) out(it);
        return;
      }
      if (this.buf.length) this.spill();
      await mergeRuns(this.runs, out);
    } finally {
      this.buf = [];
      for (const r of this.runs) rmSync(r, { force: true });
    }
  }
}

async function mergeRuns(paths: string[], out: (it: Item) => void): Promise<void> {
  const readers = paths.map((p) => createInterface({ input: createReadStream(p), crlfDelay: Infinity })[Symbol.asyncIterator]());
  const parse = (text: string): Item => {
    const tab = text.indexOf('\t');
    return { key: text.slice(0, tab), line: text.slice(tab + 1) };
  };
  const heads: (Item | undefined)[] = [];
  try {
    for (const r of readers) {
      const n = await r.next();
      heads.push(n.done ? undefined : parse(n.value));
    }
    // Runs are few (lines / maxInMemory), so a linear scan for the smallest head is enough.
    for (;;) {
      let min = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h && (min < 0 || h.key < heads[min]!.key)) min = i;
      }
      if (min < 0) return;
      out(heads[min]!);
      const n = await readers[min]!.next();
      heads[min] = n.done ? undefined : parse(n.value);
    }
  } finally {
    for (const r of readers) await r.return?.();
  }
}
