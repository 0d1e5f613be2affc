/**
 * Whether a serial device path is there before anyone opens it, so a missing device gets its
 * own message (a dangling /dev/serial/by-id link says which target vanished) rather than an
 * open() errno.
 */
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';

export type DevicePath =
  /** `device`: where a symlink leads (undefined for a plain device node). */
  | { present: true; device?: string }
  | { present: false; why: string };

export function checkDevicePath(path: string): DevicePath {
  try {
    statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return { present: true }; // let open() say what is wrong
    try {
      if (lstatSync(path).isSymbolicLink()) return { present: false, why: `the link points to ${readlinkSync(path)}, which does not exist` };
    } catch {
      // not even a link
    }
    return { present: false, why: 'no such device' };
  }
  try {
    if (lstatSync(path).isSymbolicLink()) return { present: true, device: realpathSync(path) };
  } catch {
    // raced with an unplug; open() will tell
  }
  return { present: true };
}
