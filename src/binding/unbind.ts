/**
 * Offline unbinding of a whole BPP (what `ifpp sim unbind` runs): the same BppReceiver the
 * simulated eUICC uses, fed with the load calls of the parsed BPP.
 */
import { isIfppError } from '../core/errors.ts';
import { bppLoadCalls, parseBpp } from '../core/rsp/bpp.ts';
import { BppReceiver, UnbindError, type ReceivedProfile, type ReceiverKeys } from './receive-bpp.ts';

export function unbindProfile(bpp: Uint8Array, keys: ReceiverKeys): ReceivedProfile {
  let calls: Uint8Array[];
  try {
    calls = bppLoadCalls(parseBpp(bpp));
  } catch (e) {
    if (!isIfppError(e)) throw e;
    throw new UnbindError('structure', 'initialiseSecureChannel', 'incorrectInputValues', `BPP structure: ${e.message}`, e);
  }
  const r = new BppReceiver(keys);
  for (const c of calls) r.accept(c);
  return r.result();
}

export { UnbindError };
