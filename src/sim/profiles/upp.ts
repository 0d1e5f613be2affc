/**
 * Unprotected Profile Packages (SAIP DER, TCA eUICC Profile Package spec): just enough to
 * personalise test profiles and to check, in the simulated eUICC, that a decrypted profile is
 * a well-formed sequence of profile elements. PE tags below are the automatic CHOICE tags of
 * ProfileElement in saip-pe-definitions (header [0] = A0, nonStandard [9] = A9, end [10] = AA).
 */
import { IfppError } from '../../core/errors.ts';
import { concatBytes } from '../../core/bytes.ts';
import { childrenOf, decodeTlvList, tlv, type Tlv } from '../../core/tlv/ber-tlv.ts';
import { iccidFromBytes, iccidToBytes, parseIccid } from '../../core/rsp/iccid.ts';
import { fromHex, toHex } from '../../core/bytes.ts';
import { oidTlv } from '../../core/rsp/der.ts';

export class UppError extends IfppError {}

const PE_HEADER = 0xa0;
const PE_NON_STANDARD = 0xa9;
const PE_END = 0xaa;
const HEADER_ICCID = 0x83;

/*
 * The ProfileHeader carries the ICCID as plain BCD digits, F-padded (TS.48 profiles: 89 00 01 ..),
 * while EF.ICCID inside the file system and the RSP metadata (5A) carry it nibble-swapped.
 */
function headerIccidToBytes(iccid: string): Uint8Array {
  return fromHex(parseIccid(iccid).padEnd(20, 'f'));
}

function headerIccidFromBytes(b: Uint8Array): string {
  return toHex(b).replace(/f+$/, '');
}

export interface UppSummary {
  iccid: string;
  profileType: string | undefined;
  elements: number;
  bytes: number;
}

function headerOf(upp: Uint8Array): Tlv {
  let pes: Tlv[];
  try {
    pes = decodeTlvList(upp);
  } catch (e) {
    throw new UppError('UPP_MALFORMED', `profile package is not a sequence of profile elements: ${(e as Error).message}`, { cause: e });
  }
  const h = pes[0];
  if (!h || h.tag !== PE_HEADER) throw new UppError('UPP_NO_HEADER', 'profile package does not start with a ProfileHeader (A0)');
  return h;
}

/** Checks the package the way an eUICC would before installing: elements parse, header first, end last. */
export function summarizeUpp(upp: Uint8Array): UppSummary {
  const pes = decodeTlvList(upp);
  const header = headerOf(upp);
  const last = pes[pes.length - 1]!;
  if (last.tag !== PE_END) throw new UppError('UPP_NO_END', 'profile package does not end with an End element (AA)');
  const kids = childrenOf(header);
  const iccid = kids.find((k) => k.tag === HEADER_ICCID);
  if (!iccid || iccid.value.length !== 10) throw new UppError('UPP_NO_ICCID', 'ProfileHeader has no 10-byte ICCID');
  const type = kids.find((k) => k.tag === 0x82);
  return {
    iccid: headerIccidFromBytes(iccid.value),
    profileType: type ? new TextDecoder().decode(type.value) : undefined,
    elements: pes.length,
    bytes: upp.length,
  };
}

/** A copy of `upp` whose ProfileHeader carries `iccid` (same length, so nothing else moves). */
export function withIccid(upp: Uint8Array, iccid: string): Uint8Array {
  const header = headerOf(upp);
  const field = childrenOf(header).find((k) => k.tag === HEADER_ICCID);
  if (!field || field.value.length !== 10) throw new UppError('UPP_NO_ICCID', 'ProfileHeader has no 10-byte ICCID to replace');
  const out = upp.slice();
  // EF.ICCID content (swapped BCD) wherever the old value appears, then the header field.
  const oldSwapped = iccidToBytes(headerIccidFromBytes(field.value));
  const newSwapped = iccidToBytes(iccid);
  for (let i = out.indexOf(oldSwapped[0]!); i >= 0 && i <= out.length - 10; i = out.indexOf(oldSwapped[0]!, i + 1)) {
    let hit = true;
    for (let k = 0; k < 10 && hit; k++) hit = out[i + k] === oldSwapped[k];
    if (hit) out.set(newSwapped, i);
  }
  out.set(headerIccidToBytes(iccid), field.offset + field.header.length);
  return out;
}

/**
 * A small, well-formed test profile: header, an optional non-standard filler element of
 * `fillerBytes` (to reach the size of a real profile for benchmarks), and the end element.
 */
export function syntheticUpp(iccid: string, fillerBytes = 0): Uint8Array {
  const header = tlv(
    PE_HEADER,
    tlv(0x80, Uint8Array.of(2)),
    tlv(0x81, Uint8Array.of(3)),
    tlv(0x82, new TextEncoder().encode('ifpp synthetic test profile')),
    tlv(HEADER_ICCID, headerIccidToBytes(iccid)),
    tlv(0xa5, tlv(0x81, new Uint8Array(0))),
    tlv(0xa6, new Uint8Array(0)),
  );
  const peHeader = (id: number) => tlv(0xa0, tlv(0x80, new Uint8Array(0)), tlv(0x81, Uint8Array.of(id)));
  const parts = [header];
  if (fillerBytes > 0) {
    const content = new Uint8Array(fillerBytes);
    for (let i = 0; i < content.length; i++) content[i] = (i * 31 + 7) & 0xff;
    parts.push(tlv(PE_NON_STANDARD, peHeader(2), oidTlv(0x06, '2.999.1'), tlv(0x04, content)));
  }
  parts.push(tlv(PE_END, peHeader(parts.length + 1)));
  return concatBytes(...parts);
}
