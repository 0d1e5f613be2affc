/**
 * One chip on the repair bench: in a PC/SC reader picked by name or pattern, ISD-R selected,
 * with the station's ES10 client (FpaClient) and the LPA functions (LpaClient) over it. Every
 * exchange is kept for `ifpp bench trace`.
 */
import { IfppError } from '../../core/errors.ts';
import { FpaClient } from '../fpa/fpa-client.ts';
import type { EuiccDialect } from '../fpa/dialect.ts';
import { LpaClient } from './lpa-client.ts';
import type { ExchangeRecord } from '../../transport/pcsc/pcsc-card.ts';

export class BenchError extends IfppError {}

export interface BenchChip {
  /** Where the chip is, for messages ("reader \"…\""). */
  readonly where: string;
  readonly readerName: string;
  readonly atr: Uint8Array;
  readonly protocol: string;
  readonly fpa: FpaClient;
  readonly lpa: LpaClient;
  readonly trace: readonly ExchangeRecord[];
  close(): Promise<void>;
}

export interface OpenReaderOptions {
  /** How long to wait for the reader and the card, ms (default 5000). */
  readonly waitMs?: number;
  readonly dialect?: EuiccDialect;
  readonly blockSize?: number;
}

/** Opens the chip in the PC/SC reader matching `pattern`. The PC/SC modules load only here. */
export async function openReaderChip(pattern: string, opts: OpenReaderOptions = {}): Promise<BenchChip> {
  const { PcscReaders } = await import('../../transport/pcsc/readers.ts');
  const { PcscCard } = await import('../../transport/pcsc/pcsc-card.ts');
  const readers = new PcscReaders();
  try {
    const wait = opts.waitMs ?? 5000;
    const reader = await readers.waitForReader(pattern, wait);
    await readers.waitForCard(reader.name, wait);
    const atrHex = readers.list().find((r) => r.name === reader.name)?.atr ?? '';
    const card = await PcscCard.connect(reader, new Uint8Array(Buffer.from(atrHex, 'hex')));
    const fpa = new FpaClient(card.apdu, { ...(opts.dialect ? { dialect: opts.dialect } : {}), ...(opts.blockSize ? { blockSize: opts.blockSize } : {}) });
    try {
      await fpa.selectIsdR();
    } catch (e) {
      await card.disconnect();
      throw e;
    }
    return {
      where: `reader "${reader.name}"`,
      readerName: reader.name,
      atr: card.atr,
      protocol: card.protocolName,
      fpa,
      lpa: new LpaClient(fpa),
      trace: card.trace,
      async close() {
        await card.disconnect();
        readers.close();
      },
    };
  } catch (e) {
    readers.close();
    throw e;
  }
}
