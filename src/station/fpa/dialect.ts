/**
 * The eUICC dialect: everything chip-family specific the FPA needs, in one replaceable object
 * (primer §3: factory commands are a project mapping; real IFPP chips may differ).
 */
import { fromHex } from '../../core/bytes.ts';
import { namedEnum } from '../../core/rsp/der.ts';
import { makeFactoryDialect, PROJECT_RESULTS, projectDialect, type FactoryDialect, type FactoryRequestKind, type FactoryResultName } from '../../core/rsp/factory.ts';

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

/** The names `loading.dialect` accepts without a module (the built-in ones and any registered). */
export function builtInDialectNames(): string[] {
  return [...dialects.keys()];
}

/** `loading.dialect` names a module (a path or a script file name) rather than a built-in dialect. */
export function isDialectModulePath(v: string): boolean {
  return /[\\/]/.test(v) || /\.(m?js|m?ts)$/i.test(v);
}

/**
 * A dialect as plain data, for a module that needs no code: the factory requests keep the
 * project's structure (docs/protocol.md) under other tags and result codes.
 */
export interface EuiccDialectDescription {
  name: string;
  /** Factory request tags, e.g. { getFactoryInfo: 0xBF60, … }. */
  factoryTags: Record<FactoryRequestKind, number>;
  /** Result codes where they differ from the project's (ok 0, invalidCertificate 1, …). */
  resultCodes?: Partial<Record<FactoryResultName, number>>;
  /** ISD-R AID in hex; default the SGP.22 one. */
  isdRAid?: string;
  maxBlockSize?: number;
  storeDataLe?: boolean;
}

const REQUEST_KINDS: readonly FactoryRequestKind[] = ['getFactoryInfo', 'prepareFactoryLoad', 'deleteOneTimeKeys', 'closeFpaServices'];

/** Builds an EuiccDialect from its description; throws a TypeError-free Error naming the bad field. */
export function dialectFromDescription(d: EuiccDialectDescription): EuiccDialect {
  const bad = (field: string, what: string): Error => new Error(`"${field}" ${what}`);
  if (typeof d.name !== 'string' || !d.name) throw bad('name', 'must be a non-empty string');
  if (typeof d.factoryTags !== 'object' || d.factoryTags === null) throw bad('factoryTags', 'must give the four factory request tags');
  for (const k of REQUEST_KINDS) {
    const t = d.factoryTags[k];
    // Constructed, context-specific or private two-byte tags (BFxx, 7Fxx/5Fxx would be odd here).
    if (!Number.isInteger(t) || t < 0x100 || t > 0xffff || ((t >> 8) & 0x1f) !== 0x1f || (t & 0x80) !== 0) throw bad(`factoryTags.${k}`, 'must be a two-byte BER tag such as 0xBF70');
  }
  if (new Set(REQUEST_KINDS.map((k) => d.factoryTags[k])).size !== REQUEST_KINDS.length) throw bad('factoryTags', 'must be four different tags');
  const results: Record<FactoryResultName, number> = { ...PROJECT_RESULTS.values };
  for (const [k, v] of Object.entries(d.resultCodes ?? {})) {
    if (!(k in results)) throw bad(`resultCodes.${k}`, `is not a factory result (${Object.keys(results).join(', ')})`);
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 127) throw bad(`resultCodes.${k}`, 'must be an integer 0..127');
    results[k as FactoryResultName] = v as number;
  }
  if (new Set(Object.values(results)).size !== Object.keys(results).length) throw bad('resultCodes', 'must give each result its own code');
  const aid = d.isdRAid === undefined ? ISD_R_AID : /^([0-9a-fA-F]{2}){5,16}$/.test(d.isdRAid) ? fromHex(d.isdRAid) : undefined;
  if (!aid) throw bad('isdRAid', 'must be an AID of 5 to 16 bytes in hex');
  const maxBlockSize = d.maxBlockSize ?? 255;
  if (!Number.isInteger(maxBlockSize) || maxBlockSize < 1 || maxBlockSize > 255) throw bad('maxBlockSize', 'must be an integer 1..255');
  if (d.storeDataLe !== undefined && typeof d.storeDataLe !== 'boolean') throw bad('storeDataLe', 'must be true or false');
  return {
    name: d.name,
    isdRAid: aid,
    factory: makeFactoryDialect(d.name, { ...d.factoryTags }, namedEnum(results)),
    maxBlockSize,
    storeDataLe: d.storeDataLe ?? false,
  };
}
