/**
 * The jig board, read-only: connect as the station does (johnny-five over Firmata), report the
 * firmware, check every configured pin against the board's capabilities, and read each
 * configured input once. Input pins get their mode (PULLUP where the config asks for a pull-up)
 * and port reporting, which is what reading them takes; no pin is ever written and no output
 * changes mode, so clamp, slot power, reset, lights and buzzer stay as they are.
 */
import type firmataIo from 'firmata-io';
import { connectBoard, JigBoardError, type JigBoardConnection } from '../../transport/jig/connect-board.ts';
import type { GuardType, StationConfig } from '../config/schema.ts';
import { bindingName, ioPlan, type InputBinding, type OutputBinding } from '../jig/io-plan.ts';
import { INPUT_MODE, PULLUP_MODE, pinProblem } from '../jig/jig-io.ts';
import { checkDevicePath } from './device-path.ts';
import { Findings, ProbeError, type ProbePlace } from './errors.ts';
import type { InputReading, JigReport } from './report.ts';

export interface JigProbeOptions {
  /** How long the board may take to finish the handshake and report its inputs, ms. */
  timeoutMs: number;
  /** Wait before asking a board that may be rebooting (see connect-board.ts), ms. */
  queryDelayMs: number;
}


export async function probeJig(config: StationConfig, opts: JigProbeOptions): Promise<{ report: JigReport; findings: Findings }> {
  const findings = new Findings();
  const board = config.board!;
  const place: ProbePlace = { port: board.port };
  const report: JigReport = { port: board.port, baudRate: board.baudRate, answered: false, inputs: [], outputsChecked: 0 };

  const path = checkDevicePath(board.port);
  if (!path.present) {
    findings.problem(
      new ProbeError('PROBE_JIG_MISSING', `jig board: ${board.port} does not exist (${path.why})`, place, {
        hint: 'is the jig board plugged in? list the serial devices (ls -l /dev/serial/by-id/) and fix board.port',
      }),
    );
    return { report, findings };
  }
  if (path.device) report.device = path.device;

  let conn: JigBoardConnection;
  try {
    conn = await connectBoard({ path: board.port, baudRate: board.baudRate, queryDelayMs: opts.queryDelayMs, timeoutMs: opts.queryDelayMs + opts.timeoutMs, heartbeatMs: 0, id: `${config.name} (probe)` });
  } catch (e) {
    if (!(e instanceof JigBoardError)) throw e;
    const silent = e.code === 'JIG_BOARD_TIMEOUT';
    findings.problem(
      new ProbeError(silent ? 'PROBE_JIG_SILENT' : 'PROBE_JIG_UNAVAILABLE', `jig board: ${e.message}`, place, {
        hint: silent ? `${e.hint ?? 'check the port and the firmware'}; a slow board may need a longer --timeout` : (e.hint ?? 'check the jig board connection'),
        cause: e,
      }),
    );
    return { report, findings };
  }
  try {
    report.answered = true;
    const fw = conn.firmware;
    report.firmware = { name: fw.name, version: `${fw.version.major}.${fw.version.minor}`, protocol: `${fw.protocol.major}.${fw.protocol.minor}` };
    report.pins = conn.pinCount;
    const plan = ioPlan(config);
    report.outputsChecked = plan.outputs.filter((b) => pinUsable(conn, b, 'output', findings)).length;
    const inputs = plan.inputs.filter((b) => pinUsable(conn, b, 'input', findings));
    const levels = await readInputs(conn.io, inputs, opts.timeoutMs, findings, place);
    report.inputs = inputs.map((b) => reading(b, levels?.get(b.pin.pin), board.guard?.type, conn, findings));
    const unread = levels ? inputs.filter((b) => !levels.has(b.pin.pin)) : [];
    if (unread.length > 0) {
      findings.problem(
        new ProbeError('PROBE_JIG_INPUTS', `jig board: never reported ${unread.map((b) => `${bindingName(b)} (pin ${b.pin.label})`).join(', ')}`, { ...place, pin: unread[0]!.pin.label }, {
          hint: 'the firmware does not report an input port when asked: flash StandardFirmata 2.5 or later',
        }),
      );
    }
  } finally {
    await conn.close();
  }
  return { report, findings };
}

function pinUsable(conn: JigBoardConnection, b: InputBinding | OutputBinding, what: 'input' | 'output', findings: Findings): boolean {
  const p = pinProblem(conn, b, what);
  if (p) findings.problem(new ProbeError('PROBE_JIG_PIN', `jig board: ${p.message}`, { port: conn.path, pin: b.pin.label, ...(b.slot !== undefined ? { slot: b.slot } : {}) }, { hint: p.hint }));
  return !p;
}

/**
 * Sets the input modes, enables reporting, and waits for a pin-state answer as a barrier.
 * Undefined when the board did not answer the barrier (a problem is recorded).
 */
async function readInputs(io: firmataIo.Firmata, inputs: InputBinding[], timeoutMs: number, findings: Findings, place: ProbePlace): Promise<Map<number, 0 | 1> | undefined> {
  const levels = new Map<number, 0 | 1>();
  const last = inputs.at(-1);
  if (!last) return levels;
  for (const b of inputs) {
    const native = io.pins[b.pin.pin]!.supportedModes.includes(PULLUP_MODE);
    // Without a native PULLUP mode the pull-up takes a port write, which the probe never does.
    io.pinMode(b.pin.pin, b.pin.pullup && native ? PULLUP_MODE : INPUT_MODE);
  }
  let answered = true;
  const listeners = inputs.map((b) => {
    const fn = (v: number) => levels.set(b.pin.pin, v ? 1 : 0);
    io.digitalRead(b.pin.pin, fn);
    return { pin: b.pin.pin, fn };
  });
  try {
    // The board answers in order: once the pin state of the last input is back, every report
    // the set-up caused has arrived.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        io.removeAllListeners(`pin-state-${last.pin.pin}`);
        reject(new Error('timeout'));
      }, timeoutMs);
      io.queryPinState(last.pin.pin, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } catch {
    answered = false;
    findings.problem(
      new ProbeError('PROBE_JIG_INPUTS', `jig board: no answer to a pin-state query within ${timeoutMs} ms, inputs not read`, place, {
        hint: 'the board does the handshake but not pin queries: flash StandardFirmata 2.5 or later',
      }),
    );
  } finally {
    for (const l of listeners) io.removeListener(`digital-read-${l.pin}`, l.fn);
    for (const port of new Set(inputs.map((b) => b.pin.pin >> 3))) io.reportDigitalPin(port * 8, 0);
  }
  return answered ? levels : undefined;
}

const WORDS: Record<InputBinding['role'], [active: string, idle: string]> = {
  estop: ['pressed', 'released'],
  guard: ['open', 'closed'],
  'start-left': ['pressed', 'released'],
  'start-right': ['pressed', 'released'],
  'clamp-closed': ['closed', 'open'],
  presence: ['present', 'empty'],
};

function inputName(b: InputBinding, guard: GuardType | undefined): string {
  switch (b.role) {
    case 'estop':
      return 'e-stop';
    case 'guard':
      return `guard (${guard === 'light-curtain' ? 'light curtain' : 'lid'})`;
    case 'start-left':
      return 'start left';
    case 'start-right':
      return 'start right';
    case 'clamp-closed':
      return 'clamp sensor';
    case 'presence':
      return `presence ${b.slot}`;
  }
}

function reading(b: InputBinding, level: 0 | 1 | undefined, guard: GuardType | undefined, conn: JigBoardConnection, findings: Findings): InputReading {
  const name = inputName(b, guard);
  const place: ProbePlace = { port: conn.path, pin: b.pin.label, ...(b.slot !== undefined ? { slot: b.slot } : {}) };
  const out: InputReading = { role: b.role, ...(b.slot !== undefined ? { slot: b.slot } : {}), name, pin: b.pin.label, state: 'unknown' };
  if (b.pin.pullup && !conn.io.pins[b.pin.pin]!.supportedModes.includes(PULLUP_MODE)) {
    findings.note(`${name} (pin ${b.pin.label}): this firmware has no PULLUP mode, so it was read without its pull-up and may float`, place);
  }
  if (level === undefined) return out;
  const active = level === (b.pin.activeLow ? 0 : 1);
  let [on, off] = WORDS[b.role];
  if (b.role === 'guard' && guard === 'light-curtain') [on, off] = ['interrupted', 'clear'];
  Object.assign(out, { level, active, state: active ? on : off });
  if (!active) return out;
  if (b.role === 'estop') findings.note('the e-stop is pressed: release it; the station starts latched until it is released and reset', place);
  else if (b.role === 'guard') findings.note(`the ${guard === 'light-curtain' ? 'light curtain is interrupted' : 'lid is open'}: the jig will not start until it is ${off}`, place);
  else if (b.role === 'start-left' || b.role === 'start-right') findings.note(`${name} reads pressed with nobody pressing it? a stuck button, or activeLow the wrong way round`, place);
  else if (b.role === 'clamp-closed') findings.note('the clamp sensor reads closed although no station drives the clamp: check the sensor and its activeLow', place);
  return out;
}
