/**
 * What an ES10 status word means (ISO 7816-4 §5.1.3, ETSI TS 102 221 §10.2.1). 9000, 91xx
 * (a proactive command is pending) and 92xx (data transfer session info) are normal endings:
 * the command was carried out. 62xx (non-volatile memory unchanged) and 63xx (changed) are
 * warnings: the command ran but something is off. Everything else is an error.
 */
export type StatusWordClass = 'success' | 'warning' | 'error';

export function classifyStatusWord(sw: number): StatusWordClass {
  const sw1 = sw >> 8;
  if (sw === 0x9000 || sw1 === 0x91 || sw1 === 0x92) return 'success';
  if (sw1 === 0x62 || sw1 === 0x63) return 'warning';
  return 'error';
}
