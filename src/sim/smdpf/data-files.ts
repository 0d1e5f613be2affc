/**
 * The batch's BPP data files: BPPs back to back in bpps-0000.bin, bpps-0001.bin, ... A BPP
 * never spans two files; a new file starts when the next BPP would take the current one past
 * the limit (1 GiB by default, docs/formats.md).
 */
import { join } from 'node:path';
import { BufferedFileWriter } from '../eum/file-writer.ts';

export const DATA_FILE_LIMIT = 2 ** 30;

export function dataFileName(n: number): string {
  return `bpps-${String(n).padStart(4, '0')}.bin`;
}

export interface ClosedFile {
  name: string;
  bytes: number;
  sha256: string;
}

export class RollingDataWriter {
  private current: BufferedFileWriter | undefined;
  private readonly done: ClosedFile[] = [];

  constructor(
    private readonly dir: string,
    private readonly limit = DATA_FILE_LIMIT,
  ) {}

  /** Appends one BPP; returns the file and offset it landed at. */
  append(bpp: Uint8Array): { file: string; offset: number } {
    if (this.current && this.current.bytes > 0 && this.current.bytes + bpp.length > this.limit) this.roll();
    if (!this.current) this.current = new BufferedFileWriter(join(this.dir, dataFileName(this.done.length)));
    const offset = this.current.bytes;
    this.current.write(bpp);
    return { file: dataFileName(this.done.length), offset };
  }

  private roll(): void {
    const w = this.current!;
    this.done.push({ name: dataFileName(this.done.length), ...w.close() });
    this.current = undefined;
  }

  /** Closes the last file; returns every data file with size and SHA-256, in order. */
  close(): ClosedFile[] {
    if (this.current) this.roll();
    return [...this.done];
  }

  abandon(): void {
    this.current?.abandon();
  }
}
