/**
 * A virtual Firmata board behind a pseudo-terminal: the station opens `path` (or `link`) with
 * serialport exactly as it would open the jig's USB serial device.
 */
import { PtyDevice } from '../pty/pty-device.ts';
import { VirtualFirmataBoard, type VirtualBoardOptions } from './firmata-board.ts';

export interface PtyBoard {
  readonly board: VirtualFirmataBoard;
  /** Slave device path for serialport. */
  readonly path: string;
  /** Stable symlink to `path`, when one was asked for. */
  readonly link: string | undefined;
  /** Unplugs the board: the pty goes away (the station sees a disconnect) and timers stop. */
  close(): Promise<void>;
}

export async function startPtyBoard(options: VirtualBoardOptions & { link?: string } = {}): Promise<PtyBoard> {
  const board = new VirtualFirmataBoard(options);
  let pty: PtyDevice;
  try {
    pty = await PtyDevice.open(options.link);
  } catch (e) {
    board.close();
    throw e;
  }
  pty.on('data', (d) => board.receive(d));
  board.on('send', (bytes) => pty.write(bytes));
  pty.on('close', () => board.close());
  return {
    board,
    path: pty.path,
    link: pty.link,
    async close() {
      board.close();
      await pty.close();
    },
  };
}
