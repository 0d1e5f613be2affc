/**
 * Slot provider for PC/SC readers: a slot is bound to a reader name or pattern, not to the
 * reader object, so it keeps its id when USB re-enumerates the reader under another index.
 * Card insertion and removal in the reader are the slot's `inserted` / `removed` events; the
 * reader appearing and going is its source's `connected` / `disconnected`.
 */
import { EventEmitter } from 'node:events';
import type { ExchangeRecord, PcscCard } from '../../transport/pcsc/pcsc-card.ts';
import { readerMatches, type PcscReaders, type ReaderEvent } from '../../transport/pcsc/readers.ts';
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
