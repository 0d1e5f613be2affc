/**
 * --cards: reads one chip without changing it. Supply at the configured class, cold reset and
 * Fi/Di negotiation as the station does, then through the FPA client behind the read-only gate:
 * SELECT ISD-R, GetEID, EUICCInfo2 and the dialect's factory info (one-time key states). The
 * slot is always powered off again.
 */
import { hexByte, toHex } from '../../core/bytes.ts';
import { isIfppError } from '../../core/errors.ts';
import { isValidEid } from '../../core/rsp/eid.ts';
import { TAG_EUICC_INFO2, TAG_GET_EUICC_DATA } from '../../core/rsp/es10.ts';
import type { SlotLink } from '../../transport/bridge/slot-link.ts';
import type { LoadingConfig, EidPolicy } from '../config/schema.ts';
import { projectEuiccDialect, type EuiccDialect } from '../fpa/dialect.ts';
import { FpaClient } from '../fpa/fpa-client.ts';
import { ProbeError, type Findings, type ProbePlace } from './errors.ts';
import { ReadOnlyTransmitter } from './read-only.ts';
import type { CardReport } from './report.ts';
import type { ChipFacts, StationCheck } from './station-check.ts';

export interface CardProbeContext {
  loading: LoadingConfig;
  eidPolicy: EidPolicy;
  dialect?: EuiccDialect;
  place: ProbePlace;
  /** The station's stores: whether the station could load the chip is checked after reading it. */
  station?: StationCheck;
}


export async function probeCard(link: SlotLink, ctx: CardProbeContext, findings: Findings): Promise<CardReport | undefined> {
  const where = `slot ${ctx.place.slot} (bridge ${ctx.place.bridge} channel ${link.slot})`;
  const read = await readCard(link, ctx, findings, where);
  // After the slot is powered off: the check only reads the store.
  if (read?.chip && ctx.station) read.card.station = ctx.station.check(read.chip, ctx.place, where, findings);
  return read?.card;
}

async function readCard(link: SlotLink, ctx: CardProbeContext, findings: Findings, where: string): Promise<{ card: CardReport; chip?: ChipFacts } | undefined> {
  const { loading, place } = ctx;
  try {
    let a;
    try {
      a = await link.activate({ vcc: loading.vcc, clockHz: loading.clockHz, pps: loading.pps });
    } catch (e) {
      if (!isIfppError(e)) throw e;
      findings.problem(
        new ProbeError('PROBE_CARD_ACTIVATION', `${where}: the card did not activate at class ${loading.vcc}: ${e.message}`, place, {
          hint: e.hint ?? 'check that the chip is seated and that loading.vcc suits it',
          cause: e,
        }),
      );
      return undefined;
    }
    const card: CardReport = {
      atr: toHex(a.atr).toUpperCase(),
      atrTa1: hexByte(a.parsed.ta1),
      protocols: a.parsed.protocols,
      ta1: hexByte(a.ta1),
      fi: a.fi,
      di: a.di,
      clockHz: a.clockHz,
      negotiation: a.negotiation,
    };
    const chip = await readChip(link, ctx, card, findings, where);
    return { card, ...(chip ? { chip } : {}) };
  } finally {
    await link.powerOff().catch(() => undefined);
  }
}

/** Fills `card`; returns what the station check needs, or undefined without a usable EID. */
async function readChip(link: SlotLink, ctx: CardProbeContext, card: CardReport, findings: Findings, where: string): Promise<ChipFacts | undefined> {
  const dialect = ctx.dialect ?? projectEuiccDialect;
  const allowed = new Set([TAG_GET_EUICC_DATA, TAG_EUICC_INFO2, dialect.factory.tags.getFactoryInfo]);
  const fpa = new FpaClient(new ReadOnlyTransmitter(link.channel, allowed, ctx.place), {
    dialect,
    blockSize: ctx.loading.blockSize,
    useLogicalChannel: ctx.loading.logicalChannel > 0,
  });
  const step = async (what: string, fn: () => Promise<void>): Promise<boolean> => {
    try {
      await fn();
      return true;
    } catch (e) {
      if (!isIfppError(e)) throw e;
      if (e instanceof ProbeError) findings.problem(e);
      else findings.problem(new ProbeError('PROBE_CARD_ES10', `${where}: ${what} failed: ${e.message}`, ctx.place, { hint: e.hint ?? 'check the chip and the eUICC dialect', cause: e }));
      return false;
    }
  };
  if (!(await step('SELECT ISD-R', () => fpa.selectIsdR()))) return undefined;
  let trustedCis: readonly Uint8Array[] | undefined;
  let unusedOtpks: Uint8Array[] | undefined;
  try {
    await step('GetEID', async () => {
      const eid = await fpa.getEid(false);
      card.eid = eid;
      card.eidValid = isValidEid(eid);
      if (!card.eidValid && ctx.eidPolicy.verifyCheckDigits) {
        findings.problem(
          new ProbeError('PROBE_CARD_EID', `${where}: EID ${eid} fails its check digits`, ctx.place, {
            hint: 'a damaged or mis-personalised chip: the station will refuse it (eidPolicy.verifyCheckDigits)',
          }),
        );
      }
    });
    await step('GetEUICCInfo2', async () => {
      const i = await fpa.getEuiccInfo2();
      trustedCis = i.euiccCiPKIdListForVerification;
      const r = i.extCardResource;
      card.euiccInfo2 = {
        svn: i.svn,
        firmware: i.euiccFirmwareVer,
        profileVersion: i.profileVersion,
        ciKeysForVerification: i.euiccCiPKIdListForVerification.map((k) => toHex(k)),
        ciKeysForSigning: i.euiccCiPKIdListForSigning.map((k) => toHex(k)),
        ...(r.freeNvm !== undefined ? { freeNvm: r.freeNvm } : {}),
        ...(r.freeRam !== undefined ? { freeRam: r.freeRam } : {}),
      };
    });
    await step('GetFactoryInfo', async () => {
      const f = await fpa.getFactoryInfo();
      const unusedKeys = f.oneTimeKeys.filter((k) => k.state === 'unused').map((k) => k.otpk);
      const unused = unusedKeys.length;
      card.factory = { fpaServices: f.fpaServices, oneTimeKeys: { unused, consumed: f.oneTimeKeys.length - unused } };
      // A closed chip takes no load whatever the store holds (the note below says so).
      if (f.fpaServices === 'open') unusedOtpks = unusedKeys;
      if (f.fpaServices === 'closed') findings.note(`${where}: FPA services are closed on this chip: it takes no more factory loads`, ctx.place);
      else if (unused === 0) findings.note(`${where}: the chip has no unused one-time key left: it cannot be loaded`, ctx.place);
    });
  } finally {
    await fpa.close().catch(() => undefined);
  }
  // An EID failing its check digits is refused by the station before any store is asked.
  if (card.eid === undefined || !card.eidValid) return undefined;
  return { eid: card.eid, ...(trustedCis ? { trustedCis } : {}), ...(unusedOtpks ? { unusedOtpks } : {}) };
}
