/**
 * What to tell an operator when a serial device (a bridge, the jig board) cannot be opened,
 * from the error serialport gave: missing device, no permission, held by another program.
 */
export function serialOpenHint(err: Error, device: 'bridge' | 'jig board'): string {
  const m = err.message;
  if (/no such file|ENOENT/i.test(m)) return `is the ${device} plugged in? check the configured port (ls -l /dev/serial/by-id/)`;
  if (/permission|EACCES/i.test(m)) return 'the station user may not open serial devices: add it to the dialout group';
  if (/lock|busy|temporarily unavailable/i.test(m)) return 'another program holds the port (a serial monitor, or another station instance): close it';
  return `check the ${device} connection and the configured port`;
}
