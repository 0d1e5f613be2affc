/**
 * One simulated station of the line benchmark, in its own process: `slots` concurrent slot
 * loops, each taking `claims` BPPs the way the unit runner does (claim, then the final
 * settlement), through the station's own PgInventory, timing each claim.
 *
 *   node --import tsx scripts/bench-line-child.ts --url URL --station ID --slots 16 --claims 50 --eid-from N [--pace MS]
 *
 * Prints one JSON line: claim latencies (ms; all, and those after each slot's first), settle
 * latencies, wall time.
 */
import { parseArgs } from 'node:util';
import { PgInventory } from '../src/line/pg-inventory.ts';
import { BppState } from '../src/station/store/bpp-store.ts';
import { benchEid, benchOtpk } from './bench-line-data.ts';
import { mulberry32 } from '../src/sim/seeded-random.ts';

const { values } = parseArgs({
  options: { url: { type: 'string' }, station: { type: 'string' }, slots: { type: 'string' }, claims: { type: 'string' }, 'eid-from': { type: 'string' }, pace: { type: 'string', default: '0' } },
});
const slots = Number(values.slots);
const claims = Number(values.claims);
const from = Number(values['eid-from']);
/** Mean time between a slot's claims, ms (a unit's time; 0: back to back). Each wait is drawn uniformly from 0.5..1.5 of it. */
const pace = Number(values.pace);
const random = mulberry32(from + 1);
const inv = await PgInventory.open({ url: values.url!, stationId: values.station!, heartbeatSeconds: 0 }); // the station's own pool size: slots queue for its connections
const claimMs: number[] = [];
/** Claims after each slot's first: the first waits for a pooled connection to open and the code to warm up. */
const warmMs: number[] = [];
const settleMs: number[] = [];
const t0 = performance.now();
await Promise.all(
  Array.from({ length: slots }, async (_, s) => {
    // Slots start spread over one pace, as units of a running station do.
    if (pace > 0) await new Promise((r) => setTimeout(r, random() * pace));
    for (let i = 0; i < claims; i++) {
      const n = from + s * claims + i;
      const unit = `${values.station}-${n}`;
      const a = performance.now();
      const r = await inv.claim({ eid: benchEid(n), unusedOtpks: [benchOtpk(n, 0), benchOtpk(n, 1)], unit, excluded: new Set(), trustedCis: [] });
      claimMs.push(performance.now() - a);
      if (i > 0) warmMs.push(performance.now() - a);
      if (r.kind !== 'claimed') throw new Error(`claim for EID #${n}: ${r.kind}`);
      const b = performance.now();
      await inv.settle(r.bpp, BppState.installed, unit);
      settleMs.push(performance.now() - b);
      if (pace > 0) await new Promise((r) => setTimeout(r, pace * (0.5 + random())));
    }
  }),
);
const wallMs = performance.now() - t0;
await inv.close();
process.stdout.write(JSON.stringify({ claimMs, warmMs, settleMs, wallMs }) + '\n');
