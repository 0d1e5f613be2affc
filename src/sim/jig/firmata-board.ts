/**
 * A virtual jig I/O board: the device side of Firmata, behaving like StandardFirmata 2.5 on an
 * Arduino Mega-like board, so that firmata-io and johnny-five run unchanged against it.
 *
 * Tests and the demo script the jig's inputs (start buttons, e-stop, lid, DUT presence) with
 * setInput() and observe its outputs (clamp, slot power/reset, LEDs, tower light) through the
 * 'output' event, getOutput() and the write history. Transport-agnostic: bytes from the host go
 * into receive(), bytes for the host leave through the 'send' event (pty-board.ts wires a pty).
 *
 * Pin model (as on an AVR): each digital pin has one latch bit. In OUTPUT mode the latch is the
 * driven level; in INPUT mode a set latch is the pull-up. Hence the StandardFirmata behaviours the
 * station sees on real hardware: writing 1 to an INPUT pin enables its pull-up (johnny-five's
 * Button/Switch rely on that), writing 0 does not disable it, SET_PIN_MODE OUTPUT keeps the latch,
 * and SYSTEM_RESET (which makes every non-analog pin an OUTPUT) does not drive outputs low.
 */
import { EventEmitter } from 'node:events';
import { IfppError } from '../../core/errors.ts';
import { HostParser, PinMode, SYSEX, encode, from7bit, type HostMessage } from './firmata-wire.ts';

export class VirtualBoardError extends IfppError {}

/**
 * "When output pin `output` changes, input pin `input` follows after `delayMs`" (inverted when
 * `invert`): e.g. a pneumatic clamp valve and its closed-position sensor. A new output change
 * before the delay ran out replaces the pending one.
 */
export interface FollowerLink {
  output: number;
  input: number;
  delayMs: number;
  invert?: boolean;
}

export interface VirtualBoardOptions {
  /** Digital pins, numbered from 0 (default 54, as on a Mega). */
  digitalPins?: number;
  /** Analog-capable pins, numbered after the digital ones (default 16: A0 = pin 54). */
  analogPins?: number;
  /** Pins with no capabilities (default [0, 1]: the serial link to the host). */
  reservedPins?: readonly number[];
  /** PWM-capable pins (default: the Mega's 2-13 and 44-46). */
  pwmPins?: readonly number[];
  /** Name in the REPORT_FIRMWARE answer (StandardFirmata reports its sketch file name). */
  firmwareName?: string;
  firmwareVersion?: readonly [major: number, minor: number];
  protocolVersion?: readonly [major: number, minor: number];
  links?: readonly FollowerLink[];
}

export const MEGA_PWM_PINS: readonly number[] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 44, 45, 46];

export interface OutputRecord {
  /** Running number over the board's life (history order; not a time). */
  seq: number;
  pin: number;
  /** 0/1 for OUTPUT pins, the duty (0-255) for PWM, the position for SERVO. */
  value: number;
  mode: number;
}

export interface PinSnapshot {
  pin: number;
  mode: number | undefined;
  /** What the pin drives, when it is an output (OUTPUT, PWM or SERVO mode). */
  output: number | undefined;
  /** The level the board reads on the pin. */
  input: 0 | 1;
  pullup: boolean;
  /** The level scripted from outside (undefined: nothing drives the pin). */
  external: 0 | 1 | undefined;
}

export interface VirtualBoardEvents {
  /** Bytes for the host. */
  send: [bytes: Uint8Array];
  /** An output pin now drives another value. */
  output: [pin: number, value: number];
  /** A scripted/linked input level changed (value = what the board now reads). */
  input: [pin: number, level: 0 | 1];
  mode: [pin: number, mode: number];
  /** Something the board ignored or did not understand (for debugging a host). */
  notice: [text: string];
  reset: [];
}

interface PinRec {
  /** mode -> resolution (bits); empty for reserved pins. */
  readonly caps: ReadonlyMap<number, number>;
  readonly channel: number | undefined;
  mode: number | undefined;
  latch: 0 | 1;
  /** PWM duty / servo position. */
  value: number;
  external: 0 | 1 | undefined;
}

interface LinkState {
  readonly link: FollowerLink;
  level: 0 | 1;
  timer: NodeJS.Timeout | undefined;
}

const KNOWN_MODES = new Set<number>([0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x0b]);
const MAX_PINS = 128; // 16 ports of 8: DIGITAL_MESSAGE carries the port in 4 bits
const MAX_ANALOG = 16; // ANALOG_MESSAGE carries the channel in 4 bits

export class VirtualFirmataBoard extends EventEmitter<VirtualBoardEvents> {
  readonly pinCount: number;
  readonly firmwareName: string;
  /** Output changes, oldest first. */
  readonly history: OutputRecord[] = [];

  private readonly pins: PinRec[];
  private readonly parser = new HostParser((m) => this.mutate(() => this.handle(m)));
  private readonly firmwareVersion: readonly [number, number];
  private readonly protocolVersion: readonly [number, number];
  private readonly reportPorts: boolean[];
  private readonly lastSent: number[];
  private readonly analogReport: boolean[];
  private readonly analogValues: number[];
  private readonly links = new Set<LinkState>();
  private samplingMs = 19;
  private sampler: NodeJS.Timeout | undefined;
  private seq = 0;
  private closed = false;

  constructor(options: VirtualBoardOptions = {}) {
    super();
    const digital = options.digitalPins ?? 54;
    const analog = options.analogPins ?? 16;
    this.pinCount = digital + analog;
    if (!Number.isInteger(digital) || !Number.isInteger(analog) || digital < 0 || analog < 0 || analog > MAX_ANALOG || this.pinCount > MAX_PINS || this.pinCount === 0) {
      throw new VirtualBoardError('VBOARD_BAD_OPTIONS', `a Firmata board has 1-${MAX_PINS} pins and at most ${MAX_ANALOG} analog ones (asked: ${digital} digital + ${analog} analog)`);
    }
    this.firmwareName = options.firmwareName ?? 'StandardFirmata.ino';
    this.firmwareVersion = options.firmwareVersion ?? [2, 5];
    this.protocolVersion = options.protocolVersion ?? [2, 5];
    const reserved = new Set(options.reservedPins ?? [0, 1]);
    const pwm = new Set(options.pwmPins ?? MEGA_PWM_PINS);
    this.pins = Array.from({ length: this.pinCount }, (_, pin) => {
      const caps = new Map<number, number>();
      const channel = pin >= digital ? pin - digital : undefined;
      if (!reserved.has(pin)) {
        caps.set(PinMode.INPUT, 1).set(PinMode.PULLUP, 1).set(PinMode.OUTPUT, 1);
        if (pwm.has(pin)) caps.set(PinMode.PWM, 8).set(PinMode.SERVO, 14);
        if (channel !== undefined) caps.set(PinMode.ANALOG, 10);
      }
      return { caps, channel, mode: undefined, latch: 0, value: 0, external: undefined };
    });
    const ports = Math.ceil(this.pinCount / 8);
    this.reportPorts = new Array<boolean>(ports).fill(false);
    this.lastSent = new Array<number>(ports).fill(0);
    this.analogReport = new Array<boolean>(analog).fill(false);
    this.analogValues = new Array<number>(analog).fill(0);
    this.systemReset(false); // power-on: what the firmware's setup() does
    for (const link of options.links ?? []) this.addLink(link);
  }

  // ---- host side --------------------------------------------------------------------------

  /** Bytes from the host (any split). */
  receive(bytes: Uint8Array): void {
    if (!this.closed) this.parser.push(bytes);
  }

  // ---- scripting the jig ------------------------------------------------------------------

  /**
   * Drives an input pin from outside (a button, sensor or switch): 0/1 (or boolean), or null to
   * let it float again, when the pull-up (if on) makes it read 1. Reported to the host at once
   * if it enabled reporting for the pin's port and the pin is an input.
   */
  setInput(pin: number, level: 0 | 1 | boolean | null): void {
    this.checkPin(pin);
    const v = level === null ? undefined : level === true || level === 1 ? 1 : 0;
    this.mutate(() => this.applyExternal(pin, v));
  }

  /** Sets what analog channel `channel` (A0 = 0) reads (0-1023). */
  setAnalog(channel: number, value: number): void {
    if (!Number.isInteger(channel) || channel < 0 || channel >= this.analogValues.length) {
      throw new VirtualBoardError('VBOARD_BAD_PIN', `no analog channel ${channel} on this board (it has ${this.analogValues.length})`);
    }
    this.analogValues[channel] = Math.max(0, Math.min(1023, Math.round(value)));
  }

  /** Adds a follower link (see FollowerLink); returns a function that removes it again. */
  addLink(link: FollowerLink): () => void {
    this.checkPin(link.output);
    this.checkPin(link.input);
    const state: LinkState = { link, level: this.levelOf(link.output), timer: undefined };
    this.links.add(state);
    // The follower starts where the output already is (a clamp at rest reads "open").
    this.mutate(() => this.applyExternal(link.input, (state.level ^ (link.invert ? 1 : 0)) as 0 | 1));
    return () => {
      clearTimeout(state.timer);
      this.links.delete(state);
    };
  }

  /** Board power cycle / reset button: latches clear, then the firmware's power-on setup. */
  powerCycle(): void {
    this.mutate(() => {
      for (const p of this.pins) {
        p.latch = 0;
        p.value = 0;
      }
      this.systemReset(true);
    });
  }

  // ---- observing the jig ------------------------------------------------------------------

  /** What the pin drives, or undefined when it is not an output (OUTPUT/PWM/SERVO mode). */
  getOutput(pin: number): number | undefined {
    this.checkPin(pin, true);
    return this.driven(this.pins[pin]!);
  }

  getMode(pin: number): number | undefined {
    this.checkPin(pin, true);
    return this.pins[pin]!.mode;
  }

  /** The level the board reads on the pin (scripted level, else pull-up, else 0). */
  readInput(pin: number): 0 | 1 {
    this.checkPin(pin, true);
    return this.readLevel(this.pins[pin]!);
  }

  snapshot(): PinSnapshot[] {
    return this.pins.map((p, pin) => ({
      pin,
      mode: p.mode,
      output: this.driven(p),
      input: this.readLevel(p),
      pullup: this.pullup(p),
      external: p.external,
    }));
  }

  /** Output records of one pin (all pins when omitted). */
  writes(pin?: number): OutputRecord[] {
    return pin === undefined ? [...this.history] : this.history.filter((r) => r.pin === pin);
  }

  clearHistory(): void {
    this.history.length = 0;
  }

  /** Resolves once the pin drives `value` (at once if it already does). */
  waitForOutput(pin: number, value: number, timeoutMs = 2000): Promise<void> {
    this.checkPin(pin, true);
    if (this.getOutput(pin) === value) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onOutput = (p: number, v: number) => {
        if (p !== pin || v !== value) return;
        clearTimeout(timer);
        this.off('output', onOutput);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('output', onOutput);
        reject(new VirtualBoardError('VBOARD_WAIT_TIMEOUT', `pin ${pin} did not drive ${value} within ${timeoutMs} ms (it drives ${this.getOutput(pin) ?? 'nothing'})`));
      }, timeoutMs);
      this.on('output', onOutput);
    });
  }

  /** Stops the board's timers (analog sampling, pending links); it ignores the host afterwards. */
  close(): void {
    this.closed = true;
    clearInterval(this.sampler);
    this.sampler = undefined;
    for (const l of this.links) clearTimeout(l.timer);
    this.links.clear();
  }

  // ---- internals ---------------------------------------------------------------------------

  private checkPin(pin: number, allowReserved = false): void {
    const rec = Number.isInteger(pin) ? this.pins[pin] : undefined;
    if (!rec || (!allowReserved && rec.caps.size === 0)) {
      throw new VirtualBoardError('VBOARD_BAD_PIN', `pin ${pin} is not a usable pin of this ${this.pinCount}-pin board`);
    }
  }

  private driven(p: PinRec): number | undefined {
    if (p.mode === PinMode.OUTPUT) return p.latch;
    if (p.mode === PinMode.PWM || p.mode === PinMode.SERVO) return p.value;
    return undefined;
  }

  private levelOf(pin: number): 0 | 1 {
    return (this.driven(this.pins[pin]!) ?? 0) > 0 ? 1 : 0;
  }

  private pullup(p: PinRec): boolean {
    return (p.mode === PinMode.INPUT || p.mode === PinMode.PULLUP) && p.latch === 1;
  }

  private readLevel(p: PinRec): 0 | 1 {
    return p.external ?? (this.pullup(p) ? 1 : 0);
  }

  private isInput(p: PinRec): boolean {
    return p.mode === PinMode.INPUT || p.mode === PinMode.PULLUP;
  }

  private send(bytes: Uint8Array): void {
    if (!this.closed) this.emit('send', bytes);
  }

  /**
   * Runs a state change, then does what the firmware's main loop would: notes output changes
   * (events, history, follower links) and reports input ports whose value changed.
   */
  private mutate(change: () => void): void {
    const before = this.pins.map((p) => this.driven(p));
    change();
    this.pins.forEach((p, pin) => {
      const now = this.driven(p);
      if (now === before[pin]) return;
      if (now !== undefined) {
        this.history.push({ seq: ++this.seq, pin, value: now, mode: p.mode! });
        this.emit('output', pin, now);
      }
      this.followLinks(pin);
    });
    this.scanInputs(false);
  }

  private followLinks(output: number): void {
    const level = this.levelOf(output);
    for (const l of this.links) {
      if (l.link.output !== output || l.level === level) continue;
      l.level = level;
      clearTimeout(l.timer);
      const target = (level ^ (l.link.invert ? 1 : 0)) as 0 | 1;
      if (l.link.delayMs <= 0) {
        this.applyExternal(l.link.input, target);
      } else {
        l.timer = setTimeout(() => {
          l.timer = undefined;
          this.mutate(() => this.applyExternal(l.link.input, target));
        }, l.link.delayMs);
        l.timer.unref();
      }
    }
  }

  private applyExternal(pin: number, level: 0 | 1 | undefined): void {
    const p = this.pins[pin]!;
    if (p.external === level) return;
    const was = this.readLevel(p);
    p.external = level;
    const now = this.readLevel(p);
    if (level !== undefined || now !== was) this.emit('input', pin, now);
  }

  /** StandardFirmata's outputPort(): input bits only, sent when changed (or when forced). */
  private scanInputs(force: boolean, only?: number): void {
    this.reportPorts.forEach((on, port) => {
      if (!on || (only !== undefined && port !== only)) return;
      let value = 0;
      for (let bit = 0; bit < 8; bit++) {
        const p = this.pins[port * 8 + bit];
        if (p && this.isInput(p) && this.readLevel(p)) value |= 1 << bit;
      }
      if (force || value !== this.lastSent[port]) {
        this.lastSent[port] = value;
        this.send(encode.digitalPort(port, value));
      }
    });
  }

  private handle(m: HostMessage): void {
    switch (m.type) {
      case 'reportVersion':
        return this.send(encode.reportVersion(...this.protocolVersion));
      case 'systemReset':
        return this.systemReset(true);
      case 'setPinMode':
        return this.setPinMode(m.pin, m.mode);
      case 'digital':
        return this.writePort(m.port, m.value);
      case 'setPinValue': {
        const p = this.pins[m.pin];
        if (p?.mode === PinMode.OUTPUT) p.latch = m.value ? 1 : 0;
        return;
      }
      case 'analog':
        return this.analogWrite(m.pin, m.value);
      case 'reportDigital':
        if (m.port >= this.reportPorts.length) {
          this.emit('notice', `REPORT_DIGITAL for port ${m.port}, which this board lacks`);
          return;
        }
        this.reportPorts[m.port] = m.enable;
        if (m.enable) this.scanInputs(true, m.port); // StandardFirmata answers with the port at once
        return;
      case 'reportAnalog':
        return this.reportAnalog(m.channel, m.enable, true);
      case 'sysex':
        return this.sysex(m.command, m.data);
    }
  }

  private setPinMode(pin: number, mode: number): void {
    const p = this.pins[pin];
    if (!p || p.caps.size === 0) {
      this.emit('notice', `SET_PIN_MODE ${mode} on pin ${pin}, which has no capabilities`);
      return;
    }
    if (!KNOWN_MODES.has(mode)) {
      this.emit('notice', `SET_PIN_MODE with unknown mode ${mode} on pin ${pin}`);
      this.send(encode.string('Unknown pin mode'));
      return;
    }
    if (!p.caps.has(mode)) {
      this.emit('notice', `pin ${pin} does not support mode ${mode}; ignored`);
      return;
    }
    this.applyMode(pin, mode, true);
  }

  /** setPinModeCallback() of StandardFirmata, on the latch model. */
  private applyMode(pin: number, mode: number, reportNow: boolean): void {
    const p = this.pins[pin]!;
    if (p.channel !== undefined) this.reportAnalog(p.channel, mode === PinMode.ANALOG, reportNow);
    const was = p.mode;
    switch (mode) {
      case PinMode.INPUT:
      case PinMode.ANALOG:
        p.latch = 0; // pinMode(INPUT) also turns the pull-up off
        break;
      case PinMode.PULLUP:
        p.latch = 1;
        break;
      case PinMode.OUTPUT:
        if (was === PinMode.PWM) p.latch = 0; // latch kept otherwise
        break;
      case PinMode.PWM:
        p.latch = 0;
        p.value = 0;
        break;
      case PinMode.SERVO:
        p.value = 0;
        break;
    }
    p.mode = mode;
    if (was !== mode) this.emit('mode', pin, mode);
  }

  /** digitalWriteCallback(): outputs take their bit; a 1 on an INPUT pin enables its pull-up. */
  private writePort(port: number, value: number): void {
    for (let bit = 0; bit < 8; bit++) {
      const p = this.pins[port * 8 + bit];
      if (!p || p.caps.size === 0) continue;
      const v = (value >> bit) & 1;
      if (p.mode === PinMode.OUTPUT) p.latch = v as 0 | 1;
      else if (p.mode === PinMode.INPUT && v === 1) p.latch = 1;
    }
  }

  private analogWrite(pin: number, value: number): void {
    const p = this.pins[pin];
    if (p && (p.mode === PinMode.PWM || p.mode === PinMode.SERVO)) p.value = value;
    else this.emit('notice', `analog write ${value} to pin ${pin}, which is not in PWM or SERVO mode; ignored`);
  }

  private reportAnalog(channel: number, enable: boolean, reportNow: boolean): void {
    if (channel >= this.analogReport.length) return;
    this.analogReport[channel] = enable;
    if (enable && reportNow) this.send(encode.analog(channel, this.analogValues[channel]!));
    this.restartSampler();
  }

  private restartSampler(): void {
    clearInterval(this.sampler);
    this.sampler = undefined;
    if (this.closed || !this.analogReport.some(Boolean)) return;
    this.sampler = setInterval(() => {
      this.analogReport.forEach((on, ch) => {
        const pin = this.pins.findIndex((p) => p.channel === ch);
        if (on && this.pins[pin]?.mode === PinMode.ANALOG) this.send(encode.analog(ch, this.analogValues[ch]!));
      });
    }, this.samplingMs);
    this.sampler.unref();
  }

  private sysex(command: number, data: number[]): void {
    switch (command) {
      case SYSEX.REPORT_FIRMWARE:
        return this.send(encode.firmware(this.firmwareVersion[0], this.firmwareVersion[1], this.firmwareName));
      case SYSEX.CAPABILITY_QUERY:
        return this.send(encode.capabilities(this.pins.map((p) => [...p.caps.entries()])));
      case SYSEX.ANALOG_MAPPING_QUERY:
        return this.send(encode.analogMapping(this.pins.map((p) => p.channel)));
      case SYSEX.PIN_STATE_QUERY: {
        const pin = data[0] ?? MAX_PINS;
        const p = this.pins[pin];
        if (!p) return;
        const state = p.mode === PinMode.PWM || p.mode === PinMode.SERVO ? p.value : p.mode === PinMode.ANALOG ? 0 : p.latch;
        return this.send(encode.pinState(pin, p.mode ?? 0x7f, state));
      }
      case SYSEX.SAMPLING_INTERVAL:
        if (data.length < 2) return;
        this.samplingMs = Math.max(1, from7bit(data.slice(0, 2)));
        return this.restartSampler();
      case SYSEX.EXTENDED_ANALOG:
        if (data.length < 2) return;
        return this.analogWrite(data[0]!, from7bit(data.slice(1)));
      case SYSEX.SERVO_CONFIG: {
        const pin = data[0] ?? MAX_PINS;
        if (data.length > 4 && this.pins[pin]?.caps.has(PinMode.SERVO)) this.applyMode(pin, PinMode.SERVO, true);
        return;
      }
      case SYSEX.STRING_DATA: {
        const bytes: number[] = [];
        for (let i = 0; i + 1 < data.length; i += 2) bytes.push((data[i]! | (data[i + 1]! << 7)) & 0xff);
        this.emit('notice', `host string: ${Buffer.from(bytes).toString('utf8').replace(/\0+$/, '')}`);
        return;
      }
      default:
        this.emit('notice', `sysex 0x${command.toString(16)} not supported by this virtual board; ignored`);
    }
  }

  /** systemResetCallback(): reporting off, analog pins to ANALOG, all other pins to OUTPUT. */
  private systemReset(announce: boolean): void {
    this.reportPorts.fill(false);
    this.lastSent.fill(0);
    this.pins.forEach((p, pin) => {
      if (p.caps.size === 0) return;
      this.applyMode(pin, p.caps.has(PinMode.ANALOG) ? PinMode.ANALOG : PinMode.OUTPUT, false);
    });
    this.analogReport.fill(false);
    this.restartSampler();
    if (announce) this.emit('reset');
  }
}
