/**
 * The ARM binary itself under test: the bridge firmware cross-built for QEMU's netduinoplus2
 * machine (STM32F405; hardware/bridge-firmware/hal-qemu/) with the same compiler and flags as
 * the jig image, run in qemu-system-arm, its USARTs on sockets (test/hardware/board-process.ts):
 * 1. the shared bridge conformance suite (as against the simulator and the host build);
 * 2. one station end-to-end load of a BPP into a simulated eUICC through it.
 * Skipped with a message when arm-none-eabi-gcc or qemu-system-arm is missing.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { bindProfile } from '../../src/binding/bind.ts';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { ecdsaVerify } from '../../src/core/crypto/ecdsa.ts';
import { parseCertificate } from '../../src/core/x509/certificate.ts';
import { SimulatedEuicc } from '../../src/sim/euicc/euicc-card.ts';
import { makeTestChips } from '../../src/sim/euicc/test-chips.ts';
import { syntheticUpp } from '../../src/sim/profiles/upp.ts';
import { FpaClient } from '../../src/station/fpa/fpa-client.ts';
import { BridgeDriver } from '../../src/transport/bridge/bridge-driver.ts';
import { SlotLink } from '../../src/transport/bridge/slot-link.ts';
import { bridgeConformance } from '../helpers/bridge-conformance.ts';
import { FIRMWARE_DIR, qemuMissing } from './board-process.ts';
import { FirmwareBridge } from './firmware-bridge.ts';

const noArm = spawnSync('sh', ['-c', 'command -v arm-none-eabi-gcc && command -v make'], { stdio: 'ignore' }).status === 0 ? undefined : 'arm-none-eabi-gcc or make not installed (apt-get install gcc-arm-none-eabi)';
const skip = noArm ?? qemuMissing();
if (skip) console.warn(`[hardware/firmware-qemu] ARM binary under QEMU skipped: ${skip}`);

beforeAll(() => {
  if (skip) return;
  const r = spawnSync('make', ['-C', FIRMWARE_DIR, '--no-print-directory', 'qemu'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make qemu failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}, 120_000);

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
    const t = makeTestChips({ curve: 'nist', count: 1, keysPerChip: 1 });
    const chip = t.chips[0]!;
    const card = new SimulatedEuicc({ chip, header: t.header, atr: { ta1: 0x97, wi: 20 } });
    const bridge = await FirmwareBridge.start({ target: 'qemu', slots: 2, cards: [undefined, card], cardLine: { procedure: 'mixed', nulls: 1 } });
    cleanup.push(() => bridge.close());
    const driver = new BridgeDriver();
    await driver.open(bridge.path, 921600);
    cleanup.push(() => driver.close());
    expect(driver.info).toMatchObject({ protocol: 1, firmware: 'qemu-netduinoplus2-0.2.0', slots: 2, apdu: true, capMs: 30000 });

    const slot = new SlotLink(driver, 1);
    expect(await slot.activate({ vcc: 'C', clockHz: 5_000_000 })).toMatchObject({ negotiation: 'pps', ta1: 0x97, fi: 512, di: 64 });
    const fpa = new FpaClient(slot.channel);
    await fpa.selectIsdR();
    expect(await fpa.getEid()).toBe(chip.eid);
    const iccid = '8949449999999990049';
    const { bpp, transactionId } = bindProfile({
      upp: syntheticUpp(iccid, 13_000),
      eid: chip.eid,
      euiccOtpk: fromHex(chip.otks[0]!.pk),
      dpPb: { curve: 'nist', secretKey: t.dpPb.secretKey! },
      metadata: { iccid, serviceProviderName: 'IFPP Test', profileName: 'QEMU test' },
    });
    expect(await fpa.prepareFactoryLoad({ euiccOtpk: fromHex(chip.otks[0]!.pk), dpPbCertificate: t.dpPb.der })).toBe('ok');
    const out = await fpa.loadBpp(bpp);
    expect(out.bytesSent).toBeGreaterThan(13_000);
    expect(out.pir.finalResult.kind).toBe('success');
    expect(toHex(out.pir.transactionId)).toBe(toHex(transactionId));
    const cert = parseCertificate(new Uint8Array(Buffer.from(chip.certEuicc, 'base64')));
    expect(ecdsaVerify('nist', cert.publicKey.point, out.pir.bf27Raw, out.pir.signature)).toBe(true);
    expect(bridge.violations()).toEqual([]);
  }, 120_000);
});
