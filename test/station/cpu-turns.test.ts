/**
 * The units' CPU-bound jobs (src/station/orchestrator/unit/cpu-turns.ts) run one per turn of
 * the event loop: what a job's turn lets in (I/O, other immediates) runs before the next job,
 * where one setImmediate per job ran them all back to back.
 */
import { describe, expect, it } from 'vitest';
import { onItsOwnTurn } from '../../src/station/orchestrator/unit/cpu-turns.ts';

describe('one CPU job per event-loop turn', () => {
  it('runs queued jobs on successive turns, with what each turn let in between them', async () => {
    const order: string[] = [];
    const jobs = [1, 2, 3].map((n) =>
      onItsOwnTurn(() => {
        order.push(`job ${n}`);
        // Stands for I/O that became ready while the job ran: it is served before the next job.
        setImmediate(() => order.push(`after job ${n}`));
        return n;
      }),
    );
    expect(order).toEqual([]); // never in the caller's turn
    expect(await Promise.all(jobs)).toEqual([
      { ok: true, value: 1 },
      { ok: true, value: 2 },
      { ok: true, value: 3 },
    ]);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['job 1', 'after job 1', 'job 2', 'after job 2', 'job 3', 'after job 3']);
  });

  it('settles a job that throws as a failure and goes on with the next', async () => {
    const boom = new Error('CERT.EUICC does not verify');
    const [a, b] = await Promise.all([
      onItsOwnTurn(() => {
        throw boom;
      }),
      onItsOwnTurn(() => 'next'),
    ]);
    expect(a).toEqual({ ok: false, error: boom });
    expect(b).toEqual({ ok: true, value: 'next' });
  });
});
