/**
 * The real PC/SC stack end to end: libpcsclite (through the Node binding) -> a private pcscd ->
 * the vsmartcard vpcd driver -> a simulated eUICC over the vpcd socket protocol.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VpcdCard, type VpcdEvent } from '../../src/sim/vpcd/vpcd-card.ts';
import type { SimulatedEuicc } from '../../src/sim/euicc/euicc-card.ts';
import { FpaClient } from '../../src/station/fpa/fpa-client.ts';
import { PcscCard } from '../../src/transport/pcsc/pcsc-card.ts';
import { PcscReaders, readerMatches } from '../../src/transport/pcsc/readers.ts';
import { PcscReaderSlot } from '../../src/station/hardware/pcsc-slots.ts';
import { miniFactory, type MiniFactory } from '../helpers/mini-factory.ts';
import { pcscdUnavailable, startPcscd, type PrivatePcscd } from '../helpers/pcscd.ts';

const why = pcscdUnavailable();
if (why) console.warn(`[skip] PC/SC tests: ${why}`);

describe('reader patterns', () => {
  it('exact name, * wildcards, else a case-insensitive substring', () => {
    expect(readerMatches('ACS ACR39U ICC Reader 00 00', 'ACS ACR39U ICC Reader 00 00')).toBe(true);
    expect(readerMatches('ACS ACR39U ICC Reader 00 00', 'acr39u')).toBe(true);
    expect(readerMatches('ACS ACR39U ICC Reader 00 00', 'ACS*00 00')).toBe(true);
    expect(readerMatches('ACS ACR39U ICC Reader 01 00', 'ACS*00 00')).toBe(false);
    expect(readerMatches('Virtual PCD 00 00', 'acr')).toBe(false);
  });
});

describe.skipIf(why !== undefined)('PC/SC through pcscd and vpcd', () => {
  let pcscd: PrivatePcscd;
  let f: MiniFactory;
  let readers: PcscReaders;
  const cards: VpcdCard[] = [];
  const sims: SimulatedEuicc[] = [];

  beforeAll(async () => {
    pcscd = await startPcscd(2);
    process.env.PCSCLITE_CSOCK_NAME = pcscd.socket;
    f = await miniFactory({ chips: 2, keys: 2 });
    readers = new PcscReaders();
  }, 60_000);

  afterAll(async () => {
    for (const c of cards) c.close();
    readers?.close();
    f?.close();
    await pcscd?.stop();
  });

  async function plug(i: number): Promise<{ sim: SimulatedEuicc; vpcd: VpcdCard; name: string }> {
    const { card: sim } = await f.card(f.eids[i]!);
    const { name, port } = pcscd.readers[i]!;
    const vpcd = new VpcdCard(sim, { port });
    cards.push(vpcd);
    sims.push(sim);
    vpcd.insert();
    await readers.waitForReader(name, 10_000);
    await readers.waitForCard(name, 10_000);
    return { sim, vpcd, name };
  }

  it('lists the private readers, sees a card arrive, reads its EID and profiles with T0ApduChannel rules', async () => {
    const { name } = await plug(0);
    expect(readers.list().map((r) => r.name)).toEqual(pcscd.readers.map((r) => r.name));
    const reader = readers.find(name)!;
    const atr = Buffer.from(readers.list().find((r) => r.name === name)!.atr!, 'hex');
    const card = await PcscCard.connect(reader, new Uint8Array(atr));
    const fpa = new FpaClient(card.apdu, { useLogicalChannel: true });
    await fpa.selectIsdR();
    expect(await fpa.getEid()).toBe(f.eids[0]);
    const profiles = await fpa.listProfiles();
    expect(profiles.ok && profiles.profiles).toEqual([]);
    // GET RESPONSE went over PC/SC: a case-4 STORE DATA answered 61xx first.
    expect(card.trace.some((t) => t.response.startsWith('61'))).toBe(true);
    expect(card.trace.some((t) => t.command.slice(2, 4) === 'c0')).toBe(true);
    await fpa.close();
    await card.disconnect();
  });

  it('a card pulled mid-exchange fails the command with PCSC_CARD_REMOVED; the reader reports it gone', async () => {
    const { vpcd, name } = await plug(1);
    const reader = readers.find(name)!;
    const card = await PcscCard.connect(reader, new Uint8Array(0));
    const fpa = new FpaClient(card.apdu);
    await fpa.selectIsdR();
    const removed = new Promise<void>((resolve) => readers.on('event', (e) => e.kind === 'card-removed' && e.name === name && resolve()));
    vpcd.once('event', (e: VpcdEvent) => e.kind === 'apdu' && vpcd.remove());
    await expect(fpa.getEid().then(() => fpa.getEid())).rejects.toMatchObject({ code: 'PCSC_CARD_REMOVED' });
    await removed;
    expect(readers.cardPresent(name)).toBe(false);
    await card.disconnect();
    // Put back, it is a card again.
    vpcd.insert();
    await readers.waitForCard(name, 10_000);
    const again = await PcscCard.connect(reader, new Uint8Array(0));
    const fpa2 = new FpaClient(again.apdu);
    await fpa2.selectIsdR();
    expect(await fpa2.getEid()).toBe(f.eids[1]);
    await again.disconnect();
  });

  it('a reader slot (bound by pattern) reports card removal and insertion as events and activates the card it finds', async () => {
    const name = pcscd.readers[0]!.name;
    const slot = new PcscReaderSlot('R0', name.replace(/^IFPP /, '*'), readers, 10_000);
    const vpcd = cards[0]!;
    expect(await slot.present()).toBe(true);
    const removed = new Promise<void>((r) => slot.once('removed', () => r()));
    vpcd.remove();
    await removed;
    expect(await slot.present()).toBe(false);
    const inserted = new Promise<void>((r) => slot.once('inserted', () => r()));
    vpcd.insert();
    await inserted;
    const a = await slot.activate();
    expect(a.atr.length).toBeGreaterThan(2);
    const fpa = new FpaClient(slot.apdu);
    await fpa.selectIsdR();
    expect(await fpa.getEid()).toBe(f.eids[0]);
    await slot.powerOff();
    expect(slot.trace.length).toBeGreaterThan(2);
  });

  it('a card that went mute mid-command is pulled, and put straight back it is seen again (pcscd had not polled in between)', async () => {
    const name = pcscd.readers[1]!.name;
    const vpcd = cards[1]!;
    await readers.waitForCard(name, 10_000);
    const card = await PcscCard.connect(readers.find(name)!, new Uint8Array(0));
    const fpa = new FpaClient(card.apdu);
    await fpa.selectIsdR();
    // Any card-inserted from here on follows the removal.
    const back = new Promise<void>((resolve) => readers.on('event', (e) => e.kind === 'card-inserted' && e.name === name && resolve()));
    const events: string[] = [];
    vpcd.on('event', (e: VpcdEvent) => events.push(e.kind));
    sims[1]!.faults.mute = 'untilPowerOff';
    await expect(fpa.getEid()).rejects.toMatchObject({ code: 'PCSC_CARD_REMOVED' });
    await card.disconnect();
    // Back in at once, before pcscd's next presence poll.
    vpcd.insert();
    await back;
    expect(events).toContain('bounce');
    const again = await PcscCard.connect(readers.find(name)!, new Uint8Array(0));
    const fpa2 = new FpaClient(again.apdu);
    await fpa2.selectIsdR();
    expect(await fpa2.getEid()).toBe(f.eids[1]);
    await again.disconnect();
  }, 30_000);
});
