/**
 * One ES10b.LoadBoundProfilePackage on the simulated chip: takes the load calls (BF36+BF23,
 * A0, A1, each 88, [A2], A3, each 86), runs them through BppReceiver (which verifies, derives
 * the session keys and decrypts), adds what only the chip knows (its installed profiles, its
 * free memory, its one-time key states) and installs the profile at the end.
 *
 * Outcome per call: carry on (9000, no data), a signed ProfileInstallationResult (BF37: the
 * final one, or an early one on the first failure), or a bare status word when not even a
 * transactionId could be read. The one-time key is marked consumed as soon as BF23 is accepted,
 * so a load that fails later has burnt it, as on a real chip.
 */
import { createHash } from 'node:crypto';
import { toHex } from '../../core/bytes.ts';
import { ecdsaSign } from '../../core/crypto/ecdsa.ts';
import { isIfppError } from '../../core/errors.ts';
import { decodeBf23 } from '../../core/rsp/bf23.ts';
import { parseIccid } from '../../core/rsp/iccid.ts';
import { encodeDpProprietaryData, type StoreMetadataRequest } from '../../core/rsp/metadata.ts';
import { BppCommandId, encodePir, ErrorReason, NotificationEvent, type BppCommandIdName, type ErrorReasonName, type FinalResult } from '../../core/rsp/pir.ts';
import { readHeader } from '../../core/tlv/ber-tlv.ts';
import { BppReceiver, UnbindError } from '../../binding/receive-bpp.ts';
import { summarizeUpp } from '../profiles/upp.ts';
import type { ChipState, InstalledProfile } from './chip-state.ts';
import type { PreparedLoad } from './factory-services.ts';
import type { ChipIdentity } from './identity.ts';
import { isdpAidFor, profileByIccid, usedNvm } from './profiles.ts';

/** SIMalliance EUICCResponse { peStatus { PEStatus { status ok } } }: the simaResponse of a success. */
export const SIMA_RESPONSE_OK = Uint8Array.of(0x30, 0x07, 0xa0, 0x05, 0x30, 0x03, 0x80, 0x01, 0x00);

export interface LoadEnvironment {
  readonly identity: ChipIdentity;
  readonly state: ChipState;
  /** Bytes of NVM available for profiles in total. */
  readonly nvmCapacity: number;
  /** Fault: no memory left, whatever the capacity says. */
  readonly outOfMemory: boolean;
  /** notificationAddress of the PIR when the metadata names none for install. */
  readonly notificationAddress: string;
}

export type LoadStep =
  | { readonly kind: 'continue' }
  | { readonly kind: 'pir'; readonly pir: Uint8Array; readonly final: FinalResult; readonly profile?: InstalledProfile }
  | { readonly kind: 'sw'; readonly sw: number; readonly why: string };

/** What a call cost the chip beyond the per-call work (for the timing model). */
export interface LoadWork {
  verified: boolean;
  signed: boolean;
}

export class BppLoadSession {
  private receiver: BppReceiver | undefined;
  private transactionId: Uint8Array | undefined;
  private keyBurnt = false;
  private iccidChecked = false;
  private profileBytes = 0;
  /** True once the session answered BF37 (or an error SW): further calls earn 6A88. */
  finished = false;
  /** Why the load failed, for logs and tests. */
  failure: { bppCommandId: BppCommandIdName; errorReason: ErrorReasonName; message: string } | undefined;

  constructor(
    private readonly env: LoadEnvironment,
    private readonly prepared: PreparedLoad | undefined,
  ) {}

  /** Processes one load call; `work` says what it cost. */
  accept(call: Uint8Array, work: LoadWork): LoadStep {
    if (this.finished) return { kind: 'sw', sw: 0x6a88, why: 'the load already ended' };
    if (!this.receiver) return this.first(call, work);
    return this.next(call, work);
  }

  private first(call: Uint8Array, work: LoadWork): LoadStep {
    try {
      const h = readHeader(call);
      this.transactionId = decodeBf23(call.subarray(h.headerLength)).transactionId;
    } catch (e) {
      if (!isIfppError(e)) throw e;
      this.finished = true;
      return { kind: 'sw', sw: 0x6a80, why: `BF36 does not start with a readable BF23: ${e.message}` };
    }
    const p = this.prepared;
    if (!p) {
      // No PrepareFactoryLoad before this BPP: no CERT.DPpb to check BF23 with, no key chosen,
      // i.e. no session this transaction could belong to.
      return this.fail(work, 'initialiseSecureChannel', 'invalidTransactionId', 'no PrepareFactoryLoad (BF71) preceded this BPP');
    }
    this.receiver = new BppReceiver({
      eid: this.env.identity.eid,
      otSecretKey: p.otSk,
      otCurve: this.env.identity.curve,
      dpPbPublicKey: p.dpPbPublicKey,
      dpPbCurve: p.dpPbCurve,
      euiccOtpk: p.otpk,
    });
    work.verified = true;
    return this.next(call, work);
  }

  private next(call: Uint8Array, work: LoadWork): LoadStep {
    const r = this.receiver!;
    try {
      r.accept(call);
    } catch (e) {
      this.burnKeyIfOpen();
      if (e instanceof UnbindError) return this.fail(work, e.bppCommandId, e.errorReason, e.message);
      throw e;
    }
    this.burnKeyIfOpen();
    if (call[0] === 0x86) {
      this.profileBytes += call.length;
      if (this.memoryExceeded(this.profileBytes)) {
        return this.fail(work, 'loadProfileElements', 'installFailedDueToInsufficientMemoryForProfile', `no NVM left for ${this.profileBytes} bytes of profile`);
      }
    }
    const m = r.storedMetadata;
    if (m && !this.iccidChecked) {
      this.iccidChecked = true;
      if (profileByIccid(this.env.state, m.iccid)) {
        return this.fail(work, 'storeMetadata', 'installFailedDueToIccidAlreadyExistsOnEuicc', `ICCID ${m.iccid} is already installed`);
      }
    }
    if (!r.done) return { kind: 'continue' };
    return this.install(work);
  }

  private memoryExceeded(bytes: number): boolean {
    return this.env.outOfMemory || usedNvm(this.env.state) + bytes > this.env.nvmCapacity;
  }

  private burnKeyIfOpen(): void {
    if (this.keyBurnt || !this.receiver?.secureChannelOpen) return;
    this.keyBurnt = true;
    const k = this.env.state.keys[this.prepared!.keyIndex]!;
    if (k.state === 'unused') k.state = 'consumed';
  }

  private install(work: LoadWork): LoadStep {
    const got = this.receiver!.result();
    let headerIccid: string;
    try {
      headerIccid = summarizeUpp(got.upp).iccid;
    } catch (e) {
      if (!isIfppError(e)) throw e;
      return this.fail(work, 'loadProfileElements', 'installFailedDueToPEProcessingError', `profile package refused: ${e.message}`);
    }
    if (!sameIccid(headerIccid, got.metadata.iccid)) {
      return this.fail(work, 'loadProfileElements', 'installFailedDueToIccidMismatch', `ProfileHeader ICCID ${headerIccid} differs from the metadata ICCID ${got.metadata.iccid}`);
    }
    // Checked at the metadata already; again here in case the chip changed meanwhile.
    if (profileByIccid(this.env.state, got.metadata.iccid)) {
      return this.fail(work, 'loadProfileElements', 'installFailedDueToIccidAlreadyExistsOnEuicc', `ICCID ${got.metadata.iccid} is already installed`);
    }
    if (this.memoryExceeded(got.upp.length)) {
      return this.fail(work, 'loadProfileElements', 'installFailedDueToInsufficientMemoryForProfile', `no NVM left for a profile of ${got.upp.length} bytes`);
    }
    const s = this.env.state;
    const aid = isdpAidFor(s.nextIsdp++);
    const dp = got.configureIsdp.dpProprietaryData;
    const profile: InstalledProfile = {
      iccid: got.metadata.iccid,
      isdpAid: toHex(aid),
      state: 'disabled',
      metadata: toHex(got.metadata.raw),
      ...(dp ? { dpProprietaryData: toHex(encodeDpProprietaryData(dp)) } : {}),
      uppBytes: got.upp.length,
      uppSha256: createHash('sha256').update(got.upp).digest('hex'),
      transactionId: toHex(got.transactionId),
    };
    s.profiles.push(profile);
    const final: FinalResult = { kind: 'success', aid, simaResponse: SIMA_RESPONSE_OK };
    return { kind: 'pir', pir: this.pir(final, got.metadata, work), final, profile };
  }

  private fail(work: LoadWork, bppCommandId: BppCommandIdName, errorReason: ErrorReasonName, message: string): LoadStep {
    this.failure = { bppCommandId, errorReason, message };
    const final: FinalResult = { kind: 'error', bppCommandId: BppCommandId.values[bppCommandId], errorReason: ErrorReason.values[errorReason] };
    return { kind: 'pir', pir: this.pir(final, this.receiver?.storedMetadata, work), final };
  }

  private pir(final: FinalResult, metadata: StoreMetadataRequest | undefined, work: LoadWork): Uint8Array {
    this.finished = true;
    work.signed = true;
    const s = this.env.state;
    s.notificationSeq++;
    const install = metadata?.notificationConfigurationInfo?.find((n) => n.profileManagementOperation.includes(NotificationEvent.notificationInstall));
    const id = this.env.identity;
    return encodePir(
      {
        transactionId: this.transactionId!,
        notificationMetadata: {
          seqNumber: s.notificationSeq,
          profileManagementOperation: [NotificationEvent.notificationInstall],
          notificationAddress: install?.notificationAddress ?? this.env.notificationAddress,
          iccid: metadata?.iccid,
        },
        smdpOid: this.prepared?.smdpOid,
        finalResult: final,
      },
      (bf27) => ecdsaSign(id.curve, id.skEuicc, bf27),
    );
  }
}

function sameIccid(a: string, b: string): boolean {
  try {
    return parseIccid(a) === parseIccid(b);
  } catch {
    return false;
  }
}
