/**
 * The probe's APDU gate: lets through only SELECT by AID, MANAGE CHANNEL and STORE DATA whose
 * ES10 request is one of the read-only ones named (GetEID, EUICCInfo2, GetFactoryInfo). Nothing
 * that could consume a one-time key or change the chip (PrepareFactoryLoad, BPP segments,
 * DeleteOneTimeKeys, CloseFpaServices, profile operations) can leave the probe, whatever
 * a later change to the calling code does.
 */
import { hexByte } from '../../core/bytes.ts';
import { INS_STORE_DATA, parseStoreDataApdu } from '../../core/rsp/store-data.ts';
import { readHeader, tagHex } from '../../core/tlv/ber-tlv.ts';
import type { ApduResponse } from '../../core/apdu.ts';
import type { ApduTransmitter } from '../fpa/fpa-client.ts';
import { ProbeError, type ProbePlace } from './errors.ts';

const INS_SELECT = 0xa4;
const INS_MANAGE_CHANNEL = 0x70;
const P1_SELECT_BY_AID = 0x04;

export class ReadOnlyTransmitter implements ApduTransmitter {
  /** The STORE DATA sequence under way started with an allowed request. */
  private sequenceAllowed = false;

  constructor(
    private readonly inner: ApduTransmitter,
    private readonly allowedTags: ReadonlySet<number>,
    private readonly place: ProbePlace,
  ) {}

  transmit(apdu: Uint8Array): Promise<ApduResponse> {
    this.check(apdu);
    return this.inner.transmit(apdu);
  }

  private check(apdu: Uint8Array): void {
    const ins = apdu[1];
    if (ins === INS_MANAGE_CHANNEL) return;
    if (ins === INS_SELECT && apdu[2] === P1_SELECT_BY_AID) return;
    if (ins === INS_STORE_DATA) {
      let tag: number | undefined;
      try {
        const block = parseStoreDataApdu(apdu);
        if (block.blockNumber > 0) {
          if (this.sequenceAllowed) return;
        } else {
          tag = readHeader(block.data).tag;
          this.sequenceAllowed = this.allowedTags.has(tag);
          if (this.sequenceAllowed) return;
        }
      } catch {
        // malformed: refused below like anything else unknown
      }
      throw this.refuse(tag === undefined ? 'a STORE DATA block outside a read-only request' : `ES10 request ${tagHex(tag)}`);
    }
    throw this.refuse(`INS ${hexByte(ins ?? 0)}`);
  }

  private refuse(what: string): ProbeError {
    this.sequenceAllowed = false;
    return new ProbeError('PROBE_NOT_READ_ONLY', `the probe refused to send ${what}: it may change the chip`, this.place, {
      hint: 'probe only reads; this is a bug in the probe, please report it',
    });
  }
}
