/**
 * An in-process card socket holding a simulated card: the station's CardSlot without a serial
 * line. T=0 runs host-side exactly as over a bridge (T0ApduChannel: 61xx GET RESPONSE, 6Cxx),
 * the card is the same SimCard the bridge simulator holds; what is left out is the wire, the
 * bridge's framing and its timing. For orchestration tests (see test/station/scenarios/).
 */
import { EventEmitter } from 'node:events';
import { IfppError } from '../../core/errors.ts';
import { T0ApduChannel } from '../../transport/card/t0-apdu.ts';
import { SLOT_NO_CARD, type ActivatedCard, type CardSlot, type CardSlotEvents } from '../../station/hardware/card-slot.ts';
import { CardMuteError, type SimCard } from '../card/card-model.ts';

export class SimSlotError extends IfppError {}

export class SimSlot extends EventEmitter<CardSlotEvents> implements CardSlot {
  private card: SimCard | undefined;
  private active = false;
  readonly apdu: T0ApduChannel;

  constructor(readonly id: string) {
    super();
    this.apdu = new T0ApduChannel({ exchange: (t) => this.exchange(t) });
  }

  /** Puts a card in the socket (card-detect: 'inserted'). */
  insertCard(card: SimCard): void {
    if (this.card) throw new SimSlotError('SIM_SLOT_OCCUPIED', `slot ${this.id} already holds a card`);
    this.card = card;
    this.emit('inserted');
  }

  /** Pulls the card: the session ends, an exchange in flight fails as "no card". */
  removeCard(): SimCard | undefined {
    const card = this.card;
    if (!card) return undefined;
    this.card = undefined;
    this.active = false;
    card.powerOff();
    this.emit('removed');
    return card;
  }

  get holding(): SimCard | undefined {
    return this.card;
  }

  async present(): Promise<boolean> {
    return this.card !== undefined;
  }

  async activate(): Promise<ActivatedCard> {
    const card = this.need();
    card.powerOff();
    const atr = card.atr('cold');
    this.active = true;
    return { atr, fi: 372, di: 1 };
  }

  async powerOff(): Promise<void> {
    this.active = false;
    this.card?.powerOff();
  }

  private async exchange(tpdu: Uint8Array): Promise<Uint8Array> {
    const card = this.need();
    if (!this.active) throw new SimSlotError('SIM_SLOT_INACTIVE', `slot ${this.id} is not activated`, { hint: 'activate the slot first' });
    try {
      const r = await card.transmitTpdu(tpdu);
      if (this.card !== card) throw this.noCard();
      return r.response;
    } catch (e) {
      // Pulled while the card worked (a removal fault pulls it from inside the exchange).
      if (this.card !== card) throw this.noCard(e);
      // A mute card ends the session, as a bridge deactivates the slot after ERR MUTE.
      if (e instanceof CardMuteError) this.active = false;
      throw e;
    }
  }

  private need(): SimCard {
    if (!this.card) throw this.noCard();
    return this.card;
  }

  private noCard(cause?: unknown): SimSlotError {
    return new SimSlotError(SLOT_NO_CARD, `no card in slot ${this.id}`, { hint: 'insert a card', ...(cause !== undefined ? { cause } : {}) });
  }
}
