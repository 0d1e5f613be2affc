/**
 * Test file order for `vitest run`: the known-slow files first, longest first, then the rest in
 * vitest's own order. Two workers take files from one queue, so a long file started last keeps
 * one core busy alone at the end of the run. On a fresh clone (CI) vitest has no duration cache
 * and orders by file size, which started station-world (42 s) late. The weights are seconds
 * on this 2-core machine at low load (2026-12-02 20:52, after the session-5 suite changes;
 * install, pcsc-vpcd, pcsc-no-headers, line-admin from the 19:37 run); a stale weight only costs
 * order, never a test.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const SLOW_FILES: Readonly<Record<string, number>> = {
  'test/station/kill9.test.ts': 22,
  'test/station/station-world.test.ts': 16,
  'test/package/install.test.ts': 15,
  'test/cli/bench-pcsc.test.ts': 15,
  'test/cli/station-exit.test.ts': 15,
  'test/hardware/firmware.test.ts': 14,
  // QEMU's vCPU spins a core for the whole file: started early, it overlaps the rest.
  'test/hardware/firmware-qemu.test.ts': 13,
  'test/line/sim-line.test.ts': 13,
  'test/cli/probe.test.ts': 11,
  'test/ui/station-tmux.test.ts': 10,
  'test/transport/bridge-driver.test.ts': 9,
  'test/station/crash-recovery.test.ts': 8,
  'test/line/line-stations.test.ts': 8,
  'test/transport/pcsc-vpcd.test.ts': 6,
  'test/cli/run-pcsc.test.ts': 6,
  'test/sim/bridge-sim.test.ts': 5,
  'test/ui/tty.test.ts': 5,
  'test/package/pcsc-no-headers.test.ts': 5,
  'test/line/line-admin.test.ts': 5,
  'test/station/jig-controller.test.ts': 4,
  'test/station/scenarios/scenarios.test.ts': 4,
  'test/sim/world.test.ts': 3,
  'test/sim/euicc-bridge.test.ts': 3,
  'test/sim/jig-board.test.ts': 2,
};

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const weight = (f: TestSpecification) => SLOW_FILES[relative(this.ctx.config.root, f.moduleId).split('\\').join('/')] ?? 0;
    // Array.prototype.sort is stable: files without a weight keep vitest's order.
    return [...base].sort((a, b) => weight(b) - weight(a));
  }
}
