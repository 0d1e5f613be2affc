/**
 * Slot provider for PC/SC readers: a slot is bound to a reader name or pattern, not to the
 * reader object, so it keeps its id when USB re-enumerates the reader under another index.
 * Card insertion and removal in the reader are the slot's `inserted` / `removed` events; the
 * reader appearing and going is its source's `connected` / `disconnected`.
 */
import { EventEmitter } from 'node:events';
import { PcscError } from '../../transport/pcsc/binding.ts';
import type { ExchangeRecord, PcscCard } from '../../transport/pcsc/pcsc-card.ts';
import { PcscReaders, readerMatches, type ReaderEvent } from '../../transport/pcsc/readers.ts';
import type { StationConfig } from '../config/schema.ts';
import type { ActivatedCard, CardSlot, CardSlotEvents, SlotSource, SlotSourceEvents } from './card-slot.ts';

export class PcscReaderSource extends EventEmitter<SlotSourceEvents> implements SlotSource {
  constructor(
    readonly id: string,
    readonly port: string,
    readers: PcscReaders,
  ) {
    super();
    readers.on('event', (e: ReaderEvent) => {
      if (!readerMatches(e.name, port)) return;
      if (e.kind === 'reader-added') this.emit('connected', {});
      if (e.kind === 'reader-removed') this.emit('disconnected', { reason: `reader "${e.name}" went away` });
    });
  }

  get firmware(): string | undefined {
    return undefined;
  }
}

export class PcscReaderSlot extends EventEmitter<CardSlotEvents> implements CardSlot {
  private card: PcscCard | undefined;
  /** Exchanges of every connection so far (the bench's trace). */
  readonly trace: ExchangeRecord[] = [];
  readonly apdu = {
    transmit: (apdu: Uint8Array) => {
      if (!this.card) return Promise.reject(new Error(`slot ${this.id}: APDU before activate()`));
      return this.card.apdu.transmit(apdu);
    },
  };

  constructor(
    readonly id: string,
    /** Reader name or pattern (see readerMatches). */
    readonly pattern: string,
    private readonly readers: PcscReaders,
    private readonly waitMs = 3000,
  ) {
    super();
    readers.on('event', (e: ReaderEvent) => {
      if (!readerMatches(e.name, pattern)) return;
      if (e.kind === 'card-inserted') this.emit('inserted');
      if (e.kind === 'card-removed') this.emit('removed');
    });
  }

  /** The reader's current name, once it is there. */
  get readerName(): string | undefined {
    try {
      return this.readers.find(this.pattern)?.name;
    } catch {
      return undefined;
    }
  }

  async present(): Promise<boolean> {
    const name = this.readerName;
    return name !== undefined && this.readers.cardPresent(name);
  }

  async activate(): Promise<ActivatedCard> {
    await this.powerOff();
    const reader = await this.readers.waitForReader(this.pattern, this.waitMs);
    await this.readers.waitForCard(reader.name, this.waitMs);
    const atr = new Uint8Array(Buffer.from(this.readers.list().find((r) => r.name === reader.name)?.atr ?? '', 'hex'));
    const { PcscCard: Card } = await import('../../transport/pcsc/pcsc-card.ts');
    this.card = await Card.connect(reader, atr);
    // The reader negotiates the transmission parameters itself: report the defaults.
    return { atr, fi: 372, di: 1 };
  }

  async powerOff(): Promise<void> {
    const c = this.card;
    if (!c) return;
    this.card = undefined;
    this.trace.push(...c.trace);
    await c.disconnect();
  }
}

export interface PcscSlots {
  slots: Map<string, CardSlot>;
  sources: PcscReaderSource[];
  close(): Promise<void>;
}

/**
 * The reader slots of a station config: one PC/SC context for all of them, every configured
 * reader found (and its card state known) before the station starts, each slot bound to its
 * reader's name or pattern. A reader that is not there, a pattern that matches several readers,
 * or two configured readers that are one reader stop the start with a coded error.
 */
export async function openPcscSlots(config: StationConfig, opts: { waitMs?: number } = {}): Promise<PcscSlots> {
  const readers = config.readers ?? [];
  const waitMs = opts.waitMs ?? 5000;
  const pcsc = new PcscReaders();
  try {
    const found = await pcsc.until(
      () => {
        const names = readers.map((r) => pcsc.find(r.name)?.name);
        return names.every((n) => n !== undefined && pcsc.statusKnown(n)) ? (names as string[]) : undefined;
      },
      waitMs,
      () => {
        const missing = readers.filter((r) => {
          try {
            return pcsc.find(r.name) === undefined;
          } catch {
            return false;
          }
        });
        const have = pcsc.list().map((r) => `"${r.name}"`);
        return new PcscError(
          'PCSC_READER_NOT_FOUND',
          `no PC/SC reader matches ${missing.map((r) => `readers "${r.id}" ("${r.name}")`).join(', ') || 'every configured reader'} after ${waitMs} ms (readers: ${have.length ? have.join(', ') : 'none'})`,
          { hint: 'plug the reader in (check it with `pcsc_scan` or `ifpp bench readers`), or fix its "name" in the config' },
        );
      },
    );
    const owner = new Map<string, string>();
    found.forEach((name, i) => {
      const id = readers[i]!.id;
      const other = owner.get(name);
      if (other !== undefined) {
        throw new PcscError('PCSC_READER_SHARED', `readers "${other}" and "${id}" both match the PC/SC reader "${name}"`, {
          hint: 'a reader holds one card: give each configured reader a name that matches its own reader only',
        });
      }
      owner.set(name, id);
    });
    const byId = new Map(readers.map((r) => [r.id, r]));
    const slots = new Map<string, CardSlot>();
    for (const s of config.slots) {
      const r = s.reader === undefined ? undefined : byId.get(s.reader);
      if (s.enabled && r) slots.set(s.id, new PcscReaderSlot(s.id, r.name, pcsc, waitMs));
    }
    const sources = readers.map((r) => new PcscReaderSource(r.id, r.name, pcsc));
    return {
      slots,
      sources,
      async close() {
        await Promise.allSettled([...slots.values()].map((s) => s.powerOff()));
        pcsc.close();
      },
    };
  } catch (e) {
    pcsc.close();
    throw e;
  }
}
