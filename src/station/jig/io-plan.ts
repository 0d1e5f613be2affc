/**
 * Which pin plays which role, read from the resolved station configuration. One flat list per
 * direction so the I/O layer can set pins up, watch them and drive them to the safe state
 * without knowing about clamps or slots.
 */
import type { InputPin, OutputPin, StationConfig } from '../config/schema.ts';

export type InputRole = 'start-left' | 'start-right' | 'estop' | 'guard' | 'clamp-closed' | 'presence';
export type OutputRole = 'clamp' | 'power' | 'reset' | 'pass-led' | 'fail-led' | 'tower-red' | 'tower-amber' | 'tower-green' | 'tower-blue' | 'buzzer';

/** Safety inputs trip at the first sample (see input-filter.ts). */
export const SAFETY_INPUTS: ReadonlySet<InputRole> = new Set(['estop', 'guard']);

export interface InputBinding {
  role: InputRole;
  /** Slot id, for per-slot roles. */
  slot?: string;
  pin: InputPin;
}

export interface OutputBinding {
  role: OutputRole;
  slot?: string;
  pin: OutputPin;
}

export interface IoPlan {
  inputs: InputBinding[];
  /**
   * In safe-state order: slot power first (cards go down while the contacts still touch),
   * then the clamp, then everything else.
   */
  outputs: OutputBinding[];
}

/** "start-left" or "presence A3", for messages. */
export function bindingName(b: { role: string; slot?: string | undefined }): string {
  return b.slot === undefined ? b.role : `${b.role} ${b.slot}`;
}

export function ioPlan(config: StationConfig): IoPlan {
  const inputs: InputBinding[] = [];
  const power: OutputBinding[] = [];
  const outputs: OutputBinding[] = [];
  const board = config.board;
  if (!board) return { inputs, outputs };
  if (board.estop) inputs.push({ role: 'estop', pin: board.estop });
  if (board.guard) inputs.push({ role: 'guard', pin: board.guard });
  if (board.startButtons) {
    inputs.push({ role: 'start-left', pin: board.startButtons.left }, { role: 'start-right', pin: board.startButtons.right });
  }
  if (board.clamp) {
    inputs.push({ role: 'clamp-closed', pin: board.clamp.closedSensor });
    outputs.push({ role: 'clamp', pin: board.clamp.output });
  }
  const tower = board.towerLight ?? {};
  if (tower.red) outputs.push({ role: 'tower-red', pin: tower.red });
  if (tower.amber) outputs.push({ role: 'tower-amber', pin: tower.amber });
  if (tower.green) outputs.push({ role: 'tower-green', pin: tower.green });
  if (tower.blue) outputs.push({ role: 'tower-blue', pin: tower.blue });
  if (board.buzzer) outputs.push({ role: 'buzzer', pin: board.buzzer });
  // Disabled slots keep their wiring: their outputs are still held in the safe state, but
  // nothing watches their inputs.
  for (const s of config.slots) {
    if (s.power) power.push({ role: 'power', slot: s.id, pin: s.power });
    if (s.reset) outputs.push({ role: 'reset', slot: s.id, pin: s.reset });
    if (s.passLed) outputs.push({ role: 'pass-led', slot: s.id, pin: s.passLed });
    if (s.failLed) outputs.push({ role: 'fail-led', slot: s.id, pin: s.failLed });
    if (s.presence && s.enabled) inputs.push({ role: 'presence', slot: s.id, pin: s.presence });
  }
  return { inputs, outputs: [...power, ...outputs] };
}
