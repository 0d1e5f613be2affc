/**
 * Where the station's journal lives inside the configured journal folder. The orchestrator
 * writes it and `ifpp report` reads it, so both take the path from here.
 */
import { join } from 'node:path';
import type { StationConfig } from '../config/schema.ts';

export const JOURNAL_FILE = 'journal.ndjson';

export function journalPath(config: Pick<StationConfig, 'journal'>): string {
  return join(config.journal, JOURNAL_FILE);
}
