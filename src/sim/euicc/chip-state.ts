/**
 * What a simulated chip keeps in non-volatile memory, as a plain JSON-serialisable object:
 * one-time key states, installed profiles, FPA services state, notification counter. The
 * secrets themselves stay in the reel; this holds only what changes over the chip's life.
 *
 * A ChipStateStore persists it, so that a chip "remembers" across bridge process restarts
 * (the station's crash-recovery tests restart everything and ask the chip for its key state).
 * The file store writes atomically (temp file, fsync, rename): a kill -9 at any moment leaves
 * either the old or the new state, never a torn one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { EuiccStateError } from './errors.ts';

export const CHIP_STATE_FORMAT = 'ifpp-euicc-state/1';

/** 'deleted' keys are gone from the chip (BF72); they stay here so a key is never reborn. */
export type KeyLifecycle = 'unused' | 'consumed' | 'deleted';

export interface ChipKeyState {
  /** otPK.EUICC, lower-case hex (65-byte point), as in the reel. */
  otpk: string;
  state: KeyLifecycle;
}

export interface InstalledProfile {
  iccid: string;
  /** ISD-P AID, hex. */
  isdpAid: string;
  state: 'disabled' | 'enabled';
  /** StoreMetadataRequest (BF25) as received, hex. */
  metadata: string;
  /** dpProprietaryData (B8) from ConfigureISDP, hex, when the SM-DP sent one. */
  dpProprietaryData?: string;
  /** Size of the installed profile package (counts against NVM). */
  uppBytes: number;
  uppSha256: string;
  /** transactionId of the BPP that installed it, hex (absent for pre-installed profiles). */
  transactionId?: string;
  /** SetNickname (BF29): the profile's nickname. */
  nickname?: string;
}

/** A pending notification kept until the LPA removes it (BF30). */
export interface StoredNotification {
  seqNumber: number;
  /** NotificationEvent bit number (0 install, 1 enable, 2 disable, 3 delete). */
  event: number;
  iccid?: string;
  notificationAddress: string;
  /** The PendingNotification as the chip answers it (BF37 or OtherSignedNotification 30), hex. */
  der: string;
}

export interface ChipState {
  format: typeof CHIP_STATE_FORMAT;
  eid: string;
  fpaServices: 'open' | 'closed';
  keys: ChipKeyState[];
  profiles: InstalledProfile[];
  /** Last notification sequence number used (0 = none yet). */
  notificationSeq: number;
  /** Next ISD-P number to allocate (never reused, like a real chip's AID counter). */
  nextIsdp: number;
  /** Pending notifications, oldest first (absent in states saved before they were kept). */
  notifications?: StoredNotification[];
  /** SetDefaultDpAddress (BF3F); absent = none configured. */
  defaultDpAddress?: string;
}

export function freshChipState(eid: string, otpks: readonly string[]): ChipState {
  return {
    format: CHIP_STATE_FORMAT,
    eid,
    fpaServices: 'open',
    keys: otpks.map((otpk) => ({ otpk: otpk.toLowerCase(), state: 'unused' })),
    profiles: [],
    notificationSeq: 0,
    nextIsdp: 0,
  };
}

const KEY_STATES: readonly string[] = ['unused', 'consumed', 'deleted'];

/**
 * Checks that `x` is a saved state of this chip (same EID, same one-time keys in the same
 * order as the reel). Anything else is refused rather than half-used.
 */
export function checkChipState(x: unknown, eid: string, otpks: readonly string[], where = 'chip state'): ChipState {
  const bad = (why: string) => new EuiccStateError('EUICC_STATE_INVALID', `${where}: ${why}`, { hint: 'delete the state file to start the chip afresh' });
  if (typeof x !== 'object' || x === null) throw bad('not a JSON object');
  const s = x as Partial<ChipState>;
  if (s.format !== CHIP_STATE_FORMAT) throw bad(`format is ${JSON.stringify(s.format)}, expected "${CHIP_STATE_FORMAT}"`);
  if (s.eid !== eid) throw new EuiccStateError('EUICC_STATE_OTHER_CHIP', `${where} belongs to EID ${String(s.eid)}, not ${eid}`);
  if (s.fpaServices !== 'open' && s.fpaServices !== 'closed') throw bad('fpaServices must be "open" or "closed"');
  if (!Array.isArray(s.keys) || s.keys.length !== otpks.length) throw bad(`has ${Array.isArray(s.keys) ? s.keys.length : 'no'} keys, the reel has ${otpks.length}`);
  s.keys.forEach((k, i) => {
    if (typeof k?.otpk !== 'string' || k.otpk.toLowerCase() !== otpks[i]!.toLowerCase()) throw bad(`key ${i} is not the reel's one-time key ${i}`);
    if (!KEY_STATES.includes(k.state)) throw bad(`key ${i} has state ${JSON.stringify(k.state)}`);
  });
  if (!Array.isArray(s.profiles)) throw bad('profiles must be an array');
  for (const p of s.profiles) {
    if (typeof p?.iccid !== 'string' || typeof p.isdpAid !== 'string' || typeof p.metadata !== 'string' || (p.state !== 'enabled' && p.state !== 'disabled')) {
      throw bad('a profile lacks iccid, isdpAid, metadata or state');
    }
    if (!Number.isSafeInteger(p.uppBytes) || p.uppBytes < 0) throw bad(`profile ${p.iccid} has no valid uppBytes`);
  }
  if (!Number.isSafeInteger(s.notificationSeq) || s.notificationSeq! < 0) throw bad('notificationSeq must be a non-negative integer');
  if (!Number.isSafeInteger(s.nextIsdp) || s.nextIsdp! < 0) throw bad('nextIsdp must be a non-negative integer');
  if (s.notifications !== undefined) {
    if (!Array.isArray(s.notifications)) throw bad('notifications must be an array');
    for (const n of s.notifications) {
      if (!Number.isSafeInteger(n?.seqNumber) || !Number.isInteger(n.event) || typeof n.der !== 'string' || typeof n.notificationAddress !== 'string') {
        throw bad('a notification lacks seqNumber, event, notificationAddress or der');
      }
    }
  }
  if (s.defaultDpAddress !== undefined && typeof s.defaultDpAddress !== 'string') throw bad('defaultDpAddress must be a string');
  return s as ChipState;
}

/** Where a chip's state lives between runs. */
export interface ChipStateStore {
  /** The saved state (unchecked JSON value), or undefined when there is none yet. */
  load(): unknown;
  /** Called after every change, before the card answers the command that made it. */
  save(state: ChipState): void;
}

/** Keeps the state in one JSON file, written atomically. */
export function fileStateStore(path: string): ChipStateStore {
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new EuiccStateError('EUICC_STATE_UNREADABLE', `cannot read chip state ${path}: ${(e as Error).message}`, { cause: e });
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (e) {
        throw new EuiccStateError('EUICC_STATE_INVALID', `chip state ${path} is not JSON: ${(e as Error).message}`, { cause: e });
      }
    },
    save(state) {
      mkdirSync(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, JSON.stringify(state, null, 1) + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    },
  };
}

/** In-memory store (tests): keeps a deep copy of the last saved state and counts saves. */
export interface MemoryStateStore extends ChipStateStore {
  readonly saved: ChipState | undefined;
  readonly saves: number;
}

export function memoryStateStore(initial?: ChipState): MemoryStateStore {
  let saved = initial ? structuredClone(initial) : undefined;
  let saves = 0;
  return {
    load: () => (saved ? structuredClone(saved) : undefined),
    save(state) {
      saved = structuredClone(state);
      saves++;
    },
    get saved() {
      return saved;
    },
    get saves() {
      return saves;
    },
  };
}
