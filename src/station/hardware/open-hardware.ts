/**
 * The one place that turns a validated config into hardware: slot providers for the slots, the
 * jig for the board (or the no-jig stand-in), opened once and closed once. A new kind of slot is
 * a new provider here, never an edit to the orchestrator.
 */
import type { BridgeDriverOptions } from '../../transport/bridge/bridge-driver.ts';
import type { StationConfig } from '../config/schema.ts';
import { JigController, type JigControllerOptions } from '../jig/jig-controller.ts';
import { openBridgeSlots } from './bridge-slots.ts';
import type { StationHardware } from './hardware.ts';
import type { Jig } from './jig.ts';
import { NoJig } from './no-jig.ts';
import type { PcscSlots } from './pcsc-slots.ts';

export interface HardwareOptions {
  /** Connect the jig board named in the config (default true). */
  useBoard?: boolean;
  /** Bridge driver tuning (tests shorten heartbeats and reconnects). */
  bridgeOptions?: BridgeDriverOptions;
  jigOptions?: JigControllerOptions;
  /** PC/SC readers: how long to wait for each configured reader at start (default 5000 ms). */
  pcsc?: { waitMs?: number };
}

export async function openStationHardware(config: StationConfig, opts: HardwareOptions = {}): Promise<StationHardware> {
  const bridges = await openBridgeSlots(config, opts.bridgeOptions);
  let readers: PcscSlots | undefined;
  let jig: Jig;
  try {
    // The PC/SC side (and its native binding) loads only for a config with readers.
    if (config.readers?.length) readers = await (await import('./pcsc-slots.ts')).openPcscSlots(config, opts.pcsc);
    jig = opts.useBoard === false || !config.board ? new NoJig(config.kind) : await JigController.open(config, opts.jigOptions);
  } catch (e) {
    await readers?.close();
    await bridges.close();
    throw e;
  }
  const slots = new Map([...bridges.slots, ...(readers?.slots ?? [])]);
  let closing: Promise<void> | undefined;
  return {
    slots,
    sources: [...bridges.sources, ...(readers?.sources ?? [])],
    jig,
    close() {
      closing ??= (async () => {
        await Promise.allSettled([...slots.values()].map((s) => s.powerOff()));
        await jig.close().catch(() => undefined);
        await readers?.close();
        await bridges.close();
      })();
      return closing;
    },
  };
}
