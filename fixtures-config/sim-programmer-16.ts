/**
 * Simulated 16-socket programmer, scripted: a 4 x 4 grid of sockets on two 8-channel bridges.
 * Relative paths resolve against this file's folder, so "../var/sim/…" is <repo>/var/sim/…,
 * where the simulators create their ptys.
 *
 * Wiring (Arduino Mega running StandardFirmata, simulated):
 *   e-stop 2 · tower light 3/4/5 · buzzer 6
 *   presence 22..37 (socket lid switch to ground, internal pull-up)
 *   pass LEDs 38..53 · fail LEDs A0..A15
 */
import { defineStation, gridSlots } from 'ifpp-station/config';

const bridges = [
  { id: 'b0', port: '../var/sim/bridge0', slots: 8 },
  { id: 'b1', port: '../var/sim/bridge1', slots: 8 },
];

export default defineStation({
  format: 'ifpp-station/1',
  name: 'Simulated 16-socket programmer',
  kind: 'socket-programmer',
  store: '../var/sim/store',
  journal: '../var/sim/journal',
  reports: '../var/sim/reports',
  board: {
    port: '../var/sim/jig',
    model: 'mega2560',
    estop: { pin: 2, pullup: true },
    towerLight: { red: 3, amber: 4, green: 5 },
    buzzer: 6,
  },
  bridges,
  slots: gridSlots({
    rows: 4,
    cols: 4,
    bridges,
    pins: {
      presence: { first: 22, activeLow: true, pullup: true },
      passLed: { first: 38 },
      failLed: { first: 'A0' },
    },
  }),
  loading: { blockSize: 255, pps: true },
  simulation: { world: '../var/sim/world' },
});
