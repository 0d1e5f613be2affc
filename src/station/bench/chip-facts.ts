/**
 * What the bench reads from a chip, read-only: EID (check digits), EUICCInfo2 essentials,
 * factory state (FPA services, one-time keys), profiles, pending notifications, addresses.
 * Also the gate for LPA changes: refused while the chip is still in production (SGP.41
 * EUICCF04: LPA services only once no one-time key remains; FPA services closed at the end).
 */
import { toHex } from '../../core/bytes.ts';
import { isIfppError } from '../../core/errors.ts';
import { isValidEid } from '../../core/rsp/eid.ts';
import { ProfileClass, ProfileState } from '../../core/rsp/metadata.ts';
import { NotificationEvent } from '../../core/rsp/pir.ts';
import { BenchError, type BenchChip } from './bench-chip.ts';

export interface ProfileFacts {
  readonly iccid: string | undefined;
  readonly state: string;
  readonly name: string | undefined;
  readonly provider: string | undefined;
  readonly class: string;
  readonly nickname: string | undefined;
  readonly isdpAid: string | undefined;
}

export interface NotificationFacts {
  readonly seqNumber: number;
  readonly event: string;
  readonly iccid: string | undefined;
  readonly address: string;
}

export interface ChipFacts {
  readonly reader: string;
  readonly atr: string;
  readonly protocol: string;
  readonly eid: string;
  readonly eidCheckDigits: 'ok' | 'wrong';
  readonly euiccInfo2: { svn: string; firmware: string; profileVersion: string; freeNvm: number | undefined; ciForVerification: string[]; ciForSigning: string[] } | { error: string };
  /** 'unknown' when the chip does not answer the factory request (closed chips may refuse it). */
  readonly fpaServices: 'open' | 'closed' | 'unknown';
  readonly oneTimeKeys: { unused: number; consumed: number } | undefined;
  readonly profiles: ProfileFacts[];
  readonly notifications: NotificationFacts[] | { error: string };
}

const EVENT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(NotificationEvent).map(([k, v]) => [v, k.replace(/^notification/, '').toLowerCase()]));

export function eventName(bits: readonly number[]): string {
  return bits.map((b) => EVENT_NAMES[b] ?? `bit${b}`).join('+') || 'none';
}

const why = (e: unknown) => (isIfppError(e) ? `${e.code}: ${e.message}` : String(e));

export async function readFactory(chip: BenchChip): Promise<Pick<ChipFacts, 'fpaServices' | 'oneTimeKeys'>> {
  try {
    const f = await chip.fpa.getFactoryInfo();
    return {
      fpaServices: f.fpaServices,
      oneTimeKeys: { unused: f.oneTimeKeys.filter((k) => k.state === 'unused').length, consumed: f.oneTimeKeys.filter((k) => k.state === 'consumed').length },
    };
  } catch (e) {
    if (!isIfppError(e) || e.code !== 'FPA_SW_ERROR') throw e;
    return { fpaServices: 'unknown', oneTimeKeys: undefined };
  }
}

export async function readProfiles(chip: BenchChip): Promise<ProfileFacts[]> {
  const l = await chip.fpa.listProfiles();
  if (!l.ok) throw new BenchError('BENCH_PROFILES_UNREADABLE', `the chip refused GetProfilesInfo: ${l.error.name ?? l.error.code}`);
  return l.profiles.map((p) => ({
    iccid: p.iccid,
    state: p.profileState !== undefined ? ProfileState.describe(p.profileState).replace(/\(\d+\)$/, '') : 'unknown',
    name: p.profileName,
    provider: p.serviceProviderName,
    class: ProfileClass.describe(p.profileClass ?? ProfileClass.values.operational).replace(/\(\d+\)$/, ''),
    nickname: p.profileNickname,
    isdpAid: p.isdpAid ? toHex(p.isdpAid) : undefined,
  }));
}

export async function readNotifications(chip: BenchChip): Promise<NotificationFacts[]> {
  const l = await chip.lpa.listNotifications();
  if (!l.ok) throw new BenchError('BENCH_NOTIFICATIONS_UNREADABLE', `the chip refused ListNotification: ${l.error.name ?? l.error.code}`);
  return l.notifications.map((n) => ({ seqNumber: n.seqNumber, event: eventName(n.profileManagementOperation), iccid: n.iccid, address: n.notificationAddress }));
}

export async function readChipFacts(chip: BenchChip): Promise<ChipFacts> {
  const eid = await chip.fpa.getEid(false);
  let euiccInfo2: ChipFacts['euiccInfo2'];
  try {
    const i = await chip.fpa.getEuiccInfo2();
    euiccInfo2 = {
      svn: i.svn,
      firmware: i.euiccFirmwareVer,
      profileVersion: i.profileVersion,
      freeNvm: i.extCardResource.freeNvm,
      ciForVerification: i.euiccCiPKIdListForVerification.map(toHex),
      ciForSigning: i.euiccCiPKIdListForSigning.map(toHex),
    };
  } catch (e) {
    if (!isIfppError(e)) throw e;
    euiccInfo2 = { error: why(e) };
  }
  const factory = await readFactory(chip);
  let notifications: ChipFacts['notifications'];
  try {
    notifications = await readNotifications(chip);
  } catch (e) {
    if (!isIfppError(e)) throw e;
    notifications = { error: why(e) };
  }
  return {
    reader: chip.readerName,
    atr: toHex(chip.atr),
    protocol: chip.protocol,
    eid,
    eidCheckDigits: isValidEid(eid) ? 'ok' : 'wrong',
    euiccInfo2,
    ...factory,
    profiles: await readProfiles(chip),
    notifications,
  };
}

/**
 * LPA changes are refused while the chip is in production: FPA services open or unused
 * one-time keys left (the chip itself answers disallowedByPolicy then; say why up front).
 */
export async function refuseWhileInProduction(chip: BenchChip, what: string): Promise<void> {
  const f = await readFactory(chip);
  const keys = f.oneTimeKeys?.unused ?? 0;
  if (f.fpaServices === 'open' || keys > 0) {
    const state = [f.fpaServices === 'open' ? 'FPA services are open' : undefined, keys > 0 ? `${keys} unused one-time key${keys === 1 ? '' : 's'} left` : undefined].filter(Boolean).join(', ');
    throw new BenchError('BENCH_IN_PRODUCTION', `refused to ${what}: the chip is still in production (${state}); LPA functions open only once it is finished (SGP.41 EUICCF04)`, {
      hint: `finish the chip first: ifpp bench finish --reader "${chip.readerName}" (deletes unused keys, closes FPA services)`,
    });
  }
}
