/**
 * One station of `ifpp sim line`, in its own process: the real station (journal, line
 * inventory, orchestration) on in-process simulated sockets (sim/inprocess), holding simulated
 * eUICCs from the world's reel. The coordinator (run-line.ts) is the operator: over the IPC
 * channel it puts chips in and takes them out; this process reports each unit's end and the
 * station's warnings back. A chip's own processing time is waited out (times the time scale),
 * as the bridge simulator does; the serial wire is left out.
 *
 *   node station-child.js '{"config":"…/station.json","reel":"…","stateDir":"…","timing":{…},"timeScale":0}'
 */
import { euiccCardFromReel } from '../../sim/euicc/card-factory.ts';
import type { SimCard } from '../../sim/card/card-model.ts';
import type { EuiccTiming } from '../../sim/euicc/timing.ts';
import type { EuiccFaults } from '../../sim/euicc/faults.ts';
import { simHardware } from '../../sim/inprocess/sim-hardware.ts';
import { requireConfig } from '../../station/config/load.ts';
import { EventBus } from '../../station/events.ts';
import { Station } from '../../station/orchestrator/station.ts';
import { isIfppError } from '../../core/errors.ts';
import type { ChildMessage, ParentMessage } from './messages.ts';

interface ChildOptions {
  config: string;
  reel: string;
  stateDir: string;
  timing?: Partial<EuiccTiming>;
  timeScale: number;
}

const o = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const send = (m: ChildMessage) => process.send?.(m);

/** The card, with its processing time waited out (scaled) as a bridge would. */
function paced(card: SimCard, scale: number): SimCard {
  if (scale <= 0) return card;
  return {
    atr: (k) => card.atr(k),
    pps: (r) => card.pps(r),
    powerOff: () => card.powerOff(),
    async transmitTpdu(t) {
      const r = await card.transmitTpdu(t);
      if (r.processingSeconds > 0) await new Promise((done) => setTimeout(done, r.processingSeconds * scale * 1000));
      return r;
    },
  };
}

try {
  const config = await requireConfig(o.config);
  const sim = simHardware(config, { jig: false });
  const bus = new EventBus();
  bus.on((e) => {
    if (e.type === 'unit.done') send({ type: 'unit.done', slot: e.slot, ...(e.eid ? { eid: e.eid } : {}), outcome: e.outcome });
    else if (e.type === 'slot.result') send({ type: 'slot.result', slot: e.slot, ...(e.eid ? { eid: e.eid } : {}), outcome: e.outcome, ...(e.code ? { code: e.code } : {}), ...(e.reason ? { reason: e.reason } : {}) });
    else if (e.type === 'slot.state' && e.state === 'loading') send({ type: 'loading', slot: e.slot });
    else if (e.type === 'station.warning') send({ type: 'warning', code: e.code, message: e.message });
  });
  const station = await Station.open(config, { bus, hardware: sim.hardware });
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'insert') {
      void euiccCardFromReel({ reel: o.reel, eid: m.eid, stateDir: o.stateDir, ...(o.timing ? { timing: o.timing } : {}), ...(m.faults ? { faults: m.faults as Partial<EuiccFaults> } : {}) })
        .then((card) => sim.slots.get(m.slot)!.insertCard(paced(card, o.timeScale)))
        .catch((e: unknown) => send({ type: 'warning', code: 'SIM_INSERT', message: `slot ${m.slot}: ${(e as Error).message}` }));
    } else if (m.type === 'remove') {
      sim.slots.get(m.slot)?.removeCard();
    } else if (m.type === 'stop') {
      station.requestStop(m.reason);
    }
  });
  // Ctrl+C reaches every process of the terminal: the coordinator decides, but never die mid-load.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => station.requestStop(`${sig} received`));
  // The coordinator gone: stop as an operator would.
  process.on('disconnect', () => station.requestStop('the line coordinator has gone'));
  send({ type: 'ready', slots: [...sim.slots.keys()] });
  const summary = await station.run();
  await station.close();
  send({ type: 'stopped', units: summary.units, reason: summary.reason });
  process.disconnect?.();
} catch (e) {
  send({ type: 'failed', code: isIfppError(e) ? e.code : 'SIM_LINE_STATION', message: isIfppError(e) ? e.describe() : String((e as Error)?.stack ?? e) });
  process.exitCode = 1;
  process.disconnect?.();
}
