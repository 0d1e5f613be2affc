/**
 * Turns `loading.dialect` into the EuiccDialect the FPA uses: a built-in dialect by name, or
 * a module the integrator wrote (docs/integrator-guide.md, "eUICC dialects") whose default (or
 * `dialect`) export is either a whole EuiccDialect or an EuiccDialectDescription (plain data).
 */
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../config/errors.ts';
import { dialectByName, dialectFromDescription, isDialectModulePath, type EuiccDialect, type EuiccDialectDescription } from './dialect.ts';

const FACTORY_METHODS = [
  'requestKind',
  'encodeGetFactoryInfoRequest',
  'decodeGetFactoryInfoResponse',
  'encodePrepareFactoryLoadRequest',
  'decodePrepareFactoryLoadResponse',
  'encodeDeleteOneTimeKeysRequest',
  'decodeDeleteOneTimeKeysResponse',
  'encodeCloseFpaServicesRequest',
  'decodeCloseFpaServicesResponse',
] as const;

function checkWholeDialect(d: Record<string, unknown>): EuiccDialect {
  if (typeof d.name !== 'string' || !d.name) throw new Error('"name" must be a non-empty string');
  if (!(d.isdRAid instanceof Uint8Array) || d.isdRAid.length < 5 || d.isdRAid.length > 16) throw new Error('"isdRAid" must be a Uint8Array of 5 to 16 bytes');
  const f = d.factory as Record<string, unknown> | null;
  if (typeof f !== 'object' || f === null) throw new Error('"factory" must be a FactoryDialect (makeFactoryDialect builds one)');
  for (const m of FACTORY_METHODS) if (typeof f[m] !== 'function') throw new Error(`"factory.${m}" must be a function`);
  if (!Number.isInteger(d.maxBlockSize) || (d.maxBlockSize as number) < 1 || (d.maxBlockSize as number) > 255) throw new Error('"maxBlockSize" must be an integer 1..255');
  if (typeof d.storeDataLe !== 'boolean') throw new Error('"storeDataLe" must be true or false');
  return d as unknown as EuiccDialect;
}

/** The dialect `spec` names (config.loading.dialect, already validated to exist). */
export async function loadDialect(spec: string): Promise<EuiccDialect> {
  if (!isDialectModulePath(spec)) {
    const d = dialectByName(spec);
    if (!d) throw new ConfigError('CONFIG_DIALECT_UNKNOWN', `"${spec}" is not a built-in eUICC dialect`, { hint: 'set loading.dialect to a built-in name or the path of a dialect module' });
    return d;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(spec).href)) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError('CONFIG_DIALECT_MODULE', `cannot load the eUICC dialect module ${spec}: ${(e as Error).message.split('\n')[0]}`, {
      hint: 'run the module on its own (node <file>) to see the full error',
      cause: e,
    });
  }
  const exported = mod.default ?? mod.dialect;
  try {
    if (typeof exported !== 'object' || exported === null) throw new Error('it must export (default, or as "dialect") a dialect object');
    const o = exported as Record<string, unknown>;
    const d = 'factoryTags' in o ? dialectFromDescription(o as unknown as EuiccDialectDescription) : checkWholeDialect(o);
    // A module's dialect is used as loaded, never registered: a name of a built-in one would confuse logs.
    if (dialectByName(d.name)) throw new Error(`its name "${d.name}" is that of a built-in dialect; give it its own`);
    return d;
  } catch (e) {
    throw new ConfigError('CONFIG_DIALECT_INVALID', `eUICC dialect module ${spec}: ${(e as Error).message}`, {
      hint: 'see docs/integrator-guide.md, "eUICC dialects", for what the module exports',
      cause: e,
    });
  }
}
