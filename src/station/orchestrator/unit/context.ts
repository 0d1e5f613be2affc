/**
 * What a unit's stages share: the unit (across attempts) and the attempt in progress.
 */
import type { EventBus, SlotState } from '../../events.ts';
import type { AlreadyProvisionedAction, UnknownEidAction } from '../../config/schema.ts';
import type { EuiccDialect } from '../../fpa/dialect.ts';
import type { Journal } from '../../journal/journal.ts';
import type { UnitOutcomeCode } from '../../journal/records.ts';
import type { Inventory, InventoryBpp } from '../../inventory/inventory.ts';
import type { UnitSlot } from '../../hardware/card-slot.ts';
import type { EuiccTrust } from '../euicc-trust.ts';
import type { FpaClient } from '../../fpa/fpa-client.ts';

export interface UnitPolicy {
  dialect?: EuiccDialect;
  blockSize: number;
  useLogicalChannel: boolean;
  maxAttemptsPerChip: number;
  verifyProfileListed: boolean;
  /** eidPolicy.verifyCheckDigits: refuse an EID whose mod-97 check digits are wrong. Default true. */
  verifyEidCheckDigits?: boolean;
  /**
   * eidPolicy.unknownEid: what to do with a chip that is not for this station (no BPP in the
   * store is bound to its EID). "fail" (default) fails the unit; "skip" leaves the chip
   * untouched and ends the unit as `skipped`.
   */
  unknownEid?: UnknownEidAction;
  /** eidPolicy.alreadyProvisioned: "skip" (default) ends a chip that holds a profile of ours as already-provisioned. */
  alreadyProvisioned?: AlreadyProvisionedAction;
  /** Delete unused one-time keys and close FPA services after a successful load. */
  endOfProduction?: { deleteUnusedKeys: boolean; closeFpaServices: boolean };
}

export interface UnitDeps {
  /** Where BPPs are claimed and settled: the local store, or the line's database. */
  inventory: Inventory;
  trust: EuiccTrust;
  journal: Journal;
  bus: EventBus;
  policy: UnitPolicy;
  /** Aborts every unit at once (e-stop, guard, operator abort). */
  signal: AbortSignal;
  now?: () => number;
  /**
   * Told each chip's EID as soon as it is read, before anything is decided for it: the station
   * settles units an earlier stop left unknown on this chip (chip-seen-again.ts).
   */
  seen?: (eid: string, fpa: FpaClient) => Promise<unknown>;
}

export interface UnitResult {
  unit: string;
  slot: string;
  eid?: string;
  iccid?: string;
  outcome: UnitOutcomeCode;
  code?: string;
  reason?: string;
  attempts: number;
  millis: number;
  /** Installed units: whether the finish stage succeeded (absent when finishing is off). */
  finished?: boolean;
}

/** One unit on one slot, across its attempts. */
export interface UnitRun {
  readonly unit: string;
  readonly slot: UnitSlot;
  readonly deps: UnitDeps;
  readonly now: () => number;
  readonly t0: number;
  /** Learnt by the identify stage (kept across attempts). */
  eid?: string;
  /** Of the BPP chosen last. */
  iccid?: string;
  /** CI keys the chip trusts (EUICCInfo2, read once per unit). */
  trustedCis?: readonly Uint8Array[];
  /** BPPs this unit must not take again ("batch/position"). */
  readonly excluded: Set<string>;
  emitState(state: SlotState, reason?: string, code?: string): void;
}

/** One attempt of a unit. */
export interface Attempt {
  /** The unit id, with "#n" from the second attempt on. */
  readonly id: string;
  readonly number: number;
  /**
   * unit.start and unit.identified record nothing irreversible: they go to disk with the next
   * record the unit waits for (the journal keeps order), not at the cost of a sync wait each.
   */
  readonly unsynced: Promise<unknown>[];
  chosen?: InventoryBpp;
  /** BF23 went out: from here the one-time key may be consumed. */
  bf23Sent: boolean;
}

/** Marks a promise nobody awaits yet as handled (its failure surfaces where it is awaited). */
export function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
