/**
 * The ARM binary itself under test: the bridge firmware cross-built for QEMU's netduinoplus2
 * machine (STM32F405; hardware/bridge-firmware/hal-qemu/) with the same compiler and flags as
 * the jig image, run in qemu-system-arm, its USARTs on sockets (test/hardware/board-process.ts):
 * 1. the shared bridge conformance suite (as against the simulator and the host build);
 * 2. one station end-to-end load of a BPP into a simulated eUICC through it.
 * Skipped with a message when arm-none-eabi-gcc or qemu-system-arm is missing.
 * It runs in the parallel suite, among the first files started (test/sequencer.ts). It once ran on its
 * own after the suite: ERR TIMEOUT failures under load were taken for starvation, but the cause
 * was the QEMU HAL's clock stepping back (fixed in hal_qemu.c, f16c99f); since then it passed
 * alongside the heaviest files at load 10-17.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { bridgeConformance } from '../helpers/bridge-conformance.ts';
import { FIRMWARE_DIR, closeQemuBoards, qemuMissing } from './board-process.ts';
import { loadBppThroughFirmware } from './bpp-load.ts';
import { FirmwareBridge } from './firmware-bridge.ts';

const noArm = spawnSync('sh', ['-c', 'command -v arm-none-eabi-gcc && command -v make'], { stdio: 'ignore' }).status === 0 ? undefined : 'arm-none-eabi-gcc or make not installed (apt-get install gcc-arm-none-eabi)';
const skip = noArm ?? qemuMissing();
if (skip) console.warn(`[hardware/firmware-qemu] ARM binary under QEMU skipped: ${skip}`);

beforeAll(() => {
  if (skip) return;
  const r = spawnSync('make', ['-C', FIRMWARE_DIR, '--no-print-directory', 'qemu'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make qemu failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}, 120_000);

// One QEMU boots for the file; each bridge power-up resets it (board-process.ts).
afterAll(() => closeQemuBoards());

// The same suite as test/sim/bridge-sim.test.ts and test/hardware/firmware.test.ts, against the ARM image.
bridgeConformance({
  name: 'bridge firmware ARM image under QEMU (netduinoplus2)',
  skip,
  start: ({ cards, link }) => FirmwareBridge.start({ target: 'qemu', slots: cards.length, cards, ...(link ? { link } : {}) }),
  verify: (bridge) => expect((bridge as FirmwareBridge).violations()).toEqual([]),
});

describe.skipIf(skip !== undefined)('station against the ARM image under QEMU', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('bridge driver + FpaClient: PPS to 512/64, a full BPP load into a simulated eUICC, PIR verified against CERT.EUICC', async () => {
    await loadBppThroughFirmware('qemu', 'qemu-netduinoplus2-0.2.0', cleanup);
  }, 120_000);
});
