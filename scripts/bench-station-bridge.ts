/**
 * One simulated bridge for the station benchmark, in its own process: the bridge simulator
 * (src/sim/bridge/bridge-process.ts, cards from src/sim/euicc/card-factory.ts) plus the
 * physical bound bookkeeping. Every modeled card exchange of a slot (RESET, PPS, TPDU: wire
 * time + the card's processing time, what the `<µs>` field of the reply reports) is summed per
 * slot until the card is swapped, so the driver learns, per unit, what the card contact forced.
 *
 *   node --import tsx scripts/bench-station-bridge.ts <bridge-main arguments>
 *
 * Prints the bridge's ready line, then answers one JSON line per stdin command:
 *   swap <slot> <json|->   pull the card (reporting its exchange totals), insert a new one
 *                          from the card factory with these options ("-" = leave empty)
 *   stats                  CPU and RSS of this process
 *   quit                   close and exit (so does closing stdin)
 */
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseBridgeArgs, startBridgeProcess } from '../src/sim/bridge/bridge-process.ts';

interface Totals {
  /** Card exchanges (RESET, PPS, TPDU) and all requests answered on the slot. */
  exchanges: number;
  requests: number;
  /** Modeled card-contact seconds: wire + card processing (+ RST low and ATR delay for resets). */
  seconds: number;
  wireSeconds: number;
  cardSeconds: number;
  /** Host side: from each answer sent to the slot's next request arriving (station + link), ms. */
  hostGapMs: number;
  /** Bridge side: time requests spent in the simulator beyond their modeled duration, ms. */
  pacingMs: number;
  /** Insertion to the first request, and last answer to the swap, ms. */
  firstRequestMs: number;
  lastAnswerAt: number;
  /** Each host-side gap, ms (the first GAPS_KEPT). */
  gaps: number[];
}

const GAPS_KEPT = 1000;

const empty = (): Totals => ({ exchanges: 0, requests: 0, seconds: 0, wireSeconds: 0, cardSeconds: 0, hostGapMs: 0, pacingMs: 0, firstRequestMs: 0, lastAnswerAt: 0, gaps: [] });
const hr = () => performance.timeOrigin + performance.now();

const opts = parseBridgeArgs(process.argv.slice(2));
const running = await startBridgeProcess(opts);
const totals: Totals[] = Array.from({ length: opts.slots }, empty);
// Where a slot's time goes between its requests, from the lines as the simulator sees them
// (times in ms on this process's clock; the POWER OFF that ends a unit is left out).
const insertMs: number[] = new Array(opts.slots).fill(0);
const rxAt: number[] = new Array(opts.slots).fill(0);
const skipId: number[] = new Array(opts.slots).fill(-1);
const lastModeled: { id: number; ms: number }[] = Array.from({ length: opts.slots }, () => ({ id: -1, ms: 0 }));
running.bridge.on('exchange', (r) => {
  const t = totals[r.slot]!;
  t.exchanges++;
  t.seconds += r.seconds;
  t.wireSeconds += r.wireSeconds;
  t.cardSeconds += r.extraSeconds;
  // An APDU request runs several TPDUs (GET RESPONSE at the bridge): one exchange record each.
  const prev = lastModeled[r.slot]!;
  lastModeled[r.slot] = { id: r.id, ms: (prev.id === r.id ? prev.ms : 0) + r.seconds * 1000 };
});
running.bridge.on('line', (dir, line) => {
  const tok = line.split(' ', 4);
  const [idTok = '', slotTok = '', verb = '', arg = ''] = tok;
  if (idTok === '!' || idTok === '0' || slotTok === '-') return;
  const slot = parseInt(slotTok, 16);
  const id = parseInt(idTok, 16);
  const t = totals[slot];
  if (!t) return;
  const now = performance.now();
  if (dir === 'rx') {
    if (verb === 'POWER' && arg === 'OFF') {
      skipId[slot] = id;
      return;
    }
    if (t.requests === 0) t.firstRequestMs = now - insertMs[slot]!;
    else {
      t.hostGapMs += now - t.lastAnswerAt;
      if (t.gaps.length < GAPS_KEPT) t.gaps.push(Math.round((now - t.lastAnswerAt) * 1000) / 1000);
    }
    rxAt[slot] = now;
  } else {
    if (id === skipId[slot]) return;
    t.requests++;
    const m = lastModeled[slot]!;
    t.pacingMs += now - rxAt[slot]! - (m.id === id ? m.ms : 0);
    t.lastAnswerAt = now;
  }
});
running.bridge.on('cardError', (slot, e) => process.stderr.write(`bridge slot ${slot}: card error ${String(e)}\n`));
process.stdout.write(JSON.stringify(running.ready) + '\n');

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const [cmd, a, ...rest] = line.trim().split(' ');
  if (cmd === 'quit') break;
  let reply: object;
  try {
    if (cmd === 'swap') {
      const slot = Number(a);
      const prev = totals[slot]!;
      totals[slot] = empty();
      await running.control(`remove ${slot}`);
      const json = rest.join(' ');
      let insertedAt: number | undefined;
      if (json && json !== '-') {
        const r = await running.control(`insert ${slot} ${json}`);
        if (!r.ok) throw new Error(r.error);
        insertMs[slot] = performance.now();
        insertedAt = hr();
      }
      // The last answer on the driver's clock (epoch ms), to measure the station's tail to unit.done.
      reply = { ok: true, slot, prev: { ...prev, lastAnswerAt: prev.lastAnswerAt ? performance.timeOrigin + prev.lastAnswerAt : 0 }, insertedAt };
    } else if (cmd === 'stats') {
      const c = process.cpuUsage(cpu0);
      reply = { ok: true, cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0, rss: process.memoryUsage.rss(), linkDelay: running.bridge.linkDelay };
    } else {
      reply = { ok: false, error: `unknown command ${cmd}` };
    }
  } catch (e) {
    reply = { ok: false, error: (e as Error).message };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}
await running.close();
process.exit(0);
