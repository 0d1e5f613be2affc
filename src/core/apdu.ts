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
