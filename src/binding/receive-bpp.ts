/**
 * eUICC side of a BPP load: takes the ES10 call payloads one at a time, exactly as a chip
 * receives them (primer §2 "Loading"), verifies the SM-DPf signature, derives the session
 * keys from the one-time private key, checks every MAC and decrypts. Fails at the first bad
 * call with the bppCommandId and errorReason a real chip would put in its early BF37.
 *
 * Simulator side only (it decrypts): the station never imports src/binding/.
 */
import { createHash } from 'node:crypto';
import type { CurveName } from '../core/crypto/curves.ts';
import { ecdhSharedSecret, publicKeyFromSecret } from '../core/crypto/ecdh.ts';
import { ecdsaVerify } from '../core/crypto/ecdsa.ts';
import { IfppError, isIfppError } from '../core/errors.ts';
import { decodeBf23, signedDataOf, type Bf23 } from '../core/rsp/bf23.ts';
import { eidToBytes } from '../core/rsp/eid.ts';
import { decodeConfigureIsdp, decodeReplaceSessionKeys, decodeStoreMetadata, type ConfigureIsdpRequest, type StoreMetadataRequest } from '../core/rsp/metadata.ts';
import type { BppCommandIdName, ErrorReasonName } from '../core/rsp/pir.ts';
import { concatBytes } from '../core/bytes.ts';
import { readHeader, readTlv } from '../core/tlv/ber-tlv.ts';
import { BspError, BspSession } from './bsp.ts';

/** What went wrong, in the terms of `ifpp sim unbind`. */
export type UnbindFailureKind = 'structure' | 'signature' | 'mac' | 'content' | 'unsupported';

export class UnbindError extends IfppError {
  constructor(
    readonly kind: UnbindFailureKind,
    readonly bppCommandId: BppCommandIdName,
    readonly errorReason: ErrorReasonName,
    message: string,
    cause?: unknown,
  ) {
    super(`UNBIND_${kind.toUpperCase()}`, message, { details: { kind, bppCommandId, errorReason }, cause });
  }
}

export interface ReceivedProfile {
  transactionId: Uint8Array;
  configureIsdp: ConfigureIsdpRequest;
  metadata: StoreMetadataRequest;
  replaceSessionKeys: boolean;
  /** The recovered Unprotected Profile Package (SAIP DER). */
  upp: Uint8Array;
  uppSha256: string;
  segments: { seq87: number; seq88: number; secondSeq87: number; seq86: number };
}

export interface ReceiverKeys {
  eid: string;
  /** otSK.EUICC of the key the SM-DPf bound to. */
  otSecretKey: Uint8Array;
  otCurve: CurveName;
  /** PK.DPpb (from the CERT.DPpb the chip checked in PrepareFactoryLoad). */
  dpPbPublicKey: Uint8Array;
  dpPbCurve: CurveName;
  /**
   * otPK.EUICC named for this load (PrepareFactoryLoad), which the signature covers. Defaults to
   * the public half of otSecretKey; differs only when a key slot is damaged (then the MAC fails).
   */
  euiccOtpk?: Uint8Array;
}

type Expect = 'bf23' | 'a0' | 'a0-items' | 'a1' | 'a1-items' | 'a2-or-a3' | 'a2-items' | 'a3-items' | 'done';

/** Decodes a piece of decrypted content, turning any failure into an UnbindError. */
function content<T>(cmd: BppCommandIdName, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!isIfppError(e)) throw e;
    throw new UnbindError('content', cmd, 'incorrectInputValues', `${what}: ${e.message}`, e);
  }
}

export class BppReceiver {
  private expect: Expect = 'bf23';
  private bsp: BspSession | undefined;
  private bf23: Bf23 | undefined;
  private remaining = 0; // bytes of the current sequence (A1 or A3) still to come
  private configureIsdp: ConfigureIsdpRequest | undefined;
  private metadataParts: Uint8Array[] = [];
  private metadata: StoreMetadataRequest | undefined;
  private rsk = false;
  private uppParts: Uint8Array[] = [];
  /** Decrypted 87 contents of the sequence in progress (A0 or A2). */
  private seq87Parts: Uint8Array[] = [];
  private counts = { seq87: 0, seq88: 0, secondSeq87: 0, seq86: 0 };
  /** Set once BF23 is accepted: from here a failure burns the one-time key. */
  secureChannelOpen = false;

  constructor(private readonly keys: ReceiverKeys) {}

  get done(): boolean {
    return this.expect === 'done';
  }

  get transactionId(): Uint8Array | undefined {
    return this.bf23?.transactionId;
  }

  /** The metadata, once all 88 segments are in (the card checks the ICCID against its profiles). */
  get storedMetadata(): StoreMetadataRequest | undefined {
    return this.metadata;
  }

  /** Feeds one ES10 call payload. Throws UnbindError on the first failure. */
  accept(call: Uint8Array): void {
    try {
      this.step(call);
    } catch (e) {
      const cmd = this.currentCommand();
      this.expect = 'done';
      if (e instanceof UnbindError) throw e;
      if (e instanceof BspError) {
        throw new UnbindError(
          e.code === 'BSP_BAD_SEGMENT' ? 'structure' : 'mac',
          cmd,
          e.code === 'BSP_BAD_SEGMENT' ? 'scp03tStructureError' : 'scp03tSecurityError',
          `${cmd}: ${e.message}`,
          e,
        );
      }
      if (isIfppError(e)) throw new UnbindError('structure', cmd, 'scp03tStructureError', `${cmd}: ${e.message}`, e);
      throw e;
    }
  }

  private currentCommand(): BppCommandIdName {
    switch (this.expect) {
      case 'bf23':
        return 'initialiseSecureChannel';
      case 'a0':
      case 'a0-items':
        return 'configureISDP';
      case 'a1':
      case 'a1-items':
        return 'storeMetadata';
      case 'a2-or-a3':
      case 'a2-items':
        return 'replaceSessionKeys';
      default:
        return 'loadProfileElements';
    }
  }

  private step(call: Uint8Array): void {
    switch (this.expect) {
      case 'bf23': {
        const outer = readHeader(call);
        if (outer.tag !== 0xbf36) throw new UnbindError('structure', 'initialiseSecureChannel', 'incorrectInputValues', `expected BF36, found ${outer.tag.toString(16)}`);
        const bf23 = decodeBf23(call.subarray(outer.headerLength));
        this.bf23 = bf23;
        if (bf23.remoteOpId !== 1) {
          throw new UnbindError('unsupported', 'initialiseSecureChannel', 'unsupportedRemoteOperationType', `remoteOpId ${bf23.remoteOpId} is not installBoundProfilePackage`);
        }
        const crt = bf23.controlRefTemplate;
        if (crt.keyType !== 0x88 || crt.keyLen !== 0x10) {
          throw new UnbindError('unsupported', 'initialiseSecureChannel', 'unsupportedCrtValues', `keyType ${crt.keyType.toString(16)} keyLen ${crt.keyLen.toString(16)} not supported (AES-128 only)`);
        }
        const euiccOtpk = this.keys.euiccOtpk ?? publicKeyFromSecret(this.keys.otCurve, this.keys.otSecretKey);
        if (!ecdsaVerify(this.keys.dpPbCurve, this.keys.dpPbPublicKey, signedDataOf(bf23, euiccOtpk), bf23.smdpSign)) {
          throw new UnbindError('signature', 'initialiseSecureChannel', 'invalidSignature', 'smdpSign does not verify with PK.DPpb and this one-time key');
        }
        let z: Uint8Array;
        try {
          z = ecdhSharedSecret(this.keys.otCurve, this.keys.otSecretKey, bf23.smdpOtpk);
        } catch (e) {
          throw new UnbindError('content', 'initialiseSecureChannel', 'incorrectInputValues', 'smdpOtpk is not a valid point on the one-time key curve', e);
        }
        this.bsp = BspSession.fromSharedSecret(z, { hostId: crt.hostId, eid: eidToBytes(this.keys.eid) });
        z.fill(0);
        this.secureChannelOpen = true;
        this.expect = 'a0';
        return;
      }
      case 'a0': {
        // A0 header with its first 87 (a BPP with more 87s in A0 sends each further one alone).
        const h = readHeader(call);
        if (h.tag !== 0xa0) throw new UnbindError('structure', 'configureISDP', 'scp03tStructureError', 'expected the A0 sequence with its 87 segment');
        this.remaining = h.length;
        this.seq87Parts = [];
        this.take87s(call.subarray(h.headerLength), 'configureISDP', 'seq87');
        if (this.remaining === 0) this.finishA0();
        else this.expect = 'a0-items';
        return;
      }
      case 'a0-items': {
        this.take87s(call, 'configureISDP', 'seq87');
        if (this.remaining === 0) this.finishA0();
        return;
      }
      case 'a1': {
        const h = readHeader(call);
        if (h.tag !== 0xa1 || h.headerLength !== call.length) throw new UnbindError('structure', 'storeMetadata', 'scp03tStructureError', 'expected the A1 header alone');
        this.remaining = h.length;
        this.expect = 'a1-items';
        if (this.remaining === 0) this.finishMetadata();
        return;
      }
      case 'a1-items': {
        this.metadataParts.push(this.bsp!.verifyMacOnly(call, 0x88));
        this.counts.seq88++;
        this.consume(call.length, 'storeMetadata');
        if (this.remaining === 0) this.finishMetadata();
        return;
      }
      case 'a2-or-a3': {
        const h = readHeader(call);
        if (h.tag === 0xa2) {
          if (this.rsk) throw new UnbindError('structure', 'replaceSessionKeys', 'scp03tStructureError', 'a second A2 sequence');
          this.remaining = h.length;
          this.seq87Parts = [];
          this.take87s(call.subarray(h.headerLength), 'replaceSessionKeys', 'secondSeq87');
          if (this.remaining === 0) this.finishA2();
          else this.expect = 'a2-items';
          return;
        }
        if (h.tag !== 0xa3 || h.headerLength !== call.length) throw new UnbindError('structure', 'loadProfileElements', 'scp03tStructureError', 'expected the A2 sequence or the A3 header');
        this.remaining = h.length;
        this.expect = 'a3-items';
        if (this.remaining === 0) this.expect = 'done';
        return;
      }
      case 'a2-items': {
        this.take87s(call, 'replaceSessionKeys', 'secondSeq87');
        if (this.remaining === 0) this.finishA2();
        return;
      }
      case 'a3-items': {
        this.uppParts.push(this.bsp!.unprotect(call, 0x86));
        this.counts.seq86++;
        this.consume(call.length, 'loadProfileElements');
        if (this.remaining === 0) this.expect = 'done';
        return;
      }
      case 'done':
        throw new UnbindError('structure', 'loadProfileElements', 'scp03tStructureError', 'data after the end of the BPP');
    }
  }

  private consume(n: number, cmd: BppCommandIdName): void {
    if (n > this.remaining) throw new UnbindError('structure', cmd, 'scp03tStructureError', `segment of ${n} bytes overruns its sequence (${this.remaining} left)`);
    this.remaining -= n;
  }

  /** Verifies and decrypts the 87 TLVs that fill `bytes`, counting them against the sequence. */
  private take87s(bytes: Uint8Array, cmd: BppCommandIdName, counter: 'seq87' | 'secondSeq87'): void {
    let p = 0;
    while (p < bytes.length) {
      const seg = readTlv(bytes, p);
      this.consume(seg.raw.length, cmd);
      this.seq87Parts.push(this.bsp!.unprotect(seg.raw, 0x87));
      this.counts[counter]++;
      p += seg.raw.length;
    }
  }

  private finishA0(): void {
    if (this.counts.seq87 === 0) throw new UnbindError('structure', 'configureISDP', 'scp03tStructureError', 'A0 holds no 87 segment');
    this.configureIsdp = content('configureISDP', 'ConfigureISDPRequest', () => decodeConfigureIsdp(concatBytes(...this.seq87Parts)));
    this.expect = 'a1';
  }

  private finishA2(): void {
    if (this.counts.secondSeq87 === 0) throw new UnbindError('structure', 'replaceSessionKeys', 'scp03tStructureError', 'A2 holds no 87 segment');
    const r = content('replaceSessionKeys', 'ReplaceSessionKeysRequest', () => decodeReplaceSessionKeys(concatBytes(...this.seq87Parts)));
    this.bsp!.replaceSessionKeys(r.ppkEnc, r.ppkCmac, r.initialMacChainingValue);
    this.rsk = true;
    this.expect = 'a2-or-a3';
  }

  private finishMetadata(): void {
    this.metadata = content('storeMetadata', 'StoreMetadataRequest', () => decodeStoreMetadata(concatBytes(...this.metadataParts)));
    this.expect = 'a2-or-a3';
  }

  /** The recovered profile, once every call was accepted. */
  result(): ReceivedProfile {
    if (this.expect !== 'done' || !this.bf23 || !this.metadata || !this.configureIsdp) {
      throw new UnbindError('structure', this.currentCommand(), 'scp03tStructureError', 'the BPP ended early');
    }
    const upp = concatBytes(...this.uppParts);
    return {
      transactionId: this.bf23.transactionId,
      configureIsdp: this.configureIsdp,
      metadata: this.metadata,
      replaceSessionKeys: this.rsk,
      upp,
      uppSha256: createHash('sha256').update(upp).digest('hex'),
      segments: { ...this.counts },
    };
  }
}
