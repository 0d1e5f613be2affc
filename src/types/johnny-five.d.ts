/**
 * Minimal types for johnny-five 2.1 as the station uses it: a Board on an injected Firmata IO and
 * the simple digital components. Always pass `board` to components (see connect-board.ts).
 */
declare module 'johnny-five' {
  import type { EventEmitter } from 'node:events';
  import type firmataIo from 'firmata-io';

  namespace five {
    type IO = firmataIo.Firmata;

    interface BoardOptions {
      io: IO;
      id?: string;
      /** Defaults to true in johnny-five: always pass false. */
      repl: false;
      /** Defaults to true in johnny-five (console logging): pass false. */
      debug: false;
      /** Defaults to true in johnny-five (its SIGINT handler exits the process): pass false. */
      sigint: false;
      /** ms from port open to 'ready' before johnny-five emits an error (default 10000). */
      timeout?: number;
    }

    class Board extends EventEmitter {
      constructor(options: BoardOptions);
      readonly id: string;
      readonly io: IO;
      readonly isReady: boolean;
      readonly isConnected: boolean;
      /** 'MEGA' for a 70-pin board, 'UNO' for 20, 'LEONARDO' for 25, else 'OTHER'. */
      readonly type?: string;
      /** johnny-five's connect timeout; cleared on 'ready' only. */
      timer: ReturnType<typeof setTimeout> | null;
      /** Every Board ever constructed (never pruned by johnny-five itself). */
      static readonly cache: Board[];
      static readonly Pins: { readonly normalize: { clear(): void } };
    }

    interface ComponentOptions {
      pin: number | string;
      /** Without it a component attaches to the first Board ever created. */
      board: Board;
      id?: string;
    }

    interface LedOptions extends ComponentOptions {
      isAnode?: boolean;
    }

    class Led {
      constructor(options: LedOptions);
      readonly pin: number;
      readonly isOn: boolean;
      readonly isRunning: boolean;
      readonly value: number;
      on(): this;
      off(): this;
      toggle(): this;
      /** Starts an interval: call stop() before disposing. */
      blink(ms?: number): this;
      stop(): this;
    }

    interface PinOptions extends ComponentOptions {
      /** Pin.OUTPUT (default for digital pins) etc. INPUT starts an interval nothing clears. */
      mode?: number;
      type?: 'digital' | 'analog';
    }

    class Pin extends EventEmitter {
      constructor(options: PinOptions);
      static readonly INPUT: 0;
      static readonly OUTPUT: 1;
      static readonly ANALOG: 2;
      static readonly PWM: 3;
      static readonly SERVO: 4;
      readonly addr: number;
      readonly value: number;
      mode: number;
      high(): this;
      low(): this;
      write(value: number): this;
      query(callback: (state: firmataIo.FirmataPin) => void): this;
    }

    interface ButtonOptions extends ComponentOptions {
      /** Enables the pull-up (INPUT + write HIGH) and inverts: pressed = pin low. */
      isPullup?: boolean;
      pullup?: boolean;
      invert?: boolean;
      /** ms between 'hold' events while down (an interval runs while the button is down). */
      holdtime?: number;
    }

    /** Events: 'down'/'press', 'up'/'release', 'hold' (debounced by 7 ms). */
    class Button extends EventEmitter {
      constructor(options: ButtonOptions);
      readonly pin: number;
      readonly isDown: boolean;
      readonly value: number;
      holdtime: number;
      invert: boolean;
    }

    interface SwitchOptions extends ComponentOptions {
      /** 'NO' (default: pull-up on, closed = pin low) or 'NC' (no pull-up, closed = pin high). */
      type?: 'NO' | 'NC';
      invert?: boolean;
    }

    /** Events: 'open', 'close' (debounced by 5 ms). */
    class Switch extends EventEmitter {
      constructor(options: SwitchOptions);
      readonly pin: number;
      readonly isOpen: boolean;
      readonly isClosed: boolean;
      readonly value: number;
    }

    interface RelayOptions extends ComponentOptions {
      /** 'NC' inverts: close() writes LOW. */
      type?: 'NO' | 'NC';
    }

    /** Does not set the pin mode on digital pins (relies on Firmata's OUTPUT default). */
    class Relay {
      constructor(options: RelayOptions);
      readonly pin: number;
      readonly isClosed: boolean;
      readonly value: number;
      readonly type: 'NO' | 'NC';
      open(): this;
      close(): this;
      toggle(): this;
    }
  }

  export = five;
}
