/**
 * An APDU's answer as every layer passes it on (transports, FPA client, simulators), and its
 * status word as text.
 */
export interface ApduResponse {
  data: Uint8Array;
  sw: number;
}

/** SW1 SW2 as four upper-case hex digits ("6A88"). */
export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * What a sequence of APDUs run in order, stopping at the first answer that carries data or a
 * status other than 9000, produced (the bridge's APDUS verb, hardware/PROTOCOL.md §4a, or the
 * same rule applied one APDU at a time): how many ran, and the last one's answer. Every
 * earlier one answered a bare 9000. A transmitter may run a prefix only (one host exchange):
 * a bare 9000 with count below the number given means "go on with the rest".
 */
export interface ApduSequenceResult {
  count: number;
  response: ApduResponse;
}

/** The answer that lets a sequence go on: no data, 9000. */
export function isBare9000(r: ApduResponse): boolean {
  return r.sw === 0x9000 && r.data.length === 0;
}

/** The sequence rule applied one APDU at a time, for links that run one APDU per exchange. */
export async function runApduSequence(transmit: (apdu: Uint8Array) => Promise<ApduResponse>, apdus: readonly Uint8Array[]): Promise<ApduSequenceResult> {
  let response: ApduResponse = { data: new Uint8Array(0), sw: 0x9000 };
  for (let i = 0; i < apdus.length; i++) {
    response = await transmit(apdus[i]!);
    if (!isBare9000(response)) return { count: i + 1, response };
  }
  return { count: apdus.length, response };
}
