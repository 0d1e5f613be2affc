/**
 * The bench's reader as a station slot (hardware/pcsc-slots.ts), for reprovision, which runs
 * the station's own unit runner on it.
 */
import { PcscReaderSlot } from '../hardware/pcsc-slots.ts';
import type { ExchangeRecord } from '../../transport/pcsc/pcsc-card.ts';

export interface PcscSlotHandle {
  readonly slot: PcscReaderSlot;
  readonly readerName: string;
  /** Exchanges of every connection so far. */
  readonly trace: ExchangeRecord[];
  close(): Promise<void>;
}

export async function openPcscSlot(pattern: string, opts: { waitMs?: number; slotId?: string } = {}): Promise<PcscSlotHandle> {
  const { PcscReaders } = await import('../../transport/pcsc/readers.ts');
  const readers = new PcscReaders();
  try {
    const reader = await readers.waitForReader(pattern, opts.waitMs ?? 5000);
    // Bound to the exact name found: the bench works on the reader the technician named.
    const slot = new PcscReaderSlot(opts.slotId ?? `bench:${reader.name}`, reader.name, readers, opts.waitMs ?? 5000);
    return {
      slot,
      readerName: reader.name,
      trace: slot.trace,
      async close() {
        await slot.powerOff();
        readers.close();
      },
    };
  } catch (e) {
    readers.close();
    throw e;
  }
}
