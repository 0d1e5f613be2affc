/**
 * One bridge: is its device there, does it answer INFO, can it run what the config asks
 * (channels, supply class, clock), and what STATUS does each of its configured slots show.
 * With `cards`, every enabled slot holding a card is read (card-probe.ts) and, given the
 * station's stores, checked against them (station-check.ts). Only INFO and STATUS
 * go out otherwise; the driver's heartbeat and reconnects are off (one look, then close).
 */
import { hexByte } from '../../core/bytes.ts';
import { isIfppError } from '../../core/errors.ts';
import type { BridgeInfo, SlotStatus } from '../../core/bridge-protocol/verbs.ts';
import { BridgeDriver } from '../../transport/bridge/bridge-driver.ts';
import { BridgeError } from '../../transport/bridge/errors.ts';
import { SlotLink } from '../../transport/bridge/slot-link.ts';
import type { Bridge, Slot, StationConfig } from '../config/schema.ts';
import type { EuiccDialect } from '../fpa/dialect.ts';
import { probeCard } from './card-probe.ts';
import { checkDevicePath } from './device-path.ts';
import { Findings, ProbeError, type ProbePlace } from './errors.ts';
import type { BridgeInfoSummary, BridgeReport, SlotReport } from './report.ts';
import type { StationCheck } from './station-check.ts';

export interface BridgeProbeOptions {
  /** How long the bridge may take to answer INFO and STATUS, ms. */
  timeoutMs: number;
  cards: boolean;
  dialect?: EuiccDialect;
  /** With `cards`: the station's stores, to check each chip against. */
  station?: StationCheck;
}

const SLACK_MS = 250;
const VOLTS: Record<string, string> = { A: '5 V', B: '3 V', C: '1.8 V' };

export function mhz(hz: number): string {
  return `${Number((hz / 1e6).toFixed(3))} MHz`;
}

export async function probeBridge(config: StationConfig, bridge: Bridge, opts: BridgeProbeOptions): Promise<{ report: BridgeReport; findings: Findings }> {
  const findings = new Findings();
  const index = config.bridges.indexOf(bridge);
  const key = `bridges[${index}]`;
  const place: ProbePlace = { bridge: bridge.id, port: bridge.port };
  const slots = config.slots.filter((s) => s.bridge === bridge.id).sort((a, b) => a.channel - b.channel);
  const report: BridgeReport = {
    id: bridge.id,
    port: bridge.port,
    baudRate: bridge.baudRate,
    answered: false,
    slots: slots.map((s) => ({ id: s.id, channel: s.channel, enabled: s.enabled })),
  };

  const path = checkDevicePath(bridge.port);
  if (!path.present) {
    findings.problem(
      new ProbeError('PROBE_BRIDGE_MISSING', `bridge ${bridge.id}: ${bridge.port} does not exist (${path.why})`, place, {
        hint: `is the bridge plugged in and powered? list the serial devices (ls -l /dev/serial/by-id/) and fix ${key}.port`,
      }),
    );
    return { report, findings };
  }
  if (path.device) report.device = path.device;

  // The driver adds its slack (default 250 ms) to the control time: together they are --timeout.
  const driver = new BridgeDriver({ timeoutFactor: config.loading.retry.timeoutFactor, controlTimeoutMs: Math.max(1, opts.timeoutMs - SLACK_MS), slackMs: SLACK_MS, heartbeatMs: 0, reconnectMs: 0 });
  try {
    let info: BridgeInfo;
    try {
      info = await driver.open(bridge.port, bridge.baudRate);
    } catch (e) {
      if (!(e instanceof BridgeError)) throw e;
      findings.problem(openProblem(e, bridge, key, opts.timeoutMs, place));
      return { report, findings };
    }
    report.answered = true;
    report.info = summarize(info);
    const usable = checkCapabilities(config, bridge, key, info, slots, findings, place);
    // Slots are probed concurrently; their findings are kept in slot order.
    const perSlot = slots.map(() => new Findings());
    report.slots = await Promise.all(slots.map((s, i) => probeSlot(driver, config, bridge, s, info, usable, opts, perSlot[i]!)));
    for (const f of perSlot) findings.add(f);
    // INFO before the slots in the JSON, as in the text.
    const { slots: slotReports, ...head } = report;
    return { report: { ...head, slots: slotReports }, findings };
  } finally {
    await driver.close();
  }
}

function summarize(info: BridgeInfo): BridgeInfoSummary {
  return {
    protocol: info.protocol,
    firmware: info.firmware,
    slots: info.slots,
    classes: info.classes,
    ta1: [...info.ta1].map(hexByte),
    clock: { minHz: info.fminHz, maxHz: info.fmaxHz, defaultHz: info.fdefHz },
    apdu: info.apdu === true,
  };
}

function openProblem(e: BridgeError, bridge: Bridge, key: string, timeoutMs: number, place: ProbePlace): ProbeError {
  const opts = { cause: e };
  switch (e.code) {
    case 'BRIDGE_NOT_A_BRIDGE':
      return new ProbeError('PROBE_BRIDGE_SILENT', `bridge ${bridge.id}: ${bridge.port} opened but gave no valid INFO answer within ${timeoutMs} ms`, place, {
        ...opts,
        hint: `check that ${bridge.port} is the bridge (not the jig board or another device), that it runs line protocol 1 at ${key}.baudRate ${bridge.baudRate}, and power-cycle it; a bridge still booting may need a longer --timeout`,
      });
    case 'BRIDGE_PROTOCOL_VERSION':
      return new ProbeError('PROBE_BRIDGE_PROTOCOL', `bridge ${bridge.id}: ${e.message}`, place, { ...opts, hint: e.hint ?? 'update the bridge firmware or the station' });
    default:
      return new ProbeError('PROBE_BRIDGE_UNAVAILABLE', `bridge ${bridge.id}: ${e.message}`, place, { ...opts, hint: e.hint ?? 'check the bridge connection and the configured port' });
  }
}

/** Checks the config against INFO; false when cards cannot be activated as configured. */
function checkCapabilities(config: StationConfig, bridge: Bridge, key: string, info: BridgeInfo, slots: Slot[], findings: Findings, place: ProbePlace): boolean {
  let usable = true;
  if (info.slots < bridge.slots) {
    const lost = slots.filter((s) => s.channel >= info.slots);
    findings.problem(
      new ProbeError(
        'PROBE_BRIDGE_SLOTS',
        `bridge ${bridge.id} has ${info.slots} card channel${info.slots === 1 ? '' : 's'}, the config gives it ${bridge.slots}` +
          (lost.length ? `: ${lost.map((s) => `slot ${s.id} (channel ${s.channel})`).join(', ')} cannot work` : ''),
        { ...place, ...(lost[0] ? { slot: lost[0].id } : {}) },
        { hint: `set ${key}.slots to ${info.slots} and move those slots to channels 0..${info.slots - 1} or another bridge, or fit a bridge with more channels` },
      ),
    );
  }
  const vcc = config.loading.vcc;
  if (!info.classes.includes(vcc)) {
    usable = false;
    findings.problem(
      new ProbeError('PROBE_BRIDGE_VCC', `bridge ${bridge.id} supplies class${info.classes.length === 1 ? '' : 'es'} ${info.classes.split('').join(', ') || '(none)'}; loading.vcc asks for class ${vcc} (${VOLTS[vcc]})`, place, {
        hint: 'set loading.vcc to a class both the bridge and the chips support (eUICCs: C, 1.8 V), or fit a bridge that supplies it',
      }),
    );
  }
  const hz = config.loading.clockHz;
  if (hz < info.fminHz) {
    usable = false;
    findings.problem(
      new ProbeError('PROBE_BRIDGE_CLOCK', `bridge ${bridge.id} runs the card clock from ${mhz(info.fminHz)}; loading.clockHz is ${mhz(hz)}`, place, {
        hint: `raise loading.clockHz to at least ${info.fminHz}`,
      }),
    );
  } else if (hz > info.fmaxHz) {
    findings.note(`bridge ${bridge.id} runs the card clock up to ${mhz(info.fmaxHz)}; loading.clockHz ${mhz(hz)} will be capped there`, place);
  }
  return usable;
}

async function probeSlot(
  driver: BridgeDriver,
  config: StationConfig,
  bridge: Bridge,
  slot: Slot,
  info: BridgeInfo,
  usable: boolean,
  opts: BridgeProbeOptions,
  findings: Findings,
): Promise<SlotReport> {
  const out: SlotReport = { id: slot.id, channel: slot.channel, enabled: slot.enabled };
  const place: ProbePlace = { bridge: bridge.id, slot: slot.id, port: bridge.port };
  if (slot.channel >= info.slots) {
    out.state = 'no-channel';
    return out;
  }
  let st: SlotStatus;
  try {
    st = await driver.status(slot.channel);
  } catch (e) {
    if (!isIfppError(e)) throw e;
    findings.problem(new ProbeError('PROBE_SLOT_STATUS', `slot ${slot.id} (bridge ${bridge.id} channel ${slot.channel}): no STATUS: ${e.message}`, place, { hint: e.hint ?? 'check the bridge', cause: e }));
    return out;
  }
  out.state = st.state;
  out.vcc = st.vcc;
  if (st.state === 'FAULT') {
    findings.problem(
      new ProbeError('PROBE_SLOT_FAULT', `slot ${slot.id} (bridge ${bridge.id} channel ${slot.channel}): the bridge reports a supply fault`, place, {
        hint: 'short or over-current at the socket: check the contacts and the DUT; the fault clears when the slot is powered off',
      }),
    );
    return out;
  }
  if (st.state === 'ON' || st.state === 'READY') {
    findings.note(`slot ${slot.id}: the card is powered (class ${st.vcc}), left on by a station that stopped mid-load? the station resets it before use`, place);
  }
  if (opts.cards && usable && slot.enabled && st.state !== 'EMPTY') {
    const card = await probeCard(new SlotLink(driver, slot.channel), { loading: config.loading, eidPolicy: config.eidPolicy, place, ...(opts.dialect ? { dialect: opts.dialect } : {}), ...(opts.station ? { station: opts.station } : {}) }, findings);
    if (card) out.card = card;
  }
  return out;
}
