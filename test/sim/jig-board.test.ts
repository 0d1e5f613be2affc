import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import five from 'johnny-five';
import { VirtualFirmataBoard, VirtualBoardError } from '../../src/sim/jig/firmata-board.ts';
import { CMD, PinMode, SYSEX, from7bit } from '../../src/sim/jig/firmata-wire.ts';
import { startPtyBoard, type PtyBoard } from '../../src/sim/jig/pty-board.ts';
import { PtyDevice } from '../../src/sim/pty/pty-device.ts';
import { connectBoard, JigBoardError, type JigBoardConnection } from '../../src/transport/jig/connect-board.ts';

// Pin plan used here (a small jig): clamp valve and its closed sensor, two-hand start, e-stop.
const CLAMP = 8;
const CLAMP_CLOSED = 9;
const START_LEFT = 22;
const START_RIGHT = 23; // same 8-pin port as START_LEFT on purpose
const ESTOP = 30;
const LED_PWM = 13;

/** Resolves with the first event of `name`, or rejects after `ms` (keeps failures readable). */
function next<T extends unknown[]>(emitter: NodeJS.EventEmitter, name: string, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${name}' within ${ms} ms`)), ms);
    emitter.once(name, (...args: unknown[]) => {
      clearTimeout(t);
      resolve(args as T);
    });
  });
}

/** Resolves once firmata-io has read `value` on `pin`. */
async function untilRead(conn: JigBoardConnection, pin: number, value: number): Promise<void> {
  while (conn.io.pins[pin]?.value !== value || conn.io.pins[pin]?.report !== 1) {
    await next(conn.io, `digital-read-${pin}`);
  }
}

/** Collects the board's answers to host bytes fed straight in (no transport involved). */
function talk(board: VirtualFirmataBoard) {
  const got: number[] = [];
  board.on('send', (b) => got.push(...b));
  return {
    send: (...bytes: number[]) => board.receive(Uint8Array.from(bytes)),
    take: () => got.splice(0),
  };
}

describe('VirtualFirmataBoard, byte level', () => {
  it('answers the handshake queries the way firmata-io reads them', () => {
    const board = new VirtualFirmataBoard({ digitalPins: 10, analogPins: 2, pwmPins: [3], firmwareName: 'JigFirmata' });
    const host = talk(board);
    host.send(CMD.REPORT_VERSION);
    expect(host.take()).toEqual([CMD.REPORT_VERSION, 2, 5]);
    host.send(CMD.START_SYSEX, SYSEX.REPORT_FIRMWARE, CMD.END_SYSEX);
    const fw = host.take();
    expect(fw.slice(0, 4)).toEqual([CMD.START_SYSEX, SYSEX.REPORT_FIRMWARE, 2, 5]);
    const name = fw.slice(4, -1).filter((_, i) => i % 2 === 0);
    expect(Buffer.from(name).toString()).toBe('JigFirmata');
    host.send(CMD.START_SYSEX, SYSEX.ANALOG_MAPPING_QUERY, CMD.END_SYSEX);
    expect(host.take()).toEqual([CMD.START_SYSEX, SYSEX.ANALOG_MAPPING_RESPONSE, ...Array(10).fill(0x7f), 0, 1, CMD.END_SYSEX]);
    // Capabilities, split across two receive() calls: pins 0/1 reserved, pin 3 PWM, pins 10/11 analog.
    board.receive(Uint8Array.of(CMD.START_SYSEX));
    board.receive(Uint8Array.of(SYSEX.CAPABILITY_QUERY, CMD.END_SYSEX));
    const caps = host.take().slice(2, -1);
    const perPin: number[][] = [[]];
    for (const b of caps) b === 0x7f ? perPin.push([]) : perPin.at(-1)!.push(b);
    perPin.pop();
    expect(perPin).toHaveLength(12);
    expect(perPin[0]).toEqual([]);
    const modes = (pin: number) => perPin[pin]!.filter((_, i) => i % 2 === 0).sort((a, b) => a - b);
    expect(modes(2)).toEqual([PinMode.INPUT, PinMode.OUTPUT, PinMode.PULLUP]);
    expect(modes(3)).toContain(PinMode.PWM);
    expect(modes(10)).toContain(PinMode.ANALOG);
    board.close();
  });

  it('follows StandardFirmata pin rules: pull-up by writing 1 to an INPUT, kept on writing 0, outputs kept over SYSTEM_RESET', () => {
    const board = new VirtualFirmataBoard();
    const host = talk(board);
    host.send(CMD.SET_PIN_MODE, 17, PinMode.INPUT); // port 2, bit 1
    host.send(CMD.REPORT_DIGITAL | 2, 1);
    expect(host.take()).toEqual([CMD.DIGITAL_MESSAGE | 2, 0, 0]); // forced report, floating input reads 0
    host.send(CMD.DIGITAL_MESSAGE | 2, 0b10, 0);
    expect(board.readInput(17)).toBe(1);
    expect(host.take()).toEqual([CMD.DIGITAL_MESSAGE | 2, 0b10, 0]);
    host.send(CMD.DIGITAL_MESSAGE | 2, 0, 0); // firmata-io echoes input bits like this
    expect(board.readInput(17)).toBe(1);
    expect(host.take()).toEqual([]);
    board.setInput(17, 0);
    expect(host.take()).toEqual([CMD.DIGITAL_MESSAGE | 2, 0, 0]);
    board.setInput(17, null);
    expect(host.take()).toEqual([CMD.DIGITAL_MESSAGE | 2, 0b10, 0]);

    host.send(CMD.SET_DIGITAL_PIN_VALUE, 40, 1); // pins start as OUTPUT after power-on
    expect(board.getOutput(40)).toBe(1);
    host.send(CMD.SYSTEM_RESET);
    expect(board.getOutput(40)).toBe(1);
    expect(board.getMode(17)).toBe(PinMode.OUTPUT);
    expect(board.getOutput(17)).toBe(1); // the pull-up latch becomes a driven HIGH, as on an AVR
    expect(board.getMode(54)).toBe(PinMode.ANALOG);
    board.setInput(18, 1);
    expect(host.take()).toEqual([]); // reporting is off after the reset
    board.powerCycle();
    expect(board.getOutput(40)).toBe(0);
    board.close();
  });

  it('answers PIN_STATE_QUERY with mode and state, and ignores modes a pin lacks', () => {
    const board = new VirtualFirmataBoard();
    const host = talk(board);
    const notices: string[] = [];
    board.on('notice', (t) => notices.push(t));
    host.send(CMD.SET_PIN_MODE, 20, PinMode.PWM); // not a PWM pin on a Mega
    expect(board.getMode(20)).toBe(PinMode.OUTPUT);
    expect(notices).toHaveLength(1);
    host.send(CMD.SET_PIN_MODE, 44, PinMode.PWM);
    host.send(CMD.START_SYSEX, 0x6f, 44, 0x7f, 0x01, CMD.END_SYSEX); // EXTENDED_ANALOG 255
    expect(board.getOutput(44)).toBe(255);
    host.send(CMD.START_SYSEX, SYSEX.PIN_STATE_QUERY, 44, CMD.END_SYSEX);
    const r = host.take();
    expect(r.slice(0, 4)).toEqual([CMD.START_SYSEX, SYSEX.PIN_STATE_RESPONSE, 44, PinMode.PWM]);
    expect(from7bit(r.slice(4, -1))).toBe(255);
    expect(() => board.setInput(1, 1)).toThrow(VirtualBoardError); // serial pin
    expect(() => board.setInput(70, 1)).toThrow(VirtualBoardError);
    board.close();
  });

  it('reports an analog channel at once when enabled, then every sampling interval', async () => {
    const board = new VirtualFirmataBoard();
    const host = talk(board);
    board.setAnalog(2, 700);
    host.send(CMD.START_SYSEX, SYSEX.SAMPLING_INTERVAL, 10, 0, CMD.END_SYSEX);
    host.send(CMD.REPORT_ANALOG | 2, 1);
    expect(host.take()).toEqual([CMD.ANALOG_MESSAGE | 2, 700 & 0x7f, 700 >> 7]);
    const again = new Promise<Uint8Array>((res) => board.once('send', res));
    expect([...(await again)]).toEqual([CMD.ANALOG_MESSAGE | 2, 700 & 0x7f, 700 >> 7]);
    board.close();
  });

  it('skips noise and cut-short messages and still answers what follows', () => {
    const board = new VirtualFirmataBoard();
    const host = talk(board);
    host.send(0x12, 0x34); // stray data bytes
    host.send(CMD.START_SYSEX, SYSEX.CAPABILITY_QUERY); // sysex cut short by the next command
    host.send(CMD.SET_PIN_MODE, 5); // command cut short by the next command
    host.send(CMD.REPORT_VERSION);
    expect(host.take()).toEqual([CMD.REPORT_VERSION, 2, 5]);
    expect(board.getMode(5)).toBe(PinMode.OUTPUT);
    board.close();
  });
});

describe('johnny-five + firmata-io + serialport against the virtual board on a pty', () => {
  let pb: PtyBoard;
  let conn: JigBoardConnection;
  let sigintBefore: number;

  beforeEach(async () => {
    sigintBefore = process.listenerCount('SIGINT');
    pb = await startPtyBoard({ links: [{ output: CLAMP, input: CLAMP_CLOSED, delayMs: 40, invert: true }] });
    conn = await connectBoard({ path: pb.path, queryDelayMs: 20, timeoutMs: 5000, heartbeatMs: 100 });
  });

  afterEach(async () => {
    await conn.close();
    await pb.close();
    expect(five.Board.cache).not.toContain(conn.board);
  });

  it('completes the handshake as a Mega without installing a SIGINT handler', () => {
    expect(conn.board.isReady).toBe(true);
    expect(conn.board.type).toBe('MEGA');
    expect(conn.pinCount).toBe(70);
    expect(conn.analogPins[0]).toBe(54);
    expect(conn.firmware.name).toBe('StandardFirmata.ino');
    expect(process.listenerCount('SIGINT')).toBe(sigintBefore);
  });

  it('shows johnny-five output writes on the board (Pin, Relay, PWM Led)', async () => {
    const clamp = new five.Pin({ pin: CLAMP, board: conn.board });
    clamp.high();
    await pb.board.waitForOutput(CLAMP, 1);
    clamp.low();
    await pb.board.waitForOutput(CLAMP, 0);
    expect(pb.board.writes(CLAMP).map((w) => w.value)).toEqual([1, 0]);

    const power = new five.Relay({ pin: 40, board: conn.board });
    power.close();
    await pb.board.waitForOutput(40, 1);

    const led = new five.Led({ pin: LED_PWM, board: conn.board });
    led.on();
    await pb.board.waitForOutput(LED_PWM, 255);
    expect(pb.board.getMode(LED_PWM)).toBe(PinMode.PWM);
    led.off();
    await pb.board.waitForOutput(LED_PWM, 0);
  });

  it('a pull-up Button reads high at rest and sees presses scripted with setInput', async () => {
    const button = new five.Button({ pin: ESTOP, isPullup: true, board: conn.board });
    const [rest] = await next<[number]>(conn.io, `digital-read-${ESTOP}`);
    expect(rest).toBe(1); // nothing drives the pin: the pull-up johnny-five enabled holds it high
    expect(pb.board.snapshot()[ESTOP]).toMatchObject({ mode: PinMode.INPUT, pullup: true, input: 1 });
    expect(button.isDown).toBe(false);

    const down = next(button, 'down');
    pb.board.setInput(ESTOP, 0);
    await down;
    expect(button.isDown).toBe(true);
    const up = next(button, 'up');
    pb.board.setInput(ESTOP, null); // released: floats back to the pull-up
    await up;
    expect(button.isDown).toBe(false);
  });

  it('keeps two inputs on one port apart (two-hand start)', async () => {
    const left = new five.Button({ pin: START_LEFT, isPullup: true, board: conn.board });
    const right = new five.Button({ pin: START_RIGHT, isPullup: true, board: conn.board });
    // Setting up the second pin of a reported port can first report it low (its pull-up comes
    // one message later), so johnny-five may emit a stray event during the setup: the test
    // waits for each step's own event and then checks both buttons' states, so a late stray
    // event cannot be taken for (or hide) crosstalk between the two pins.
    await untilRead(conn, START_LEFT, 1);
    await untilRead(conn, START_RIGHT, 1);
    const step = async (pin: number, level: 0 | 1, button: five.Button, event: string) => {
      const seen = next(button, event);
      pb.board.setInput(pin, level);
      await seen;
      await untilRead(conn, pin, level);
    };
    await step(START_LEFT, 0, left, 'down');
    expect([left.isDown, right.isDown]).toEqual([true, false]);
    await step(START_RIGHT, 0, right, 'down');
    expect([left.isDown, right.isDown]).toEqual([true, true]);
    await step(START_LEFT, 1, left, 'up');
    expect([left.isDown, right.isDown]).toEqual([false, true]);
    await step(START_RIGHT, 1, right, 'up');
    expect([left.isDown, right.isDown]).toEqual([false, false]);
  });

  it('the clamp-closed sensor follows the clamp output through the follower link', async () => {
    const order: string[] = [];
    pb.board.on('output', (pin, v) => pin === CLAMP && order.push(`clamp ${v}`));
    pb.board.on('input', (pin, v) => pin === CLAMP_CLOSED && order.push(`sensor ${v}`));
    const sensor = new five.Switch({ pin: CLAMP_CLOSED, board: conn.board }); // NO: pulled up, closed = low
    await next(conn.io, `digital-read-${CLAMP_CLOSED}`);
    expect(sensor.isOpen).toBe(true);

    const clamp = new five.Pin({ pin: CLAMP, board: conn.board });
    const closed = next(sensor, 'close');
    clamp.high();
    await closed;
    expect(sensor.isClosed).toBe(true);
    const opened = next(sensor, 'open');
    clamp.low();
    await opened;
    expect(order).toEqual(['clamp 1', 'sensor 0', 'clamp 0', 'sensor 1']);
  });

  it('reports a board whose pty disappears mid-session as lost', async () => {
    const lost = next<[JigBoardError]>(conn, 'lost');
    await pb.close();
    const [err] = await lost;
    expect(err).toBeInstanceOf(JigBoardError);
    expect(err.code).toBe('JIG_BOARD_LOST');
    expect(err.message).toContain(pb.path);
    expect(conn.isOpen).toBe(false);
    expect(conn.lostError).toBe(err);
  });

  it('reports a board that stops answering (hung firmware, port still there) as unresponsive', async () => {
    const lost = next<[JigBoardError]>(conn, 'lost');
    pb.board.close(); // the virtual board goes silent; the pty stays open
    const [err] = await lost;
    expect(err.code).toBe('JIG_BOARD_UNRESPONSIVE');
    expect(conn.isOpen).toBe(false);
  });
});

describe('connectBoard failures', () => {
  it('names a missing port as JIG_PORT_UNAVAILABLE', async () => {
    const cached = five.Board.cache.length;
    const err = await connectBoard({ path: '/dev/ifpp-no-such-jig', queryDelayMs: 20, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JigBoardError);
    expect((err as JigBoardError).code).toBe('JIG_PORT_UNAVAILABLE');
    expect((err as JigBoardError).message).toContain('/dev/ifpp-no-such-jig');
    expect((err as JigBoardError).hint).toMatch(/plugged in/);
    expect(five.Board.cache.length).toBe(cached);
  });

  it('names a silent device as JIG_BOARD_TIMEOUT', async () => {
    const silent = await PtyDevice.open(); // a serial device that never speaks Firmata
    try {
      const err = await connectBoard({ path: silent.path, queryDelayMs: 20, timeoutMs: 300 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JigBoardError);
      expect((err as JigBoardError).code).toBe('JIG_BOARD_TIMEOUT');
      expect((err as JigBoardError).message).toContain(silent.path);
    } finally {
      await silent.close();
    }
  });
});
