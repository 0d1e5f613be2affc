/**
 * The bench's `finish`: the shared finishing of one chip (fpa/finish-chip.ts, the station's
 * finish stage uses the same), doing only the steps the chip still needs, and checking the
 * chip's factory info afterwards.
 */
import type { FpaClient } from '../fpa/fpa-client.ts';
import { finishChip as finishOneChip, type FinishResult } from '../fpa/finish-chip.ts';

export type { FinishResult };

export async function finishChip(fpa: FpaClient): Promise<FinishResult> {
  const before = await fpa.getFactoryInfo();
  const unused = before.oneTimeKeys.filter((k) => k.state === 'unused').length;
  const r = await finishOneChip(fpa, { deleteUnusedKeys: unused > 0, closeFpaServices: before.fpaServices === 'open', verify: true });
  // Chips that do not count what they deleted: the factory info said how many there were.
  return { keysDeleted: unused > 0 && r.keysDeleted === 0 ? unused : r.keysDeleted, fpaClosed: r.fpaClosed };
}
