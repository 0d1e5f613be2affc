/**
 * Slot provider for UART bridges (hardware/PROTOCOL.md): one BridgeDriver per configured
 * bridge, one CardSlot per enabled slot on a bridge channel.
 */
import { EventEmitter } from 'node:events';
import { BridgeDriver, type BridgeDriverOptions } from '../../transport/bridge/bridge-driver.ts';
import { SlotLink } from '../../transport/bridge/slot-link.ts';
import type { Bridge as BridgeConfig, Slot as SlotConfig, StationConfig } from '../config/schema.ts';
import type { ActivatedCard, CardSlot, CardSlotEvents, SlotSource, SlotSourceEvents } from './card-slot.ts';

export interface BridgeSlots {
  slots: Map<string, CardSlot>;
  sources: BridgeSource[];
  close(): Promise<void>;
}

/** A bridge as a slot source: its driver's link events, in the station's words. */
export class BridgeSource extends EventEmitter<SlotSourceEvents> implements SlotSource {
  constructor(
    readonly config: BridgeConfig,
    readonly driver: BridgeDriver,
  ) {
    super();
    driver.on('connected', (info) => this.emit('connected', { firmware: info.firmware }));
    driver.on('disconnected', (e) => this.emit('disconnected', { reason: e.message }));
  }

  get id(): string {
    return this.config.id;
  }

  get port(): string {
    return this.config.port;
  }

  get firmware(): string | undefined {
    return this.driver.info?.firmware;
  }
}

/** One channel of a bridge. */
export class BridgeSlot extends EventEmitter<CardSlotEvents> implements CardSlot {
  readonly link: SlotLink;

  constructor(
    readonly config: SlotConfig,
    driver: BridgeDriver,
    private readonly loading: StationConfig['loading'],
  ) {
    super();
    this.link = new SlotLink(driver, config.channel);
  }

  get id(): string {
    return this.config.id;
  }

  get apdu() {
    return this.link.channel;
  }

  async present(): Promise<boolean> {
    try {
      return (await this.link.status()).state !== 'EMPTY';
    } catch {
      return false;
    }
  }

  async activate(): Promise<ActivatedCard> {
    const l = this.loading;
    const a = await this.link.activate({ vcc: l.vcc, clockHz: l.clockHz, pps: l.pps });
    return { atr: a.atr, fi: a.fi, di: a.di };
  }

  powerOff(): Promise<void> {
    return this.link.powerOff();
  }
}

/** Opens every bridge of the config (all or none: a failure closes those already open). */
export async function openBridgeSlots(config: StationConfig, options: BridgeDriverOptions = {}): Promise<BridgeSlots> {
  const sources: BridgeSource[] = [];
  const close = async () => {
    for (const s of sources) await s.driver.close().catch(() => undefined);
  };
  try {
    for (const b of config.bridges) {
      const d = new BridgeDriver({ timeoutFactor: config.loading.retry.timeoutFactor, ...options });
      sources.push(new BridgeSource(b, d));
      await d.open(b.port, b.baudRate);
    }
  } catch (e) {
    await close();
    throw e;
  }
  const slots = new Map<string, CardSlot>();
  for (const src of sources) {
    const mine = config.slots.filter((s) => s.enabled && s.bridge === src.id).map((s) => new BridgeSlot(s, src.driver, config.loading));
    for (const s of mine) slots.set(s.id, s);
    // One listener per bridge, not per slot (a bridge carries up to 16).
    src.driver.on('card', (ev) => {
      for (const s of mine) if (s.config.channel === ev.slot) s.emit(ev.present ? 'inserted' : 'removed');
    });
  }
  return { slots, sources, close };
}
