/**
 * The APDUs of a unit as slot.apdu events, for the slot detail's exchange summary (count, not-OK
 * answers, time on the wire, latest exchanges). The summary names the command and its header
 * only: command data (BPP segments, keys) never goes to the event stream or its logs.
 */
import { toHex } from '../../core/bytes.ts';
import { swHex } from '../../core/apdu.ts';
import type { UnitSlot } from '../hardware/card-slot.ts';
import type { StationEvent } from '../events.ts';

const COMMANDS: Record<number, string> = {
  0xa4: 'SELECT',
  0xe2: 'STORE DATA',
  0xc0: 'GET RESPONSE',
  0xca: 'GET DATA',
  0x70: 'MANAGE CHANNEL',
  0xf2: 'GET STATUS',
  0xaa: 'TERMINAL CAPABILITY',
};

/** "STORE DATA 80E29100 +255 B": command name, CLA INS P1 P2, and how many data bytes went with it. */
export function describeApdu(apdu: Uint8Array): string {
  if (apdu.length < 4) return `short APDU ${toHex(apdu).toUpperCase()}`;
  const name = COMMANDS[apdu[1]!] ?? `INS ${apdu[1]!.toString(16).toUpperCase().padStart(2, '0')}`;
  const data = apdu.length > 5 ? apdu[4]! : 0; // Lc (short APDUs: the FPA client never sends extended ones)
  return `${name} ${toHex(apdu.subarray(0, 4)).toUpperCase()}${data > 0 ? ` +${data} B` : ''}`;
}

/**
 * `slot` with every APDU reported through `emit` once answered (sw "----" when the transport
 * failed). A sequence sent in one bridge request (APDUS) is reported APDU by APDU, each with
 * its share of the request's time; the ones before the last answered 9000.
 */
export function tapApdus(slot: UnitSlot, emit: (e: StationEvent) => void, now: () => number = Date.now): UnitSlot {
  const inner = slot.apdu;
  const batch = inner.transmitBatch?.bind(inner);
  return {
    id: slot.id,
    activate: () => slot.activate(),
    powerOff: () => slot.powerOff(),
    apdu: {
      async transmit(apdu) {
        const t0 = performance.now();
        const report = (sw: string) =>
          emit({ type: 'slot.apdu', t: now(), slot: slot.id, summary: describeApdu(apdu), sw, micros: Math.round((performance.now() - t0) * 1000) });
        try {
          const r = await slot.apdu.transmit(apdu);
          report(swHex(r.sw));
          return r;
        } catch (e) {
          report('----');
          throw e;
        }
      },
      ...(batch
        ? {
            async transmitBatch(apdus: readonly Uint8Array[]) {
              const t0 = performance.now();
              try {
                const r = await batch(apdus);
                const micros = Math.round(((performance.now() - t0) * 1000) / r.count);
                for (let i = 0; i < r.count; i++) {
                  emit({ type: 'slot.apdu', t: now(), slot: slot.id, summary: describeApdu(apdus[i]!), sw: i === r.count - 1 ? swHex(r.response.sw) : '9000', micros });
                }
                return r;
              } catch (e) {
                emit({ type: 'slot.apdu', t: now(), slot: slot.id, summary: describeApdu(apdus[0]!), sw: '----', micros: Math.round((performance.now() - t0) * 1000) });
                throw e;
              }
            },
          }
        : {}),
      ...(inner.batches ? { batches: () => inner.batches!() } : {}),
    },
  };
}
