/**
 * Test file order for `vitest run`: the known-slow files first, longest first, then the rest in
 * vitest's own order. Two workers take files from one queue, so a long file started last keeps
 * one core busy alone at the end of the run. On a fresh clone (CI) vitest has no duration cache
 * and orders by file size, which started station-world (42 s) late. The weights are seconds
 * on a quiet 2-core machine (19:37 run of 2026-12-02; files shortened since then scaled by
 * what their change saved); a stale weight only costs order, never a test.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const SLOW_FILES: Readonly<Record<string, number>> = {
  'test/hardware/firmware.test.ts': 28,
  // QEMU's vCPU spins a core for the whole file: started early, it overlaps the rest.
  'test/hardware/firmware-qemu.test.ts': 21,
  'test/transport/bridge-driver.test.ts': 10,
  'test/cli/station-exit.test.ts': 20,
  'test/sim/bridge-sim.test.ts': 16,
  'test/station/kill9.test.ts': 15,
  'test/package/install.test.ts': 15,
  'test/station/station-world.test.ts': 15,
  'test/station/jig-controller.test.ts': 5,
  'test/cli/bench-pcsc.test.ts': 13,
  'test/cli/probe.test.ts': 13,
  'test/ui/station-tmux.test.ts': 12,
  'test/line/sim-line.test.ts': 12,
  'test/sim/euicc-bridge.test.ts': 8,
  'test/station/crash-recovery.test.ts': 7,
  'test/line/line-stations.test.ts': 7,
  'test/sim/world.test.ts': 3,
  'test/station/scenarios/scenarios.test.ts': 7,
  'test/transport/pcsc-vpcd.test.ts': 6,
  'test/sim/jig-board.test.ts': 2,
  'test/ui/tty.test.ts': 5,
  'test/package/pcsc-no-headers.test.ts': 5,
  'test/cli/run-pcsc.test.ts': 5,
  'test/line/line-admin.test.ts': 5,
};

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const weight = (f: TestSpecification) => SLOW_FILES[relative(this.ctx.config.root, f.moduleId).split('\\').join('/')] ?? 0;
    // Array.prototype.sort is stable: files without a weight keep vitest's order.
    return [...base].sort((a, b) => weight(b) - weight(a));
  }
}
