/**
 * A serialport binding (BindingInterface) whose ports do reads and writes as direct
 * non-blocking system calls on the main thread instead of through the libuv thread pool.
 *
 * serialport 13 opens the port O_NONBLOCK, waits for readiness with a native poller, and then
 * still runs every read and write as fs.read / fs.write on the thread pool: three thread
 * hand-offs per bridge exchange (write, read, and the read that finds nothing left). On a
 * loaded 2-core station PC each hand-off costs a context switch and shows up as latency on
 * every exchange of every slot, and the pool is shared with the journal's fsyncs. A
 * non-blocking read or write of a few hundred bytes to a tty takes microseconds, so it is done
 * in place; EAGAIN still waits on the port's own poller, exactly as serialport does.
 *
 * Composition, not patching: `FastSerialBinding` wraps another binding (by default the
 * platform's); each port it opens is a `FastSerialPort` that delegates everything but read and
 * write to the inner port, and uses the inner port's `fd` and `poller` (the Unix binding of
 * @serialport/bindings-cpp 13.0.x, pinned in package.json) without changing them. A port
 * without them (Windows, a mock binding) is returned as the inner binding made it.
 *
 * Waiting on the poller for both directions at once: bindings-cpp 13.0.0's native
 * `Poller::poll(events)` remembers the union of what was asked but restarts libuv's watch
 * with the new event alone, so a wait for 'writable' stops the watch for 'readable' (and the
 * other way round) until the watched event fires. A long request waiting for room in the tty
 * then hid every answer, and a read re-arming 'readable' left the write waiting for ever
 * (the device, having taken the bytes, sends nothing until the line is whole). So every wait
 * here asks the poller for everything this port is waiting for (`poll(READABLE|WRITABLE)`).
 * The stock binding's own read and write have the same flaw; they are not used here.
 *
 * Errors keep serialport's shape (EBADF, ENXIO, ... marked `disconnect`; a closed port's
 * read/write `canceled`), so the stream and the bridge driver see a vanished device as before.
 */
import { readSync, writeSync } from 'node:fs';
import type { BindingInterface, BindingPortInterface, OpenOptions, PortInfo, PortStatus, SetOptions, UpdateOptions } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { SerialPort } from 'serialport';

/** What the Unix port of @serialport/bindings-cpp exposes beyond the interface (read only here). */
interface UnixPortFields {
  readonly fd: number | null;
  readonly poller: {
    once(event: 'readable' | 'writable', cb: (err: Error | null) => void): unknown;
    /** Starts libuv's watch for exactly these events (bit flags of bindings-cpp's EVENTS). */
    poll(events: number): unknown;
  };
}

/** bindings-cpp's EVENTS.UV_READABLE / UV_WRITABLE (libuv's UV_READABLE / UV_WRITABLE). */
const READABLE = 1;
const WRITABLE = 2;

type UnixPort = BindingPortInterface & UnixPortFields;

/** A hung-up tty reads as end-of-file forever (serialport/bindings-cpp#162): look again this much later. */
export const EOF_RETRY_MS = 50;

export function hasUnixFd(p: BindingPortInterface): p is UnixPort {
  const x = p as Partial<UnixPortFields>;
  return typeof x.fd === 'number' && typeof x.poller?.once === 'function' && typeof x.poller.poll === 'function';
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

/** One open port: read and write in place, the rest by the inner port. */
export class FastSerialPort implements BindingPortInterface {
  /** Events this port waits for on the poller now (READABLE, WRITABLE). */
  private waiting = 0;
  /** The last read took less than asked: the tty was empty then, so wait before reading again. */
  private drained = false;

  constructor(private readonly inner: UnixPort) {}

  get openOptions(): Required<OpenOptions> {
    return this.inner.openOptions;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  private fd(): number {
    const fd = this.inner.fd;
    if (!this.inner.isOpen || fd === null) throw notOpen();
    return fd;
  }

  private wait(event: 'readable' | 'writable'): Promise<void> {
    const bit = event === 'readable' ? READABLE : WRITABLE;
    return new Promise((resolve, reject) => {
      this.waiting |= bit;
      const poller = this.inner.poller;
      poller.once(event, (err) => {
        this.waiting &= ~bit;
        if (err) reject(err);
        else resolve();
      });
      // once() restarted the watch with `bit` alone: watch the other direction too if it waits.
      if (this.waiting !== bit) poller.poll(this.waiting);
    });
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (buffer.length < offset + length) throw new Error('buffer is too small');
    // A short read emptied the tty: the next read would only find EAGAIN (a system call and a
    // thrown error per exchange), so it waits for the poller first (level-triggered: bytes that
    // came meanwhile wake it at once).
    if (this.drained) {
      this.drained = false;
      this.fd();
      await this.wait('readable');
    }
    for (;;) {
      const fd = this.fd();
      let n: number;
      try {
        n = readSync(fd, buffer, offset, length, null);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (!retryable(err)) throw markDisconnect(err);
        await this.wait('readable');
        continue;
      }
      if (n > 0) {
        this.drained = n < length;
        return { bytesRead: n, buffer };
      }
      await new Promise((r) => setTimeout(r, EOF_RETRY_MS));
    }
  }

  /** Non-blocking writes in place until all is in the tty; when it is full, waits for room. */
  async write(buffer: Buffer): Promise<void> {
    let off = 0;
    while (off < buffer.length) {
      const fd = this.fd();
      try {
        off += writeSync(fd, buffer, off, buffer.length - off);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (!retryable(err)) throw markDisconnect(err);
        await this.wait('writable');
      }
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
  update(options: UpdateOptions): Promise<void> {
    return this.inner.update(options);
  }
  set(options: SetOptions): Promise<void> {
    return this.inner.set(options);
  }
  get(): Promise<PortStatus> {
    return this.inner.get();
  }
  getBaudRate(): Promise<{ baudRate: number }> {
    return this.inner.getBaudRate();
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  /** Our writes resolve only once the bytes are in the kernel, so the inner drain has nothing of ours to wait for. */
  drain(): Promise<void> {
    return this.inner.drain();
  }
}

/** The platform's binding (or `inner`), with fast ports where the port has a Unix fd and poller. */
export class FastSerialBinding implements BindingInterface<BindingPortInterface, OpenOptions, PortInfo> {
  constructor(private readonly inner: BindingInterface<BindingPortInterface, OpenOptions, PortInfo> = SerialPort.binding as unknown as BindingInterface<BindingPortInterface, OpenOptions, PortInfo>) {}

  list(): Promise<PortInfo[]> {
    return this.inner.list();
  }

  async open(options: OpenOptions): Promise<BindingPortInterface> {
    const port = await this.inner.open(options);
    return hasUnixFd(port) ? new FastSerialPort(port) : port;
  }
}

/** The binding the bridge driver uses unless told otherwise. */
export const fastSerialBinding = new FastSerialBinding();

/** The stock platform binding (thread-pool reads and writes), for comparison and as an option. */
export const stockSerialBinding = SerialPort.binding as unknown as BindingInterface<BindingPortInterface, OpenOptions, PortInfo>;
