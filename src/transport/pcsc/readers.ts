/**
 * The PC/SC readers pcscd (or WinSCard) offers, kept current from the binding's events:
 * readers come and go (USB re-enumeration), cards are inserted and removed. Readers are picked
 * by exact name or by a pattern (`*` wildcards, else a case-insensitive substring), so a
 * reader keeps its slot when it comes back under a new index.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { loadPcsc, PcscError, type PcscCardReader, type PcscLite } from './binding.ts';

export interface ReaderInfo {
  readonly name: string;
  readonly cardPresent: boolean;
  /** ATR as the reader last reported it (hex), when a card is present. */
  readonly atr?: string | undefined;
}

export type ReaderEvent =
  | { kind: 'reader-added'; name: string }
  | { kind: 'reader-removed'; name: string }
  | { kind: 'card-inserted'; name: string; atr: string | undefined }
  | { kind: 'card-removed'; name: string };

interface Tracked {
  reader: PcscCardReader;
  present: boolean;
  atr: string | undefined;
  /** The reader's first status has arrived (until then `present` is a guess). */
  known: boolean;
}

/** Does `name` match the reader pattern `pattern`? */
export function readerMatches(name: string, pattern: string): boolean {
  if (name === pattern) return true;
  if (pattern.includes('*')) {
    const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
    return re.test(name);
  }
  return name.toLowerCase().includes(pattern.toLowerCase());
}

/** Events: 'event' (ReaderEvent). */
export class PcscReaders extends EventEmitter {
  private readonly pcsc: PcscLite;
  private readonly tracked = new Map<string, Tracked>();
  private failure: PcscError | undefined;
  private closed = false;

  constructor() {
    super();
    const factory = loadPcsc();
    // pcsc-lite waits for its daemon forever, silently, and its thread then keeps the process
    // alive: on Linux look for the daemon's socket first and say what is wrong instead.
    const socket = process.env.PCSCLITE_CSOCK_NAME ?? '/run/pcscd/pcscd.comm';
    if (process.platform === 'linux' && !existsSync(socket)) {
      throw new PcscError('PCSC_UNAVAILABLE', `pcscd is not running (no socket at ${socket})`, {
        hint: 'start it: `systemctl start pcscd` (or `pcscd -f` to watch it); install it with `apt-get install pcscd`',
      });
    }
    this.pcsc = factory();
    this.pcsc.on('error', (e: unknown) => {
      const msg = e instanceof Error ? e.message : String(e);
      this.failure = new PcscError('PCSC_UNAVAILABLE', `PC/SC service not reachable: ${msg}`, {
        hint: 'start pcscd (`systemctl start pcscd`, or `pcscd -f` to watch it); on Windows the Smart Card service must run',
      });
      this.emit('change');
    });
    this.pcsc.on('reader', (r: PcscCardReader) => this.track(r));
  }

  private track(r: PcscCardReader): void {
    const t: Tracked = { reader: r, present: false, atr: undefined, known: false };
    this.tracked.set(r.name, t);
    r.on('error', () => undefined); // per-reader status errors surface on the next command
    r.on('status', (s: { state: number; atr?: Buffer }) => {
      // A card pcscd could not power (MUTE) is still in the reader: connecting retries the power-up.
      const present = (s.state & r.SCARD_STATE_PRESENT) !== 0;
      const atr = present && s.atr && s.atr.length > 0 ? s.atr.toString('hex') : undefined;
      t.known = true;
      if (present !== t.present) {
        t.present = present;
        t.atr = atr;
        this.emit('event', present ? { kind: 'card-inserted', name: r.name, atr } : { kind: 'card-removed', name: r.name });
      } else if (atr) t.atr = atr;
      this.emit('change');
    });
    r.on('end', () => {
      if (this.tracked.get(r.name) === t) this.tracked.delete(r.name);
      if (t.present) this.emit('event', { kind: 'card-removed', name: r.name });
      this.emit('event', { kind: 'reader-removed', name: r.name });
      this.emit('change');
    });
    this.emit('event', { kind: 'reader-added', name: r.name });
    this.emit('change');
  }

  list(): ReaderInfo[] {
    return [...this.tracked.values()].map((t) => ({ name: t.reader.name, cardPresent: t.present, atr: t.atr }));
  }

  reader(name: string): PcscCardReader | undefined {
    return this.tracked.get(name)?.reader;
  }

  cardPresent(name: string): boolean {
    return this.tracked.get(name)?.present ?? false;
  }

  /** Has the named reader reported its state yet (card in or out)? */
  statusKnown(name: string): boolean {
    return this.tracked.get(name)?.known ?? false;
  }

  /** The one reader matching `pattern`, or undefined; several matches are an error. */
  find(pattern: string): PcscCardReader | undefined {
    const exact = this.tracked.get(pattern);
    if (exact) return exact.reader;
    const hits = [...this.tracked.values()].filter((t) => readerMatches(t.reader.name, pattern));
    if (hits.length > 1) {
      throw new PcscError('PCSC_READER_AMBIGUOUS', `reader pattern "${pattern}" matches ${hits.length} readers: ${hits.map((h) => `"${h.reader.name}"`).join(', ')}`, {
        hint: 'give the exact reader name (ifpp bench readers lists them)',
      });
    }
    return hits[0]?.reader;
  }

  /** Resolves when `test` gives a value (checked now and after every change), or fails after `ms`. */
  until<T>(test: () => T | undefined, ms: number, onTimeout: () => PcscError = () => new PcscError('PCSC_TIMEOUT', `no change to wait for after ${ms} ms`)): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.failure) {
          done();
          reject(this.failure);
          return true;
        }
        let v: T | undefined;
        try {
          v = test();
        } catch (e) {
          done();
          reject(e);
          return true;
        }
        if (v === undefined) return false;
        done();
        resolve(v);
        return true;
      };
      // The binding announces the readers of one change one by one: look once all are in.
      const onChange = () => void setImmediate(check);
      const timer = setTimeout(() => {
        done();
        reject(onTimeout());
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.off('change', onChange);
      };
      this.on('change', onChange);
      check();
    });
  }

  /** Waits (up to `ms`) for a reader matching `pattern`. */
  waitForReader(pattern: string, ms = 3000): Promise<PcscCardReader> {
    return this.until(
      () => this.find(pattern),
      ms,
      () => {
        const names = this.list().map((r) => `"${r.name}"`);
        return new PcscError('PCSC_READER_NOT_FOUND', `no PC/SC reader matches "${pattern}" (readers: ${names.length ? names.join(', ') : 'none'})`, {
          hint: 'plug the reader in, check `pcsc_scan`, or give another --reader',
        });
      },
    );
  }

  /** Waits (up to `ms`) for a card in the named reader. */
  waitForCard(name: string, ms = 3000): Promise<void> {
    return this.until(
      () => (this.cardPresent(name) ? true : undefined),
      ms,
      () => new PcscError('PCSC_NO_CARD', `no card in reader "${name}"`, { hint: 'insert the chip (or the device) into the reader' }),
    ).then(() => undefined);
  }

  /** Waits for the reader list to settle after start: the binding reports all readers at once. */
  async settle(ms = 1000): Promise<ReaderInfo[]> {
    if (this.tracked.size === 0) {
      await this.until(() => (this.tracked.size > 0 ? true : undefined), ms, () => new PcscError('PCSC_NO_READERS', 'no PC/SC readers')).catch((e) => {
        if (!(e instanceof PcscError) || e.code !== 'PCSC_NO_READERS') throw e;
      });
    }
    // Status of each reader arrives right after it is announced.
    await new Promise((r) => setImmediate(r));
    return this.list();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.tracked.values()) t.reader.close();
    this.tracked.clear();
    this.pcsc.close();
  }
}
