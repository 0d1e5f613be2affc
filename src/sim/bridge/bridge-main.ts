/**
 * Entry point of the bridge simulator process:
 *   node --import tsx src/sim/bridge/bridge-main.ts --slots 4 --link /tmp/ifpp-bridge0
 * Prints one JSON ready line ({"event":"ready","path":...}) on stdout, then serves control
 * commands from stdin (see bridge-process.ts) until stdin closes, `quit`, SIGTERM or SIGINT.
 */
import { createInterface } from 'node:readline';
import { isIfppError } from '../../core/errors.ts';
import { parseBridgeArgs, startBridgeProcess } from './bridge-process.ts';

async function main(): Promise<number> {
  let running;
  try {
    running = await startBridgeProcess(parseBridgeArgs(process.argv.slice(2)));
  } catch (e) {
    if (isIfppError(e)) {
      process.stderr.write(`bridge: ${e.describe()}\n`);
      return 2;
    }
    throw e;
  }
  const { ready, control, close } = running;
  process.stdout.write(JSON.stringify(ready) + '\n');
  let closed = false;
  const shutdown = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  process.once('SIGTERM', () => void shutdown().then(() => process.exit(0)));
  process.once('SIGINT', () => void shutdown().then(() => process.exit(0)));
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    if (line.trim() === 'quit') break;
    process.stdout.write(JSON.stringify(await control(line)) + '\n');
  }
  await shutdown();
  return 0;
}

process.exitCode = await main();
