/**
 * The jig of a station without a board (bench, benchmarks): starts at once, never aborts,
 * drives nothing, reports no presence (slots use their own card-detect).
 */
import { EventEmitter } from 'node:events';
import type { StationKind } from '../config/schema.ts';
import type { Jig, JigEvents, JigStatus, SlotLedMode, TowerMode, WaitOptions } from './jig.ts';

export class NoJig extends EventEmitter<JigEvents> implements Jig {
  readonly hasBoard = false;

  constructor(readonly kind: StationKind = 'panel-jig') {
    super();
  }

  async waitForStart(_options?: WaitOptions): Promise<void> {}
  async clamp(): Promise<void> {}
  async release(): Promise<void> {}
  resetAfterAbort(): void {}
  setSlotPower(_slot: string, _on: boolean): void {}
  async pulseReset(_slot: string, _ms: number): Promise<void> {}
  presence(_slot: string): boolean | undefined {
    return undefined;
  }
  setSlotLeds(_slot: string, _mode: SlotLedMode): void {}
  setTower(_mode: TowerMode): void {}
  silence(): void {}
  status(): JigStatus {
    return { kind: this.kind, hasBoard: false, aborted: undefined, estopPressed: undefined, guardOpen: undefined, clamp: 'open', started: false, tower: 'off', prompt: null, lost: false };
  }
  async close(): Promise<void> {}
}
