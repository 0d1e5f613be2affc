/**
 * Minimal types for firmata-io 2.3 (the host side of Firmata, with the transport injected).
 * Only what the station uses; see node_modules/firmata-io/lib/firmata.js for the rest.
 */
declare module 'firmata-io' {
  import type { EventEmitter } from 'node:events';

  namespace bindTransport {
    interface FirmataPin {
      supportedModes: number[];
      mode?: number;
      value: number;
      report: number;
      analogChannel: number;
      /** Filled by queryPinState(): output value, or pull-up status for inputs. */
      state?: number;
    }

    /** Anything stream-like: serialport 13's SerialPort fits. */
    interface FirmataTransport {
      on(event: string, listener: (...args: any[]) => void): unknown;
      write(data: Buffer, callback?: (err?: Error | null) => void): unknown;
    }

    interface FirmataOptions {
      /** ms to wait for the board to announce itself before asking (default 5000). */
      reportVersionTimeout?: number;
      /** Sent to the board after the handshake only when given. */
      samplingInterval?: number;
      skipCapabilities?: boolean;
    }

    class Firmata extends EventEmitter {
      constructor(transport: FirmataTransport, options?: FirmataOptions, callback?: (error?: Error) => void);
      readonly MODES: {
        readonly INPUT: 0;
        readonly OUTPUT: 1;
        readonly ANALOG: 2;
        readonly PWM: 3;
        readonly SERVO: 4;
        readonly PULLUP: 11;
        readonly [mode: string]: number;
      };
      readonly HIGH: 1;
      readonly LOW: 0;
      name: string;
      isReady: boolean;
      versionReceived: boolean;
      pins: FirmataPin[];
      analogPins: number[];
      ports: number[];
      version: { major?: number; minor?: number };
      firmware: { name?: string; version?: { major: number; minor: number } };
      RESOLUTION: { ADC: number | null; DAC: number | null; PWM: number | null };
      /** Writes handed to the transport and not yet confirmed. */
      pending: number;
      transport: FirmataTransport;
      reportVersionTimeoutId?: ReturnType<typeof setTimeout>;

      pinMode(pin: number, mode: number): void;
      digitalWrite(pin: number, value: number, enqueue?: boolean): void;
      digitalRead(pin: number, callback: (value: number) => void): void;
      analogWrite(pin: number, value: number): void;
      pwmWrite(pin: number, value: number): void;
      analogRead(pin: number, callback: (value: number) => void): void;
      queryPinState(pin: number, callback: () => void): void;
      reportDigitalPin(pin: number, value: 0 | 1): void;
      reportAnalogPin(pin: number, value: 0 | 1): void;
      setSamplingInterval(ms: number): void;
      reportVersion(callback: () => void): void;
      queryFirmware(callback: () => void): void;
      /** Sends SYSTEM_RESET (note: StandardFirmata keeps output latches across it). */
      reset(): void;
    }
  }

  /** Binds a default transport class; the station injects an opened transport instead. */
  function bindTransport(transport: unknown): typeof bindTransport.Firmata;
  export = bindTransport;
}
