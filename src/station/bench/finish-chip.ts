/**
 * Minimal end-of-production step for one chip on the bench: delete the unused one-time keys
 * (SGP.41 DMF03/EUICCF03), then close FPA services (GENS13), so the device's LPA can manage it
 * (EUICCF04). Both answers are checked: a chip that refuses is reported, never assumed done.
 */
import type { FpaClient } from '../fpa/fpa-client.ts';
import { BenchError } from './bench-chip.ts';

export interface FinishResult {
  readonly keysDeleted: number;
  /** False when FPA services were already closed. */
  readonly fpaClosed: boolean;
}

export async function finishChip(fpa: FpaClient): Promise<FinishResult> {
  const before = await fpa.getFactoryInfo();
  let keysDeleted = 0;
  if (before.oneTimeKeys.some((k) => k.state === 'unused')) {
    const d = await fpa.deleteOneTimeKeys();
    if (d.result !== 'ok') throw new BenchError('BENCH_FINISH_REFUSED', `the chip refused to delete its unused one-time keys: ${d.result}`, { hint: 'FPA services may be closed already with keys left: the chip cannot be finished; report it' });
    keysDeleted = d.deleted ?? before.oneTimeKeys.filter((k) => k.state === 'unused').length;
  }
  let fpaClosed = false;
  if (before.fpaServices === 'open') {
    const c = await fpa.closeFpaServices();
    if (c !== 'ok') throw new BenchError('BENCH_FINISH_REFUSED', `the chip refused to close FPA services: ${c}`);
    fpaClosed = true;
  }
  const after = await fpa.getFactoryInfo();
  const left = after.oneTimeKeys.filter((k) => k.state === 'unused').length;
  if (left > 0 || after.fpaServices !== 'closed') {
    throw new BenchError('BENCH_FINISH_INCOMPLETE', `after finishing, the chip still reports ${left} unused key(s) and FPA services ${after.fpaServices}`, { hint: 'the chip did not do what it answered: take it out of circulation and report it' });
  }
  return { keysDeleted, fpaClosed };
}
