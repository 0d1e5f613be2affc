/**
 * Card factory for the bridge simulator process (`--card-module euicc`):
 * builds a SimulatedEuicc for a slot from a reel file and JSON options.
 *
 * Which chip goes into a slot: `eid` if given, else `eids[slot]`, else the reel's chip number
 * `firstChip + slot` (default firstChip 0). With `stateDir`, each chip's state is kept in
 * `<stateDir>/<eid>.json`, so the chip remembers its consumed keys and installed profiles
 * across bridge restarts (kill -9 included); within one process, a chip pulled and inserted
 * again (bridge control `remove` / `insert`) is the same chip even without a stateDir.
 *
 *   ifpp sim bridge --slots 2 --card-module euicc \
 *     --card-options '{"reel":"reel.ndjson","stateDir":"/tmp/chips","ta1":150}'
 */
import { join, resolve } from 'node:path';
import { fromHex } from '../../core/bytes.ts';
import type { FactoryDialect } from '../../core/rsp/factory.ts';
import type { CardFactory } from '../card/card-model.ts';
import { loadNdjson, REEL_FORMAT, type ReelChip, type ReelHeader } from '../eum/formats.ts';
import type { PreinstalledProfile } from './chip.ts';
import { fileStateStore, type ChipState } from './chip-state.ts';
import { EuiccConfigError } from './errors.ts';
import { SimulatedEuicc } from './euicc-card.ts';
import type { EuiccFaults } from './faults.ts';
import type { EuiccTiming } from './timing.ts';

/** JSON options of one slot's card (what `--card-options` and `insert <slot> <json>` carry). */
export interface EuiccCardOptions {
  /** Reel file (NDJSON, ifpp-reel/1), relative to the working directory. */
  readonly reel: string;
  readonly eid?: string;
  /** EIDs by slot (array, or object keyed by slot number). */
  readonly eids?: readonly (string | null)[] | Readonly<Record<string, string>>;
  readonly firstChip?: number;
  readonly stateDir?: string;
  /** ATR: TA1, protocols, TC1, TC2 (WI), historical bytes (hex). */
  readonly ta1?: number;
  readonly protocols?: readonly (0 | 1)[];
  readonly tc1?: number;
  readonly wi?: number;
  readonly historical?: string;
  readonly atrDelayClocks?: number;
  readonly logicalChannels?: number;
  /** The chip's clock for certificate validity, ISO 8601 (default: the host clock). */
  readonly now?: string;
  readonly nvmCapacity?: number;
  readonly notificationAddress?: string;
  readonly timing?: Partial<EuiccTiming>;
  readonly faults?: Partial<EuiccFaults>;
  readonly preinstalled?: readonly PreinstalledProfile[];
  /** Further trusted CI certificates, base64 DER. */
  readonly extraCiCertificates?: readonly string[];
}

type Reel = { header: ReelHeader; records: ReelChip[] };
const reels = new Map<string, Promise<Reel>>();
/** Chip states alive in this process, so a re-inserted chip is the same chip. */
const liveStates = new Map<string, ChipState>();

function loadReel(path: string): Promise<Reel> {
  const abs = resolve(path);
  let p = reels.get(abs);
  if (!p) {
    p = loadNdjson<ReelHeader, ReelChip>(abs, REEL_FORMAT, 'reel');
    reels.set(abs, p);
    p.catch(() => reels.delete(abs));
  }
  return p;
}

function pickChip(reel: Reel, o: EuiccCardOptions, slot: number, path: string): ReelChip {
  const fromList = o.eids === undefined ? undefined : Array.isArray(o.eids) ? o.eids[slot] : (o.eids as Record<string, string>)[String(slot)];
  const eid = o.eid ?? fromList ?? undefined;
  if (eid !== undefined) {
    const c = reel.records.find((r) => r.eid === eid);
    if (!c) throw new EuiccConfigError('EUICC_UNKNOWN_EID', `EID ${eid} is not on reel ${path}`);
    return c;
  }
  const i = (o.firstChip ?? 0) + slot;
  const c = reel.records[i];
  if (!c) throw new EuiccConfigError('EUICC_REEL_EXHAUSTED', `reel ${path} has ${reel.records.length} chips; slot ${slot} wants chip ${i}`);
  return c;
}

/** Builds the card of one slot (also usable directly by tests). */
export async function euiccCardFromReel(o: EuiccCardOptions, slot = 0, dialect?: FactoryDialect): Promise<SimulatedEuicc> {
  if (typeof o?.reel !== 'string') throw new EuiccConfigError('EUICC_NO_REEL', 'card options need "reel": the path of a reel file');
  const reel = await loadReel(o.reel);
  const chip = pickChip(reel, o, slot, o.reel);
  const key = o.stateDir !== undefined ? `${resolve(o.stateDir)}|${chip.eid}` : `${resolve(o.reel)}|${chip.eid}`;
  const live = liveStates.get(key);
  const card = new SimulatedEuicc({
    chip,
    header: reel.header,
    ...(o.extraCiCertificates ? { extraCiCertificates: o.extraCiCertificates.map((c) => new Uint8Array(Buffer.from(c, 'base64'))) } : {}),
    atr: {
      ...(o.ta1 !== undefined ? { ta1: o.ta1 } : {}),
      ...(o.protocols !== undefined ? { protocols: o.protocols } : {}),
      ...(o.tc1 !== undefined ? { tc1: o.tc1 } : {}),
      ...(o.wi !== undefined ? { wi: o.wi } : {}),
      ...(o.historical !== undefined ? { historical: fromHex(o.historical, 'historical bytes') } : {}),
    },
    ...(o.atrDelayClocks !== undefined ? { atrDelayClocks: o.atrDelayClocks } : {}),
    ...(o.logicalChannels !== undefined ? { logicalChannels: o.logicalChannels } : {}),
    ...(o.now !== undefined ? { now: o.now } : {}),
    ...(o.nvmCapacity !== undefined ? { nvmCapacity: o.nvmCapacity } : {}),
    ...(o.notificationAddress !== undefined ? { notificationAddress: o.notificationAddress } : {}),
    ...(o.timing ? { timing: o.timing } : {}),
    ...(o.faults ? { faults: o.faults } : {}),
    ...(o.preinstalled ? { preinstalled: o.preinstalled } : {}),
    ...(live ? { state: live } : {}),
    ...(o.stateDir !== undefined ? { store: fileStateStore(join(o.stateDir, `${chip.eid}.json`)) } : {}),
    ...(dialect ? { dialect } : {}),
  });
  liveStates.set(key, card.chip.state);
  return card;
}

export const createCard: CardFactory = ({ slot, options }) => euiccCardFromReel(options as EuiccCardOptions, slot);
