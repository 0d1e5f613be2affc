/**
 * A report file written piece by piece (buffered) under a temporary name and given its final
 * name only once complete, so a crash mid-write never leaves a truncated report that looks
 * finished, and an existing report is never overwritten (a second run in the same second gets
 * a "-2" suffix).
 */
import { link, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { IfppError } from '../../core/errors.ts';
import { REPORT_DIR_MODE, REPORT_FILE_MODE } from '../file-modes.ts';

export class ReportError extends IfppError {}

const FLUSH_AT = 1 << 16;

/** 2025-03-01T10:15:00.123Z -> 20250301T101500Z (sortable, valid on every file system). */
export function fileStamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

export class ReportFile {
  private buf: string[] = [];
  private size = 0;

  private constructor(
    private readonly fh: FileHandle,
    private readonly tmp: string,
    private readonly dir: string,
    private readonly base: string,
    private readonly ext: string,
  ) {}

  /** Starts `<dir>/<base><ext>` (the name may get a suffix at commit). */
  static async create(dir: string, base: string, ext: string): Promise<ReportFile> {
    try {
      await mkdir(dir, { recursive: true, mode: REPORT_DIR_MODE });
      const tmp = join(dir, `.${base}${ext}.${process.pid}.tmp`);
      const fh = await open(tmp, 'w', REPORT_FILE_MODE);
      return new ReportFile(fh, tmp, dir, base, ext);
    } catch (e) {
      throw new ReportError('REPORT_WRITE_FAILED', `cannot write reports in ${dir}: ${(e as Error).message}`, {
        hint: 'check that the reports folder exists or can be created, and is writable',
        cause: e,
      });
    }
  }

  async write(text: string): Promise<void> {
    this.buf.push(text);
    this.size += text.length;
    if (this.size >= FLUSH_AT) await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.buf.length) return;
    const text = this.buf.join('');
    this.buf = [];
    this.size = 0;
    await this.fh.write(text);
  }

  /** Flushes, syncs and moves the file to its final name; returns that path. */
  async commit(): Promise<string> {
    try {
      await this.flush();
      await this.fh.datasync();
      await this.fh.close();
      for (let n = 1; ; n++) {
        const path = join(this.dir, `${this.base}${n === 1 ? '' : `-${n}`}${this.ext}`);
        try {
          await link(this.tmp, path); // fails if the name is taken: never overwrite a report
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') continue;
          // File systems without hard links: check, then rename.
          if (existsSync(path)) continue;
          await rename(this.tmp, path);
          return path;
        }
        await unlink(this.tmp);
        return path;
      }
    } catch (e) {
      await this.abort();
      throw new ReportError('REPORT_WRITE_FAILED', `cannot write ${this.base}${this.ext} in ${this.dir}: ${(e as Error).message}`, {
        hint: 'check free disk space and permissions of the reports folder',
        cause: e,
      });
    }
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await unlink(this.tmp).catch(() => undefined);
  }
}
