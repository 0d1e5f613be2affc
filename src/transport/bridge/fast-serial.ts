/**
 * serialport's Unix binding, with reads and writes done as direct non-blocking system calls on
 * the main thread instead of through the libuv thread pool.
 *
 * serialport 13 opens the port O_NONBLOCK, waits for readiness with a native poller, and then
 * still runs every read and write as fs.read / fs.write on the thread pool: three thread
 * hand-offs per bridge exchange (write, read, and the read that finds nothing left). On a
 * loaded 2-core station PC each hand-off costs a context switch and shows up as latency on
 * every exchange of every slot, and the pool is shared with the journal's fsyncs. A
 * non-blocking read or write of a few hundred bytes to a tty takes microseconds, so it is done
 * in place; EAGAIN still waits on serialport's poller, exactly as serialport does.
 *
 * Errors keep serialport's shape (EBADF, ENXIO, ... marked `disconnect`), so the stream and
 * the bridge driver see a vanished device as before. Where the binding is not the Unix one
 * (no fd or poller: Windows), it is used unchanged.
 */
import { readSync, writeSync } from 'node:fs';
import { SerialPort } from 'serialport';

type Binding = typeof SerialPort.binding;
/** The platform binding as a plain opener (its option types differ per platform). */
const platform = SerialPort.binding as unknown as { open(options: unknown): Promise<unknown>; list(): Promise<unknown> };

interface UnixPort {
  fd: number | null;
  readonly isOpen: boolean;
  poller: { once(event: 'readable' | 'writable', cb: (err: Error | null) => void): unknown };
  writeOperation: Promise<void> | null;
  read(buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number; buffer: Buffer }>;
  write(buffer: Buffer): Promise<void>;
}

/** A hung-up tty reads as end-of-file forever (serialport/bindings-cpp#162): look again this much later. */
const EOF_RETRY_MS = 50;

function isUnixPort(p: unknown): p is UnixPort {
  const x = p as Partial<UnixPort>;
  return typeof x?.fd === 'number' && typeof x.poller?.once === 'function' && typeof x.read === 'function' && typeof x.write === 'function';
}

function retryable(e: NodeJS.ErrnoException): boolean {
  return e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK' || e.code === 'EINTR';
}

/** serialport's classification: these mean the device is gone. */
function markDisconnect(e: NodeJS.ErrnoException): NodeJS.ErrnoException {
  if (e.code === 'EBADF' || e.code === 'ENXIO' || e.code === 'UNKNOWN' || e.errno === -1) (e as { disconnect?: boolean }).disconnect = true;
  return e;
}

function notOpen(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true });
}

function wait(port: UnixPort, event: 'readable' | 'writable'): Promise<void> {
  return new Promise((resolve, reject) => port.poller.once(event, (err) => (err ? reject(err) : resolve())));
}

function speedUp(port: UnixPort): void {
  port.read = async (buffer, offset, length) => {
    for (;;) {
      if (!port.isOpen || port.fd === null) throw notOpen();
      let n: number;
      try {
        n = readSync(port.fd, buffer, offset, length, null);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (!retryable(err)) throw markDisconnect(err);
        await wait(port, 'readable');
        continue;
      }
      if (n > 0) return { bytesRead: n, buffer };
      await new Promise((r) => setTimeout(r, EOF_RETRY_MS));
    }
  };
  port.write = (buffer) => {
    const op = (async () => {
      let off = 0;
      while (off < buffer.length) {
        if (!port.isOpen || port.fd === null) throw new Error('Port is not open');
        try {
          off += writeSync(port.fd, buffer, off, buffer.length - off);
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          if (!retryable(err)) throw markDisconnect(err);
          await wait(port, 'writable');
        }
      }
      port.writeOperation = null;
    })();
    port.writeOperation = op;
    return op;
  };
}

/** The platform binding, with the fast read/write path on Unix ports. */
export const fastSerialBinding = {
  list: () => platform.list(),
  async open(options: unknown): Promise<unknown> {
    const port = await platform.open(options);
    if (isUnixPort(port)) speedUp(port);
    return port;
  },
} as unknown as Binding;
