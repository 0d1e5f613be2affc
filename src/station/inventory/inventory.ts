/**
 * What the station asks of its BPP inventory, whichever holds it: the embedded local store
 * (one station, the default) or the line's PostgreSQL database (several stations). The claim
 * rules both keep are in docs/line-guide.md ("Claim semantics").
 */
import type { BppState } from '../store/bpp-store.ts';
import type { BatchManifest } from '../../core/formats/batch-manifest.ts';

export interface InventoryBpp {
  batchId: string;
  position: number;
  eid: Uint8Array;
  otpk: Uint8Array;
  transactionId: Uint8Array;
  /** BCD as in the metadata; FF-filled when unknown. */
  iccid: Uint8Array;
  state: BppState;
  /** The unit attempt that holds or spent it, when the inventory knows (the line's database does). */
  claimUnit?: string | null;
  /** The station of that attempt (line only). */
  claimStation?: string | null;
}

export type BppRef = Pick<InventoryBpp, 'batchId' | 'position'>;

export interface ClaimRequest {
  eid: Uint8Array;
  /** The chip's unused one-time public keys: the BPP must be bound to one of them. */
  unusedOtpks: readonly Uint8Array[];
  /** The unit attempt that will hold the claim (journal unit id). */
  unit: string;
  /** "batchId/position" of BPPs this unit must not take again. */
  excluded: ReadonlySet<string>;
  /** CI key ids the chip verifies with (EUICCInfo2): batches bound under them come first. */
  trustedCis: readonly Uint8Array[];
}

/** Another unit's unsettled attempt on this chip (a chip moved between stations mid-attempt). */
export interface UnsettledAttempt extends BppRef {
  otpk: Uint8Array;
  transactionId: Uint8Array;
  iccid: Uint8Array;
  station: string | null;
  unit: string | null;
}

export type ClaimResult =
  | { kind: 'claimed'; bpp: InventoryBpp }
  /** No loadable BPP for this chip and these keys. */
  | { kind: 'none' }
  /** Another attempt on this chip is unsettled: load nothing until it is (settleMoved). */
  | { kind: 'unsettled'; attempts: UnsettledAttempt[] }
  /** The inventory cannot be asked now (database unreachable) and nothing is assigned here. */
  | { kind: 'unavailable'; reason: string };

/** Something the operator should know about the inventory (the station shows it as a warning). */
export interface InventoryNotice {
  code: string;
  message: string;
}

export interface Inventory {
  readonly kind: 'local' | 'postgres';
  /** Every BPP bound to `eid`, any state (to tell "no BPP at all" from "none left"). */
  findByEid(eid: Uint8Array): Promise<InventoryBpp[]>;
  /**
   * Picks a BPP for this chip. PostgreSQL: the claim is durable (committed) when this
   * resolves, before anything is journaled. Local: nothing is written yet (see inFlight).
   */
  claim(req: ClaimRequest): Promise<ClaimResult>;
  /**
   * Called once `bpp.chosen` is journaled; resolves when the BPP is durably in flight.
   * Local: the state byte is written here (after the journal, as a single station always did).
   * PostgreSQL: already in flight since claim().
   */
  inFlight(b: InventoryBpp, unit: string): Promise<void>;
  readBpp(b: InventoryBpp): Promise<Uint8Array>;
  manifest(batchId: string): BatchManifest;
  stateOf(b: BppRef): Promise<BppState | undefined>;
  /** Sets the BPP's state for the attempt that holds it; durable when it resolves. */
  settle(b: BppRef, state: BppState, unit: string): Promise<void>;
  /**
   * Settles another attempt's claim from the chip now in this station's socket: `keyUsed`
   * from its key states, `profileListed` from its profile list. Returns what the row became.
   */
  settleMoved(a: UnsettledAttempt, chip: { keyUsed: boolean; profileListed: boolean }, by: string): Promise<'installed' | 'retired' | 'already-settled'>;
  /**
   * The chip proved that attempt `unit` installed this BPP (a verified PIR read back from its
   * notification list): installed, whether the row is still in flight for that attempt or a
   * restart retired it as failed-key-burnt (BF23 sent, no result). Nothing else is overwritten.
   * True when the row changed. `by` names who settled it (audit).
   */
  settleRecovered(b: BppRef, unit: string, by: string): Promise<boolean>;
  /** Notices (the line database gone or back); one given before the listener came is delivered to it. */
  onNotice?(fn: (n: InventoryNotice) => void): void;
  /** Counts per state, per batch (the UI's "BPPs left"). */
  counts(): Map<string, Record<BppState, number>>;
  close(): Promise<void>;
}
