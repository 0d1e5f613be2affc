/**
 * Firmata 2.x on the wire, seen from the device side: command bytes, pin modes, a streaming
 * parser for what the host sends, and encoders for what the board answers. Values follow the
 * Firmata protocol documents and StandardFirmata 2.5 (MIDI-style framing: a command byte has
 * its top bit set, data bytes are 7-bit; sysex runs from F0 to F7).
 */

export const CMD = {
  DIGITAL_MESSAGE: 0x90, // | port: 8 pin levels as two 7-bit bytes
  ANALOG_MESSAGE: 0xe0, // | channel (board -> host) or pin (host -> board, PWM write)
  REPORT_ANALOG: 0xc0, // | channel, then 0/1
  REPORT_DIGITAL: 0xd0, // | port, then 0/1
  SET_PIN_MODE: 0xf4,
  SET_DIGITAL_PIN_VALUE: 0xf5,
  REPORT_VERSION: 0xf9,
  SYSTEM_RESET: 0xff,
  START_SYSEX: 0xf0,
  END_SYSEX: 0xf7,
} as const;

export const SYSEX = {
  ANALOG_MAPPING_QUERY: 0x69,
  ANALOG_MAPPING_RESPONSE: 0x6a,
  CAPABILITY_QUERY: 0x6b,
  CAPABILITY_RESPONSE: 0x6c,
  PIN_STATE_QUERY: 0x6d,
  PIN_STATE_RESPONSE: 0x6e,
  EXTENDED_ANALOG: 0x6f,
  SERVO_CONFIG: 0x70,
  STRING_DATA: 0x71,
  REPORT_FIRMWARE: 0x79, // also the query: same byte both ways
  SAMPLING_INTERVAL: 0x7a,
} as const;

/** Pin modes as Firmata numbers them (SET_PIN_MODE, CAPABILITY_RESPONSE, PIN_STATE_RESPONSE). */
export const PinMode = {
  INPUT: 0x00,
  OUTPUT: 0x01,
  ANALOG: 0x02,
  PWM: 0x03,
  SERVO: 0x04,
  PULLUP: 0x0b,
} as const;
export type PinMode = (typeof PinMode)[keyof typeof PinMode];

/** Capability/mapping marker: end of one pin's mode list, or "no analog channel". */
export const NONE = 0x7f;

export type HostMessage =
  | { type: 'digital'; port: number; value: number }
  | { type: 'analog'; pin: number; value: number }
  | { type: 'reportAnalog'; channel: number; enable: boolean }
  | { type: 'reportDigital'; port: number; enable: boolean }
  | { type: 'setPinMode'; pin: number; mode: number }
  | { type: 'setPinValue'; pin: number; value: number }
  | { type: 'reportVersion' }
  | { type: 'systemReset' }
  | { type: 'sysex'; command: number; data: number[] };

/** Data bytes each channel/plain command needs before it is complete. */
function dataLength(command: number): number | undefined {
  switch (command & 0xf0) {
    case CMD.DIGITAL_MESSAGE:
    case CMD.ANALOG_MESSAGE:
      return 2;
    case CMD.REPORT_ANALOG:
    case CMD.REPORT_DIGITAL:
      return 1;
  }
  if (command === CMD.SET_PIN_MODE || command === CMD.SET_DIGITAL_PIN_VALUE) return 2;
  return undefined;
}

/**
 * Host-to-board byte stream parser. Bytes may arrive split anywhere. A command byte always
 * starts a new message (an incomplete one is dropped, as the firmware does on noise); unknown
 * command bytes and stray data bytes are skipped.
 */
export class HostParser {
  private command = -1;
  private need = 0;
  private data: number[] = [];
  private inSysex = false;

  constructor(private readonly onMessage: (m: HostMessage) => void) {}

  push(bytes: Uint8Array): void {
    for (const b of bytes) this.byte(b);
  }

  private byte(b: number): void {
    if (this.inSysex) {
      if (b === CMD.END_SYSEX) {
        this.inSysex = false;
        const [command, ...data] = this.data;
        this.data = [];
        if (command !== undefined) this.onMessage({ type: 'sysex', command, data });
        return;
      }
      if (b < 0x80) {
        this.data.push(b);
        return;
      }
      // A command byte inside sysex: the sysex was cut short; treat b as a fresh command.
      this.inSysex = false;
      this.data = [];
    }
    if (b >= 0x80) {
      this.command = -1;
      this.data = [];
      if (b === CMD.START_SYSEX) {
        this.inSysex = true;
      } else if (b === CMD.REPORT_VERSION) {
        this.onMessage({ type: 'reportVersion' });
      } else if (b === CMD.SYSTEM_RESET) {
        this.onMessage({ type: 'systemReset' });
      } else {
        const need = dataLength(b);
        if (need !== undefined) {
          this.command = b;
          this.need = need;
        }
      }
      return;
    }
    if (this.command < 0) return; // stray data byte
    this.data.push(b);
    if (this.data.length < this.need) return;
    const c = this.command;
    const [d0 = 0, d1 = 0] = this.data;
    this.data = [];
    this.command = -1; // no MIDI running status: every message brings its own command byte
    this.onMessage(decode(c, d0, d1));
  }
}

function decode(c: number, d0: number, d1: number): HostMessage {
  switch (c & 0xf0) {
    case CMD.DIGITAL_MESSAGE:
      return { type: 'digital', port: c & 0x0f, value: (d0 | (d1 << 7)) & 0xff };
    case CMD.ANALOG_MESSAGE:
      return { type: 'analog', pin: c & 0x0f, value: d0 | (d1 << 7) };
    case CMD.REPORT_ANALOG:
      return { type: 'reportAnalog', channel: c & 0x0f, enable: d0 !== 0 };
    case CMD.REPORT_DIGITAL:
      return { type: 'reportDigital', port: c & 0x0f, enable: d0 !== 0 };
  }
  if (c === CMD.SET_PIN_MODE) return { type: 'setPinMode', pin: d0, mode: d1 };
  return { type: 'setPinValue', pin: d0, value: d1 };
}

/** A number as little-endian 7-bit groups (at least `min` of them). */
export function to7bit(value: number, min = 1): number[] {
  const out: number[] = [];
  let v = Math.max(0, Math.floor(value));
  do {
    out.push(v & 0x7f);
    v = Math.floor(v / 128);
  } while (v > 0 || out.length < min);
  return out;
}

/** Little-endian 7-bit groups back to a number. */
export function from7bit(groups: readonly number[]): number {
  let v = 0;
  for (let i = groups.length - 1; i >= 0; i--) v = v * 128 + ((groups[i] ?? 0) & 0x7f);
  return v;
}

/** Text as Firmata carries it in sysex: every byte split into two 7-bit bytes. */
function text7bit(text: string): number[] {
  return [...Buffer.from(text, 'utf8')].flatMap((b) => [b & 0x7f, b >> 7]);
}

const sysex = (command: number, body: readonly number[]) =>
  Uint8Array.from([CMD.START_SYSEX, command, ...body, CMD.END_SYSEX]);

export const encode = {
  reportVersion: (major: number, minor: number) => Uint8Array.of(CMD.REPORT_VERSION, major & 0x7f, minor & 0x7f),
  firmware: (major: number, minor: number, name: string) =>
    sysex(SYSEX.REPORT_FIRMWARE, [major & 0x7f, minor & 0x7f, ...text7bit(name)]),
  /** One entry per pin: its [mode, resolution] pairs (empty for a pin with no capabilities). */
  capabilities: (pins: readonly (readonly (readonly [number, number])[])[]) =>
    sysex(SYSEX.CAPABILITY_RESPONSE, pins.flatMap((modes) => [...modes.flat(), NONE])),
  /** One entry per pin: its analog channel, or undefined. */
  analogMapping: (channels: readonly (number | undefined)[]) =>
    sysex(SYSEX.ANALOG_MAPPING_RESPONSE, channels.map((c) => c ?? NONE)),
  pinState: (pin: number, mode: number, state: number) => sysex(SYSEX.PIN_STATE_RESPONSE, [pin, mode, ...to7bit(state)]),
  digitalPort: (port: number, value: number) =>
    Uint8Array.of(CMD.DIGITAL_MESSAGE | (port & 0x0f), value & 0x7f, (value >> 7) & 0x01),
  analog: (channel: number, value: number) =>
    Uint8Array.of(CMD.ANALOG_MESSAGE | (channel & 0x0f), value & 0x7f, (value >> 7) & 0x7f),
  string: (text: string) => sysex(SYSEX.STRING_DATA, text7bit(text)),
};
