/**
 * A virtual Firmata board behind a pseudo-terminal: the station opens `path` (or `link`) with
 * serialport exactly as it would open the jig's USB serial device.
 */
import { PtyRelay } from '../pty/pty-relay.ts';
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
  let relay: PtyRelay;
  try {
    relay = await PtyRelay.open(options.link);
  } catch (e) {
    board.close();
    throw e;
  }
  relay.on('data', (d) => board.receive(d));
  board.on('send', (bytes) => relay.write(bytes));
  relay.on('close', () => board.close());
  return {
    board,
    path: relay.path,
    link: relay.link,
    async close() {
      board.close();
      await relay.close();
    },
  };
}
