/**
 * The hardware a station runs on, built once from the config (openStationHardware) or injected
 * by the caller (tests, the simulator), handed to Station.open, and closed once by the station.
 */
import type { CardSlot, SlotSource } from './card-slot.ts';
import type { Jig } from './jig.ts';

export interface StationHardware {
  /** Every enabled slot of the config, by slot id. */
  readonly slots: ReadonlyMap<string, CardSlot>;
  /** What carries the slots (bridges, readers), for the event stream. */
  readonly sources: readonly SlotSource[];
  readonly jig: Jig;
  /** Slots powered off, jig in its safe state, links closed. Idempotent. */
  close(): Promise<void>;
}
