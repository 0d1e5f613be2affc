/**
 * Operator texts the jig controller emits as 'prompt'. Short imperative sentences an operator
 * can act on without reading a manual; the UI shows them as they are.
 */
import type { GuardType } from '../config/schema.ts';

export const PROMPTS = {
  loadAndStart: 'Load the panel and press both start buttons',
  releaseStart: 'Release both start buttons, then press them together',
  clampTimeout: 'Clamp did not close: check air pressure and the panel seating',
  clampStuck: 'Clamp did not open: check the valve and air supply before removing the panel',
  clampLost: 'Clamp opened during the run: check air pressure and the panel, then reset the station',
  reset: 'Safety circuit is clear: reset the station to continue',
  boardLost: 'Jig board disconnected: check its USB cable and power; the station picks it up again when it is back',
} as const;

/** What to put right, in the order an operator would do it. */
export function safetyPrompt(estop: boolean, guardOpen: boolean, guard: GuardType | undefined): string {
  const guardText = guard === 'light-curtain' ? 'clear the light curtain' : 'close the lid';
  if (estop && guardOpen) return `Release the e-stop and ${guardText}`;
  if (estop) return 'Release the e-stop';
  return guardText.charAt(0).toUpperCase() + guardText.slice(1);
}

export function guardName(guard: GuardType | undefined): string {
  return guard === 'light-curtain' ? 'the light curtain is interrupted' : 'the lid is open';
}
