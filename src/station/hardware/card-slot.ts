/**
 * What the station asks of one card socket, whatever carries it: a channel of a UART bridge, a
 * PC/SC reader, an in-process simulated card. A slot provider builds these from the config
 * (see open-hardware.ts); the orchestrator talks to nothing else.
 */
import type { EventEmitter } from 'node:events';
import type { ApduTransmitter } from '../fpa/fpa-client.ts';

export interface ActivatedCard {
  atr: Uint8Array;
  /** Negotiated Fi/Di (372/1 when PPS was not done or refused). */
  fi: number;
  di: number;
}

/** What one unit needs: power, activation, APDUs (the unit runner takes no more). */
export interface UnitSlot {
  readonly id: string;
  /** Supply on (class from the config), card reset, ATR and PPS. */
  activate(): Promise<ActivatedCard>;
  /** APDUs to the activated card. */
  readonly apdu: ApduTransmitter;
  /** Deactivate and power down (safe to call at any time, also when already off). */
  powerOff(): Promise<void>;
}

export interface CardSlotEvents {
  /** The socket's own card-detect saw a card go in (a slot without one never emits it). */
  inserted: [];
  /** ... or come out. */
  removed: [];
}

/**
 * The code of a slot's error when its socket is empty (or the card left mid-exchange); a unit
 * whose failure was caused by it ends "interrupted", card removed. A bridge says it with
 * BRIDGE_ERR_NOCARD (its wire error), a PC/SC reader with PCSC_CARD_REMOVED; they count the same.
 */
export const SLOT_NO_CARD = 'SLOT_NO_CARD';
export const NO_CARD_CODES: ReadonlySet<string> = new Set([SLOT_NO_CARD, 'BRIDGE_ERR_NOCARD', 'PCSC_CARD_REMOVED']);

export interface CardSlot extends UnitSlot, EventEmitter<CardSlotEvents> {
  /** Is a card in the socket now? false when the slot cannot tell or its carrier is away. */
  present(): Promise<boolean>;
}

export interface SlotSourceEvents {
  /** The carrier (bridge, reader) answered on a (re)opened link. */
  connected: [{ firmware?: string }];
  /** The carrier went away: every slot on it lost its card session. */
  disconnected: [{ reason: string }];
}

/**
 * What carries slots (a bridge, a reader): named in the event stream and the UI, so the
 * operator sees which cable to check.
 */
export interface SlotSource extends EventEmitter<SlotSourceEvents> {
  /** The config's id for it (bridges[].id). */
  readonly id: string;
  /** Where it is (serial path, reader name). */
  readonly port: string;
  /** As of the last (re)connect, when it says. */
  readonly firmware: string | undefined;
}
