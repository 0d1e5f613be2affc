/**
 * --cards: would the station load this chip? The "wrong chip" question answered from the
 * station's own stores, opened read-only, with the unit runner's own checks: CERT.EUICC by EID
 * and its chain (EuiccTrust), the BPPs loadable for the chip's unused keys (BppStore.loadable),
 * and whether the chip trusts the CI of their batch (chipTrustsBatch). Nothing is written: the
 * store is opened read-only, so not even a BPP state can change.
 *
 * The stores take no lock (a running station holds the bridge ports, not the store), so they
 * can be read beside one; a store that cannot be opened is a note and the check is skipped.
 */
import { readdirSync } from 'node:fs';
import { eidToBytes } from '../../core/rsp/eid.ts';
import { isIfppError } from '../../core/errors.ts';
import { EuiccStore } from '../euicc-data/euicc-store.ts';
import { EuiccTrust, EuiccTrustError } from '../orchestrator/euicc-trust.ts';
import { chipTrustsBatch } from '../store/batch-trust.ts';
import { BPP_STATE_NAMES, BppStore, type StoredBpp } from '../store/bpp-store.ts';
import { ProbeError, type Findings, type ProbePlace } from './errors.ts';
import type { CardStationCheck } from './report.ts';

/** What the probe read from a chip that the check needs (raw, unlike the report). */
export interface ChipFacts {
  eid: string;
  /** EUICCInfo2 euiccCiPKIdListForVerification; undefined when EUICCInfo2 was not read. */
  trustedCis?: readonly Uint8Array[];
  /** Unused one-time public keys; undefined when the factory info was not read or FPA services are closed. */
  unusedOtpks?: readonly Uint8Array[];
}

const IMPORT_HINT = 'ifpp euicc import / ifpp bpp import';

export class StationCheck {
  private readonly trust: EuiccTrust | undefined;

  private constructor(
    readonly dir: string,
    private readonly euicc: EuiccStore | undefined,
    private readonly bpps: BppStore | undefined,
  ) {
    this.trust = euicc ? new EuiccTrust(euicc) : undefined;
  }

  /**
   * Opens the stores in `storeDir` read-only. Undefined (with one note in `findings`) when there
   * is nothing to check against: no store folder, nothing imported, or a store that cannot be read.
   */
  static open(storeDir: string, findings: Findings): StationCheck | undefined {
    const place: ProbePlace = { store: storeDir };
    const unread = (e: unknown) => {
      findings.note(`the store ${storeDir} could not be read (${e instanceof Error ? e.message : String(e)}): the chips were not checked against it`, place);
      return undefined;
    };
    let entries: string[] | undefined;
    try {
      entries = readdirSync(storeDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return unread(e);
    }
    if (!entries || entries.length === 0) {
      findings.note(`no eUICC data / no BPP batches imported yet (${IMPORT_HINT}): the store ${storeDir} is ${entries ? 'empty' : 'not there'}, so the chips were not checked against it`, place);
      return undefined;
    }
    let euicc: EuiccStore | undefined;
    let bpps: BppStore | undefined;
    try {
      euicc = EuiccStore.open(storeDir, { readOnly: true });
      bpps = BppStore.open(storeDir, { readOnly: true });
    } catch (e) {
      euicc?.close();
      return unread(e);
    }
    const noData = euicc.names.length === 0;
    const noBatch = bpps.batchIds().length === 0;
    if (noData && noBatch) {
      euicc.close();
      bpps.close();
      findings.note(`no eUICC data / no BPP batches imported yet (${IMPORT_HINT}): the store ${storeDir} holds neither, so the chips were not checked against it`, place);
      return undefined;
    }
    if (noData) findings.note(`no eUICC data imported yet (ifpp euicc import) in the store ${storeDir}: CERT.EUICC of the chips was not checked`, place);
    if (noBatch) findings.note(`no BPP batches imported yet (ifpp bpp import) in the store ${storeDir}: the chips' BPPs were not checked`, place);
    if (noData) euicc.close();
    if (noBatch) bpps.close();
    return new StationCheck(storeDir, noData ? undefined : euicc, noBatch ? undefined : bpps);
  }

  /** Checks one chip; every reason production would fail on it is a problem in `findings`. */
  check(chip: ChipFacts, place: ProbePlace, where: string, findings: Findings): CardStationCheck {
    const out: CardStationCheck = {};
    const { eid } = chip;
    let unknown = false;
    if (this.trust && this.euicc) {
      const rec = this.euicc.lookup(eid);
      if (!rec) {
        unknown = true;
        out.euiccData = { state: 'unknown' };
      } else {
        try {
          this.trust.certificateFor(eid);
          out.euiccData = { state: 'ok', source: rec.source };
        } catch (e) {
          // A certificate that does not even parse is as invalid as one that does not verify.
          const reason = e instanceof EuiccTrustError ? e.message : `CERT.EUICC of ${eid} cannot be read: ${e instanceof Error ? e.message : String(e)}`;
          out.euiccData = { state: 'invalid', source: rec.source, reason };
        }
      }
    }
    const bound = this.bpps ? this.bpps.findByEid(eidToBytes(eid)) : [];
    if (unknown) {
      // Not one of ours, most likely: one problem, not one per store.
      const none = this.bpps && bound.length === 0 ? ', and no BPP in the store is bound to it' : '';
      findings.problem(
        new ProbeError('PROBE_CARD_UNKNOWN', `${where}: EID ${eid} is in none of the imported eUICC data (${this.euicc!.names.join(', ')})${none}`, place, {
          hint: 'import the EUM eUICC data for this chip lot (ifpp euicc import), or the chip is not ours: take it off the line',
        }),
      );
    } else if (out.euiccData?.state === 'invalid') {
      findings.problem(
        new ProbeError('PROBE_CARD_CERT', `${where}: ${out.euiccData.reason} (eUICC data ${out.euiccData.source})`, place, {
          hint: 'the eUICC data is damaged or belongs to another EUM: check the import (the station would refuse the chip before loading it)',
        }),
      );
    }
    if (this.bpps && chip.unusedOtpks && !(unknown && bound.length === 0)) {
      out.bpps = this.checkBpps(this.bpps, chip, bound, place, where, findings);
    }
    return out;
  }

  private checkBpps(store: BppStore, chip: ChipFacts, bound: StoredBpp[], place: ProbePlace, where: string, findings: Findings): NonNullable<CardStationCheck['bpps']> {
    const { eid } = chip;
    const unused = chip.unusedOtpks!;
    const loadable = store.loadable(eidToBytes(eid), unused);
    const states: Record<string, number> = {};
    for (const b of bound) states[BPP_STATE_NAMES[b.state]] = (states[BPP_STATE_NAMES[b.state]] ?? 0) + 1;
    const trusted = chip.trustedCis ? loadable.filter((b) => chipTrustsBatch(store, b.batchId, chip.trustedCis!)) : undefined;
    const chosenFrom = trusted && trusted.length > 0 ? trusted : loadable;
    const out = {
      bound: bound.length,
      states,
      unusedKeys: unused.length,
      loadable: loadable.length,
      ...(trusted ? { trusted: trusted.length } : {}),
      batches: [...new Set(chosenFrom.map((b) => b.batchId))],
    };
    if (loadable.length === 0) {
      const stateList = Object.entries(states)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ');
      const message =
        bound.length === 0
          ? `no BPP in the store is bound to EID ${eid} (${store.batchIds().length} batch${store.batchIds().length === 1 ? '' : 'es'}: ${store.batchIds().join(', ')})`
          : unused.length === 0
            ? `no loadable BPP for EID ${eid}: the chip has no unused one-time key left (${bound.length} BPP${bound.length === 1 ? '' : 's'} bound to it: ${stateList})`
            : `no loadable BPP for EID ${eid}: ${bound.length} bound to it (${stateList}), none of them in a loadable state and bound to one of its ${unused.length} unused one-time key${unused.length === 1 ? '' : 's'}`;
      findings.problem(
        new ProbeError('PROBE_CARD_NO_BPP', `${where}: ${message}`, place, {
          hint:
            bound.length === 0
              ? 'import the batch bound for this chip lot (ifpp bpp import), or the chip is not ours'
              : 'its BPPs are used up (ifpp bpp list --eid shows their states): set the chip aside, or import a batch with fresh BPPs for it',
        }),
      );
    } else if (trusted && trusted.length === 0) {
      const batches = out.batches.join(', ');
      findings.problem(
        new ProbeError(
          'PROBE_CARD_UNTRUSTED_BATCH',
          `${where}: ${loadable.length} loadable BPP${loadable.length === 1 ? '' : 's'} for EID ${eid} (batch${out.batches.length === 1 ? '' : 'es'} ${batches}), but the chip trusts the CI of none of them: it would refuse them at PrepareFactoryLoad`,
          place,
          { hint: "a batch bound under another CI, or a chip of another lot: compare the chip's CI keys with the batch's CI certificate, and import a batch bound under a CI the chip lists" },
        ),
      );
    }
    return out;
  }

  close(): void {
    this.euicc?.close();
    this.bpps?.close();
  }
}
