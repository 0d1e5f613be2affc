/**
 * Two ways to give a station its card sockets, for the one scenario list (scenarios.test.ts):
 * the in-process simulated slots (no wire: orchestration, journal, retries) and the bridge
 * simulator on a pty through the real bridge driver (the wire). Like node-serialport's mock and
 * real bindings under the same stream.
 */
import { join } from 'node:path';
import { BridgeSim } from '../../../src/sim/bridge/bridge-sim.ts';
import type { SimCard } from '../../../src/sim/card/card-model.ts';
import { simHardware } from '../../../src/sim/inprocess/sim-hardware.ts';
import type { StationConfig } from '../../../src/station/config/schema.ts';
import type { EventBus } from '../../../src/station/events.ts';
import { Station } from '../../../src/station/orchestrator/station.ts';

/** Sockets of one bridge ("b0"), by channel. */
export interface Rack {
  open(config: StationConfig, bus: EventBus): Promise<Station>;
  insertCard(channel: number, card: SimCard): void;
  removeCard(channel: number): void;
  close(): Promise<void>;
  /** The bridge simulator, when the sockets are on one (its fault injection). */
  bridge?: BridgeSim;
  /** Requests the bridge received, by verb (wire racks only). */
  readonly verbs?: Map<string, number>;
}

export interface RackKind {
  name: string;
  create(dir: string, slots: number, cards: SimCard[]): Promise<Rack>;
}

export const inProcess: RackKind = {
  name: 'in-process simulated slots',
  async create(_dir, _slots, cards) {
    let sim: ReturnType<typeof simHardware> | undefined;
    const slot = (ch: number) => sim!.slots.get(`S${ch + 1}`)!;
    return {
      async open(config, bus) {
        sim = simHardware(config, { jig: false });
        cards.forEach((c, i) => slot(i).insertCard(c));
        return Station.open(config, { bus, hardware: sim.hardware });
      },
      insertCard: (ch, card) => slot(ch).insertCard(card),
      removeCard: (ch) => void slot(ch).removeCard(),
      close: async () => sim?.hardware.close(),
    };
  },
};

/** The bridge simulator on a pty; `batch` 0 makes it a bridge without the APDUS verb (INFO without BATCH=). */
function ptyRack(name: string, batch?: number): RackKind {
  return {
    name,
    async create(dir, slots, cards) {
      const sim = await BridgeSim.start({ slots, link: join(dir, 'bridge0'), timeScale: 0, cards, ...(batch !== undefined ? { batch } : {}) });
      const verbs = new Map<string, number>();
      sim.on('line', (dir, line) => {
        const verb = dir === 'rx' ? line.split(' ')[2] : undefined;
        if (verb) verbs.set(verb, (verbs.get(verb) ?? 0) + 1);
      });
      return {
        verbs,
        open: (config, bus) => Station.open(config, { bus, bridgeOptions: { heartbeatMs: 0 } }),
        insertCard: (ch, card) => sim.insertCard(ch, card),
        removeCard: (ch) => void sim.removeCard(ch),
        close: () => sim.close(),
        bridge: sim,
      };
    },
  };
}

export const ptyBridge = ptyRack('bridge simulator on a pty');
export const ptyBridgeWithoutApdus = ptyRack('bridge simulator on a pty without the APDUS verb (an older bridge)', 0);
