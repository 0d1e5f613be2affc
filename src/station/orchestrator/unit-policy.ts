/**
 * The unit policy a station config gives (loading, EID policy, post-checks, dialect): one
 * function, so the station and the repair bench's reprovision run units under the same rules.
 */
import type { StationConfig } from '../config/schema.ts';
import type { EuiccDialect } from '../fpa/dialect.ts';
import type { UnitPolicy } from './unit-runner.ts';

export function unitPolicyFor(c: StationConfig, dialect: EuiccDialect): UnitPolicy {
  return {
    blockSize: c.loading.blockSize,
    useLogicalChannel: c.loading.logicalChannel > 0,
    maxAttemptsPerChip: c.loading.retry.maxAttemptsPerChip,
    verifyProfileListed: c.postChecks.verifyProfileListed,
    verifyEidCheckDigits: c.eidPolicy.verifyCheckDigits,
    unknownEid: c.eidPolicy.unknownEid,
    alreadyProvisioned: c.eidPolicy.alreadyProvisioned,
    dialect,
    endOfProduction: { deleteUnusedKeys: c.postChecks.deleteUnusedOneTimeKeys, closeFpaServices: c.postChecks.closeFpaServices },
  };
}
