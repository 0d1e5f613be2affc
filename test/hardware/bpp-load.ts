/**
 * One BPP load end to end through a firmware target (host build or ARM image under QEMU): the
 * station's bridge driver and FpaClient activate a simulated eUICC (PPS to 512/64), bind and
 * load a profile, and verify the PIR against CERT.EUICC. The card asks for the first two bytes
 * of every transfer one at a time and sends a NULL before each procedure byte, so the load runs
 * through every procedure-byte path of the firmware.
 */
import { expect } from 'vitest';
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
import type { BoardTarget } from './board-process.ts';
import { FirmwareBridge } from './firmware-bridge.ts';

export async function loadBppThroughFirmware(target: BoardTarget, firmware: string, cleanup: (() => Promise<void>)[]) {
  const t = makeTestChips({ curve: 'nist', count: 1, keysPerChip: 1 });
  const chip = t.chips[0]!;
  const card = new SimulatedEuicc({ chip, header: t.header, atr: { ta1: 0x97, wi: 20 } });
  const bridge = await FirmwareBridge.start({ target, slots: 2, cards: [undefined, card], cardLine: { procedure: 'mixed', nulls: 1 } });
  cleanup.push(() => bridge.close());
  const driver = new BridgeDriver();
  await driver.open(bridge.path, 921600);
  cleanup.push(() => driver.close());
  expect(driver.info).toMatchObject({ protocol: 1, firmware, slots: 2, capMs: 30000 });

  const slot = new SlotLink(driver, 1);
  const a = await slot.activate({ vcc: 'C', clockHz: 5_000_000 });
  expect(a).toMatchObject({ negotiation: 'pps', ta1: 0x97, fi: 512, di: 64, clockHz: 5_000_000 });
  expect(await slot.status()).toMatchObject({ state: 'READY', ta1: 0x97, vcc: 'C' });

  const fpa = new FpaClient(slot.channel);
  await fpa.selectIsdR();
  expect(await fpa.getEid()).toBe(chip.eid);
  const iccid = '8949449999999990031';
  const { bpp, transactionId } = bindProfile({
    upp: syntheticUpp(iccid, 13_000),
    eid: chip.eid,
    euiccOtpk: fromHex(chip.otks[0]!.pk),
    dpPb: { curve: 'nist', secretKey: t.dpPb.secretKey! },
    metadata: { iccid, serviceProviderName: 'IFPP Test', profileName: `Firmware test (${target})` },
  });
  expect(await fpa.prepareFactoryLoad({ euiccOtpk: fromHex(chip.otks[0]!.pk), dpPbCertificate: t.dpPb.der })).toBe('ok');
  const out = await fpa.loadBpp(bpp);
  expect(out.early).toBe(false);
  expect(out.bytesSent).toBeGreaterThan(13_000);
  const pir = out.pir;
  expect(pir.finalResult.kind).toBe('success');
  expect(toHex(pir.transactionId)).toBe(toHex(transactionId));
  const cert = parseCertificate(new Uint8Array(Buffer.from(chip.certEuicc, 'base64')));
  expect(ecdsaVerify('nist', cert.publicKey.point, pir.bf27Raw, pir.signature)).toBe(true);
  expect((await fpa.listProfiles()).ok).toBe(true);
  // The firmware advertises APDU=1 and BATCH=8 (LINE=4200): GET RESPONSE runs at the bridge, and
  // the STORE DATA blocks of the ES10 calls and of the BPP go out up to 8 per APDUS request.
  expect(driver.info).toMatchObject({ apdu: true, batch: 8, maxLine: 4200 });
  expect(slot.stats.batchedApdus).toBeGreaterThan(50);
  expect(slot.stats.apdus + slot.stats.batches).toBeLessThan(25);
  expect(bridge.violations()).toEqual([]);
}
