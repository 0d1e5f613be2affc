/**
 * Buffered, hashing file writer for the simulators' big outputs (NDJSON lines, BPP data
 * files): bytes are gathered into chunks and written with one system call per chunk, and the
 * SHA-256 is computed on the way so nothing has to be read back.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

export const DEFAULT_CHUNK_BYTES = 4 << 20;

export class BufferedFileWriter {
  private fd: number;
  private buf: Buffer;
  private fill = 0;
  private hash: Hash = createHash('sha256');
  /** Bytes written so far (buffered ones included). */
  bytes = 0;

  constructor(
    readonly path: string,
    opts: { chunkBytes?: number; mode?: number } = {},
  ) {
    this.fd = openSync(path, 'w', opts.mode ?? 0o644);
    this.buf = Buffer.allocUnsafe(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  }

  write(data: Uint8Array): void {
    this.hash.update(data);
    this.bytes += data.length;
    if (data.length >= this.buf.length) {
      this.flush();
      writeAll(this.fd, data);
      return;
    }
    if (this.fill + data.length > this.buf.length) this.flush();
    this.buf.set(data, this.fill);
    this.fill += data.length;
  }

  writeLine(text: string): void {
    this.write(Buffer.from(text + '\n', 'utf8'));
  }

  private flush(): void {
    if (this.fill) writeAll(this.fd, this.buf.subarray(0, this.fill));
    this.fill = 0;
  }

  /** Flushes, syncs and closes; returns the file's SHA-256 (hex) and size. */
  close(): { bytes: number; sha256: string } {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  /** Closes without syncing (on an error path; the file is about to be removed). */
  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  let o = 0;
  while (o < data.length) o += writeSync(fd, data, o, data.length - o);
}
