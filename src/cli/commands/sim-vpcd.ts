/**
 * `ifpp sim vpcd`: one simulated eUICC of a world served to pcscd through the vsmartcard
 * virtual reader (src/sim/vpcd/vpcd-card.ts). Chip state comes from and goes to the world's
 * chip files, so what a bench command changes is what the station later sees.
 */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { parseEid } from '../../core/rsp/eid.ts';
import { isIfppError } from '../../core/errors.ts';
import { euiccCardFromReel } from '../../sim/euicc/card-factory.ts';
import type { EuiccFaults } from '../../sim/euicc/faults.ts';
import { VPCD_DEFAULT_PORT, VpcdCard, type VpcdEvent } from '../../sim/vpcd/vpcd-card.ts';
import { readWorld } from '../../sim/world/world-files.ts';
import { CliUsageError, parseOptions } from '../command.ts';

export const help = `Usage: ifpp sim vpcd --world DIR --eid EID [--port N] [--host H] [--faults JSON] [--quiet]

Puts one simulated eUICC of a world (made by \`ifpp sim world\`) into a vsmartcard virtual reader
(Debian package vsmartcard-vpcd): the card connects to the TCP port the reader listens on, and
pcscd sees a card inserted. Its state (keys, profiles, notifications) is read from and written
to DIR's chip files.

  --world DIR     the world folder
  --eid EID       which chip of the world's reel
  --port N        the reader's port (default ${VPCD_DEFAULT_PORT} = "Virtual PCD 00 00" of the Debian
                  reader.conf; ${VPCD_DEFAULT_PORT + 1} is "… 00 01")
  --host H        where pcscd runs (default 127.0.0.1)
  --faults JSON   chip faults, e.g. '{"removeAtLoadCall":5}' (pulled at the 5th BPP load call)
  --quiet         no line per APDU

Prints one JSON line per event ({"event":"connected"}, {"event":"apdu",…}). Control lines on
stdin: "remove" (pull the card), "insert" (put it back), "quit" (also end of input, Ctrl+C,
SIGTERM).`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    world: { type: 'string' },
    eid: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    faults: { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (!values.world) throw new CliUsageError('--world is required');
  if (!values.eid) throw new CliUsageError('--eid is required');
  let eid: string;
  try {
    eid = parseEid(values.eid);
  } catch (e) {
    throw new CliUsageError(`--eid: ${isIfppError(e) ? e.message : String(e)}`);
  }
  const port = values.port === undefined ? VPCD_DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CliUsageError(`--port must be a TCP port 1..65535, got "${values.port}"`);
  let faults: Partial<EuiccFaults> | undefined;
  if (values.faults !== undefined) {
    try {
      faults = JSON.parse(values.faults) as Partial<EuiccFaults>;
    } catch {
      throw new CliUsageError(`--faults is not JSON: ${values.faults}`);
    }
  }
  const { dir, world } = readWorld(values.world);
  const card = await euiccCardFromReel({ reel: join(dir, world.files.reel), stateDir: join(dir, world.files.chipState), eid, ...(faults ? { faults } : {}) });
  const vpcd = new VpcdCard(card, { port, ...(values.host ? { host: values.host } : {}) });
  const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  vpcd.on('event', (e: VpcdEvent) => {
    if (e.kind === 'apdu' && values.quiet) return;
    const { kind, ...rest } = e;
    say({ event: kind, ...rest });
  });
  card.onRemoval = () => say({ event: 'removed', why: 'fault' });
  vpcd.insert();
  say({ event: 'ready', eid, port, host: vpcd.host });

  return new Promise<number>((resolve) => {
    const rl = createInterface({ input: process.stdin });
    const stop = () => {
      rl.close();
      vpcd.close();
      resolve(0);
    };
    rl.on('line', (line) => {
      const cmd = line.trim();
      if (cmd === 'remove') {
        vpcd.remove();
        say({ event: 'removed', why: 'command' });
      } else if (cmd === 'insert') {
        vpcd.insert();
        say({ event: 'inserted' });
      } else if (cmd === 'quit') stop();
      else if (cmd) say({ event: 'error', message: `unknown command "${cmd}" (remove, insert, quit)` });
    });
    rl.on('close', stop);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
