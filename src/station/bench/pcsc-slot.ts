/**
 * A PC/SC reader as the station's UnitSlot: activate = wait for a card and connect (the reader
 * powers it and picks T=0 or T=1), powerOff = disconnect and unpower. Used by the bench's
 * reprovision, which runs the station's own unit runner on it.
 */
import type { UnitSlot } from '../hardware/card-slot.ts';
import type { ExchangeRecord, PcscCard } from '../../transport/pcsc/pcsc-card.ts';
import type { PcscReaders } from '../../transport/pcsc/readers.ts';

export interface PcscSlotHandle {
  readonly slot: UnitSlot;
  readonly readerName: string;
  /** Exchanges of every connection so far. */
  readonly trace: ExchangeRecord[];
  close(): Promise<void>;
}

export async function openPcscSlot(pattern: string, opts: { waitMs?: number; slotId?: string } = {}): Promise<PcscSlotHandle> {
  const { PcscReaders: Readers } = await import('../../transport/pcsc/readers.ts');
  const { PcscCard: Card } = await import('../../transport/pcsc/pcsc-card.ts');
  const readers: PcscReaders = new Readers();
  const wait = opts.waitMs ?? 5000;
  try {
    const reader = await readers.waitForReader(pattern, wait);
    const trace: ExchangeRecord[] = [];
    let card: PcscCard | undefined;
    const release = async () => {
      if (!card) return;
      trace.push(...card.trace);
      const c = card;
      card = undefined;
      await c.disconnect();
    };
    const slot: UnitSlot = {
      id: opts.slotId ?? `bench:${reader.name}`,
      async activate() {
        await release();
        await readers.waitForCard(reader.name, wait);
        const atr = new Uint8Array(Buffer.from(readers.list().find((r) => r.name === reader.name)?.atr ?? '', 'hex'));
        card = await Card.connect(reader, atr);
        return { atr, fi: 372, di: 1 };
      },
      apdu: {
        transmit(apdu) {
          if (!card) return Promise.reject(new Error('PC/SC slot used before activate()'));
          return card.apdu.transmit(apdu);
        },
      },
      powerOff: release,
    };
    return {
      slot,
      readerName: reader.name,
      trace,
      async close() {
        await release();
        readers.close();
      },
    };
  } catch (e) {
    readers.close();
    throw e;
  }
}
