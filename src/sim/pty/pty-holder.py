#!/usr/bin/env python3
"""Pseudo-terminal set-up for the simulators (see pty-device.ts).

Node can open /dev/ptmx but has no grantpt/unlockpt/ptsname (no ioctl), so the simulator opens
the master itself and hands it to this helper as fd 3. The helper unlocks the pty, puts the
slave side in raw mode, points the optional symlink at it, prints the slave path on stdout's
first line and then only holds the slave open: bytes never pass through here, the simulator
reads and writes the master directly.

Holding the slave keeps reads on the master from failing with EIO before the station opens
the port. Closing stdin (the simulator closed the device, or died) or SIGTERM removes the
symlink and exits.
"""
import ctypes
import os
import signal
import sys
import termios
import tty

MASTER_FD = 3


def main() -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptsname.restype = ctypes.c_char_p
    if libc.grantpt(MASTER_FD) != 0 or libc.unlockpt(MASTER_FD) != 0:
        err = ctypes.get_errno()
        sys.stderr.write("unlockpt failed: " + os.strerror(err) + "\n")
        return 1
    name = libc.ptsname(MASTER_FD).decode()
    os.close(MASTER_FD)  # the simulator's copy is the only master: closing it must hang up
    slave = os.open(name, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(slave, termios.TCSANOW)
    link = sys.argv[1] if len(sys.argv) > 1 else None
    if link:
        tmp = link + ".tmp"
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(name, tmp)
        os.replace(tmp, link)
    sys.stdout.write(name + "\n")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while os.read(sys.stdin.fileno(), 4096):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if link:
            try:
                if os.readlink(link) == name:
                    os.unlink(link)
            except OSError:
                pass
        os.close(slave)
    return 0


if __name__ == "__main__":
    sys.exit(main())
