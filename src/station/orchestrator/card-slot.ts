/**
 * What the orchestrator needs from one card slot, whatever carries it (a bridge channel on a
 * real jig, the simulated bridge, or an in-process simulated card in unit tests).
 */
import type { ApduTransmitter } from '../fpa/fpa-client.ts';

export interface ActivatedCard {
  atr: Uint8Array;
  /** Negotiated Fi/Di (372/1 when PPS was not done or refused). */
  fi: number;
  di: number;
}

export interface CardSlot {
  readonly id: string;
  /** Supply on (class from the config), card reset, ATR and PPS. */
  activate(): Promise<ActivatedCard>;
  /** APDUs to the activated card. */
  readonly apdu: ApduTransmitter;
  /** Deactivate and power down (safe to call at any time, also when already off). */
  powerOff(): Promise<void>;
}
