/**
 * A station process that kills itself with SIGKILL at an exact point of a load, for the crash
 * tests (test/station/crash-recovery.test.ts): the real station (compiled, dist/: no TypeScript
 * transform at start) on in-process slots, and the in-process jig for a panel, with the
 * simulated chips of a reel whose state persists in `stateDir`, so the parent can put the
 * same chips back after the kill.
 *
 *   last-segment        the chip has processed the last BPP segment and answered with its PIR;
 *                       the station dies before it reads the answer
 *   pir-before-journal  the station has the PIR and dies before pir.received is on disk
 *
 * `killOn` says which load reaching that point dies (1 = the first). Argument: JSON
 * { config, reel, stateDir, eids (slot S1 first), killAt, killOn }. Exit 7: no load got there.
 */
import { euiccCardFromReel } from '../../dist/sim/euicc/card-factory.js';
import { simHardware } from '../../dist/sim/inprocess/sim-hardware.js';
import { requireConfig } from '../../dist/station/config/load.js';
import { Journal } from '../../dist/station/journal/journal.js';
import { Station } from '../../dist/station/orchestrator/station.js';

const a = JSON.parse(process.argv[2]);
const config = await requireConfig(a.config);
const sim = simHardware(config);
let reached = 0;
const die = () => {
  if (++reached === a.killOn) process.kill(process.pid, 'SIGKILL');
};
for (const [i, eid] of a.eids.entries()) {
  const slot = sim.slots.get(`S${i + 1}`);
  slot.insertCard(await euiccCardFromReel({ reel: a.reel, eid, stateDir: a.stateDir }, 0));
  if (a.killAt === 'last-segment') {
    const transmit = slot.apdu.transmit.bind(slot.apdu);
    slot.apdu.transmit = async (apdu) => {
      const r = await transmit(apdu);
      if (r.data[0] === 0xbf && r.data[1] === 0x37) die(); // the answer to the last segment: the PIR
      return r;
    };
  }
}
if (a.killAt === 'pir-before-journal') {
  const append = Journal.prototype.append;
  Journal.prototype.append = function (type, fields) {
    if (type === 'pir.received') die();
    return append.call(this, type, fields);
  };
}
const station = await Station.open(config, { hardware: sim.hardware });
sim.jig?.on('prompt', () => setImmediate(() => sim.jig.pressStart()));
await station.run({ units: a.eids.length });
await station.close();
process.exit(7);
