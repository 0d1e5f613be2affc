/**
 * In-process hardware for a station config: a SimSlot per enabled slot, a source per bridge of
 * the config (so the event stream reads as with bridges), and a SimJig or no jig. Hand
 * `hardware` to Station.open(config, { hardware }); drive `slots` and `jig` as the operator.
 */
import { EventEmitter } from 'node:events';
import type { StationConfig } from '../../station/config/schema.ts';
import type { SlotSource, SlotSourceEvents } from '../../station/hardware/card-slot.ts';
import type { StationHardware } from '../../station/hardware/hardware.ts';
import { NoJig } from '../../station/hardware/no-jig.ts';
import { SimJig } from './sim-jig.ts';
import { SimSlot } from './sim-slot.ts';

class SimSource extends EventEmitter<SlotSourceEvents> implements SlotSource {
  readonly firmware = 'in-process simulator';
  constructor(
    readonly id: string,
    readonly port: string,
  ) {
    super();
  }
}

export interface SimHardware {
  hardware: StationHardware;
  slots: Map<string, SimSlot>;
  /** undefined when built without a jig. */
  jig: SimJig | undefined;
}

/** `jig`: a SimJig (default when the config has a board) or none (the station runs on NoJig). */
export function simHardware(config: StationConfig, opts: { jig?: boolean } = {}): SimHardware {
  const enabled = config.slots.filter((s) => s.enabled);
  const slots = new Map(enabled.map((s) => [s.id, new SimSlot(s.id)] as const));
  const withJig = opts.jig ?? config.board !== undefined;
  const jig = withJig ? new SimJig({ kind: config.kind, slots: enabled.map((s) => s.id) }) : undefined;
  let closing: Promise<void> | undefined;
  const hardware: StationHardware = {
    slots,
    sources: config.bridges.map((b) => new SimSource(b.id, `sim:${b.id}`)),
    jig: jig ?? new NoJig(config.kind),
    close() {
      closing ??= (async () => {
        for (const s of slots.values()) await s.powerOff();
        await hardware.jig.close();
      })();
      return closing;
    },
  };
  return { hardware, slots, jig };
}
