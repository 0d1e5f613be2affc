/**
 * Host-side timeouts of bridge requests. A request's timeout is `factor` (the config's
 * loading.retry.timeoutFactor) times the longest time it may legitimately take, plus a fixed
 * slack for the OS, USB and the bridge's line handling:
 *
 *   TPDU   line time + contact time of all its characters at the negotiated etu + WWT
 *   APDU   line time + the TPDUs the bridge may run for it: the command (twice for case 2,
 *          6Cxx), and up to MAX_APDU_GET_RESPONSES GET RESPONSEs of 256 bytes (each twice, 6Cxx)
 *   APDUS  line time + every APDU's command TPDU(s), and the GET RESPONSEs once: only the last
 *          APDU of the sequence can have them (any answer but a bare 9000 ends it)
 *   RESET  line time + RST low and the 40000-clock ATR limit + the longest ATR at Fd/Dd + one
 *          9600-etu character wait
 *   PPS    line time + request and answer characters at Fd/Dd + the 9600-etu answer wait
 *   INFO, STATUS, POWER, CLOCK: line time + a fixed control time (the bridge answers at once)
 *
 * The WWT term is the silence the bridge itself tolerates before it answers ERR TIMEOUT, so
 * with factor >= 1 a silent card is reported by the bridge before the host gives up. A card
 * that keeps the line with NULL procedure bytes for longer than factor x WWT is cut off by the
 * host: raise the factor for such chips. Pure functions; times in seconds unless named Ms.
 */
import { DD, FD, WI_DEFAULT, t0CommandTpdu } from '../../core/bridge-protocol/iso7816.ts';
import { MAX_APDU_GET_RESPONSES, type BridgeRequest } from '../../core/bridge-protocol/verbs.ts';

/** Transmission parameters of one slot as the driver last saw them negotiated. */
export interface SlotLinkParams {
  fi: number;
  di: number;
  clockHz: number;
  /** Waiting time integer (TC2), default 10. */
  wi: number;
  /** Extra guard time N (TC1). */
  guardN: number;
}

export interface TimeoutPolicy {
  /** loading.retry.timeoutFactor (1..100). */
  factor: number;
  /** Host link speed in bit/s (8N1: 10 bits per byte). */
  baudRate: number;
  /** Fixed allowance added to every timeout, ms. */
  slackMs: number;
  /** INFO, STATUS, POWER and CLOCK: the bridge answers these without touching a card, ms. */
  controlMs: number;
}

export function defaultLinkParams(clockHz: number): SlotLinkParams {
  return { fi: FD, di: DD, clockHz, wi: WI_DEFAULT, guardN: 0 };
}

const CHAR_ETU = 12;
const TURNAROUND_ETU = 16;
/** ISO 7816-3: RST low at least 400 clocks; the ATR must start within 40000 clocks after. */
const RST_LOW_CLOCKS = 400;
const ATR_START_CLOCKS = 40000;
/** Longest ATR (TS, T0, 4 x 4 interface bytes ... in practice at most 33 bytes). */
const MAX_ATR = 33;
/** Initial waiting time between ATR characters and before a PPS answer, in etu. */
const INITIAL_WAIT_ETU = 9600;
/** Longest PPS request or answer. */
const MAX_PPS = 6;
/** An answer line's fixed part: id, slot, OK, a 10-digit duration, CRC. */
const REPLY_OVERHEAD = 32;

export function etuSeconds(fi: number, di: number, clockHz: number): number {
  return fi / di / clockHz;
}

/** Work waiting time: the longest silence the card may keep under T=0. */
export function wwtSeconds(link: SlotLinkParams): number {
  return (960 * link.wi * link.fi) / link.clockHz;
}

/** Transfer time of `bytes` on an 8N1 link. */
export function lineSeconds(bytes: number, baudRate: number): number {
  return (bytes * 10) / baudRate;
}

/** Card bytes a TPDU may bring back: P3 data for a 5-byte command (0 means 256), then SW1 SW2. */
function tpduReplyBytes(tpdu: Uint8Array): number {
  if (tpdu.length > 5) return 2;
  const p3 = tpdu[4] ?? 0;
  return (p3 === 0 ? 256 : p3) + 2;
}

/** Longest legitimate duration of one TPDU at the slot's parameters, excluding the host link. */
export function tpduBoundSeconds(tpdu: Uint8Array, link: SlotLinkParams): number {
  const toCard = tpdu.length;
  const fromCard = 1 + tpduReplyBytes(tpdu); // INS procedure byte, data, SW
  const etus = CHAR_ETU * (toCard + fromCard) + link.guardN * toCard + TURNAROUND_ETU * 3;
  return etus * etuSeconds(link.fi, link.di, link.clockHz) + wwtSeconds(link);
}

const GET_RESPONSE_256 = Uint8Array.of(0x00, 0xc0, 0x00, 0x00, 0x00);

/** The command TPDU(s) of one APDU at the bridge: twice for case 2 (the 6Cxx repeat), else once. */
function commandBoundSeconds(apdu: Uint8Array, link: SlotLinkParams): number {
  const commandRuns = apdu.length === 5 ? 2 : 1;
  return commandRuns * tpduBoundSeconds(t0CommandTpdu(apdu), link);
}

/** Up to MAX_APDU_GET_RESPONSES GET RESPONSEs of 256 bytes, each twice (6Cxx). */
function getResponsesBoundSeconds(link: SlotLinkParams): number {
  return 2 * MAX_APDU_GET_RESPONSES * tpduBoundSeconds(GET_RESPONSE_256, link);
}

/** Longest legitimate duration of an APDU request: every TPDU the bridge may run for it. */
export function apduBoundSeconds(apdu: Uint8Array, link: SlotLinkParams): number {
  return commandBoundSeconds(apdu, link) + getResponsesBoundSeconds(link);
}

/** Longest legitimate duration of an APDUS request (PROTOCOL.md §4a): GET RESPONSEs only for the last APDU. */
export function apdusBoundSeconds(apdus: readonly Uint8Array[], link: SlotLinkParams): number {
  let t = getResponsesBoundSeconds(link);
  for (const a of apdus) t += commandBoundSeconds(a, link);
  return t;
}

export function resetBoundSeconds(clockHz: number): number {
  return (RST_LOW_CLOCKS + ATR_START_CLOCKS) / clockHz + (CHAR_ETU * MAX_ATR + INITIAL_WAIT_ETU) * etuSeconds(FD, DD, clockHz);
}

export function ppsBoundSeconds(clockHz: number, guardN: number): number {
  return (CHAR_ETU * 2 * MAX_PPS + guardN * MAX_PPS + TURNAROUND_ETU + INITIAL_WAIT_ETU) * etuSeconds(FD, DD, clockHz);
}

/** Bytes of the request line and of the longest answer line. */
function lineBytes(req: BridgeRequest): number {
  switch (req.verb) {
    case 'TPDU':
      return 20 + 2 * req.tpdu.length + REPLY_OVERHEAD + 2 * tpduReplyBytes(req.tpdu);
    case 'APDU':
      return 20 + 2 * req.apdu.length + REPLY_OVERHEAD + 2 * 258;
    case 'APDUS':
      return 20 + req.apdus.reduce((n, a) => n + 1 + 2 * a.length, 0) + REPLY_OVERHEAD + 4 + 2 * 258;
    case 'RESET':
      return 24 + REPLY_OVERHEAD + 2 * MAX_ATR;
    case 'PPS':
      return 20 + 2 * req.pps.length + REPLY_OVERHEAD + 2 * MAX_PPS;
    default:
      return 200; // INFO is the longest control answer (about 120 bytes)
  }
}

/** The host-side timeout of one request, in ms (see the module comment). */
export function requestTimeoutMs(req: BridgeRequest, link: SlotLinkParams, policy: TimeoutPolicy): number {
  const line = lineSeconds(lineBytes(req), policy.baudRate);
  switch (req.verb) {
    case 'TPDU':
      return policy.factor * (line + tpduBoundSeconds(req.tpdu, link)) * 1000 + policy.slackMs;
    case 'APDU':
      return policy.factor * (line + apduBoundSeconds(req.apdu, link)) * 1000 + policy.slackMs;
    case 'APDUS':
      return policy.factor * (line + apdusBoundSeconds(req.apdus, link)) * 1000 + policy.slackMs;
    case 'RESET':
      return policy.factor * (line + resetBoundSeconds(link.clockHz)) * 1000 + policy.slackMs;
    case 'PPS':
      return policy.factor * (line + ppsBoundSeconds(link.clockHz, link.guardN)) * 1000 + policy.slackMs;
    default:
      return line * 1000 + policy.controlMs + policy.slackMs;
  }
}
