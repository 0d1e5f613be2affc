#!/usr/bin/env python3
"""Pseudo-terminal relay for the simulators.

Node cannot open a pty on its own (no openpty in the standard library, and node-pty needs a
native build), so each simulated serial device is one of these: it opens a pty, puts the
slave side in raw mode, prints the slave path on stdout's first line, then copies bytes
between the pty master and its stdin/stdout. The simulator talks to the pipes; the station
opens the slave path with serialport exactly as it would open /dev/ttyUSB0.

Closing stdin (or SIGTERM) closes the master: the station sees the device vanish (EIO/hangup),
which is how an unplugged cable looks.
"""
import os
import pty
import select
import signal
import sys
import termios
import tty


def main() -> int:
    master, slave = pty.openpty()
    tty.setraw(slave, termios.TCSANOW)
    # Keep our slave fd open so reads on the master don't fail with EIO before the station opens it.
    name = os.ttyname(slave)
    link = sys.argv[1] if len(sys.argv) > 1 else None
    if link:
        tmp = link + ".tmp"
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(name, tmp)
        os.replace(tmp, link)
    out = sys.stdout.buffer
    out.write((name + "\n").encode())
    out.flush()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    stdin = sys.stdin.buffer.fileno()
    stdout = out.fileno()
    try:
        while True:
            r, _, _ = select.select([master, stdin], [], [])
            if master in r:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b""
                if data:
                    os.write(stdout, data)
            if stdin in r:
                data = os.read(stdin, 65536)
                if not data:
                    break
                view = memoryview(data)
                while view:
                    n = os.write(master, view)
                    view = view[n:]
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        if link:
            try:
                if os.readlink(link) == name:
                    os.unlink(link)
            except OSError:
                pass
        os.close(master)
        os.close(slave)
    return 0


if __name__ == "__main__":
    sys.exit(main())
