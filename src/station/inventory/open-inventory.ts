/**
 * The one place a validated config becomes the station's inventory: the local store (default;
 * no database code is even loaded) or the line's PostgreSQL database with its outbox.
 */
import type { StationConfig } from '../config/schema.ts';
import type { JournalRecord } from '../journal/journal.ts';
import { BppStore } from '../store/bpp-store.ts';
import type { Inventory } from './inventory.ts';
import { LocalInventory } from './local-inventory.ts';

export interface OpenInventoryContext {
  /** The station journal (the line's outbox reads it). */
  journalPath: string;
  /** What the journal already held (a claim whose unit it never names is given back). */
  existing: readonly JournalRecord[];
}

export async function openInventory(config: StationConfig, ctx: OpenInventoryContext): Promise<Inventory> {
  const inv = config.inventory ?? { kind: 'local' };
  if (inv.kind === 'local') return new LocalInventory(BppStore.open(config.store));
  const { openLineInventory } = await import('../../line/station-line.ts');
  return openLineInventory(inv, { storeDir: config.store, ...ctx });
}
