/**
 * The eUICC dialect: everything chip-family specific the FPA needs, in one replaceable object
 * (primer §3: factory commands are a project mapping; real IFPP chips may differ).
 */
import { fromHex } from '../../core/bytes.ts';
import { projectDialect, type FactoryDialect } from '../../core/rsp/factory.ts';

export interface EuiccDialect {
  readonly name: string;
  /** AID of the ISD-R, selected before any ES10 request. */
  readonly isdRAid: Uint8Array;
  /** BF70–BF73 tags, encodings and result codes. */
  readonly factory: FactoryDialect;
  /** Largest STORE DATA block the chips accept (the configured block size is capped to it). */
  readonly maxBlockSize: number;
  /** Whether the last STORE DATA block carries Le=00 (some modems and chips want case 4). */
  readonly storeDataLe: boolean;
}

export const ISD_R_AID = fromHex('A0000005591010FFFFFFFF8900000100');

export const projectEuiccDialect: EuiccDialect = {
  name: 'ifpp-project',
  isdRAid: ISD_R_AID,
  factory: projectDialect,
  maxBlockSize: 255,
  storeDataLe: false,
};

const dialects = new Map<string, EuiccDialect>([[projectEuiccDialect.name, projectEuiccDialect]]);

/** Lets an integrator add a chip family's dialect (e.g. from a config module) by name. */
export function registerDialect(d: EuiccDialect): void {
  dialects.set(d.name, d);
}

export function dialectByName(name: string): EuiccDialect | undefined {
  return dialects.get(name);
}
