/**
 * npm run test:firmware: the bridge firmware suites alone (the core's C unit tests, the host
 * build and the ARM image under QEMU, and the simulator they are held to), then one summary
 * line per conformance target:
 *
 *   firmware conformance: <simulator|host-firmware|arm-qemu> PASS|FAIL|SKIP (<n> cases)
 *
 * Extra arguments go to vitest. Exit status: vitest's (a skipped target is not a failure; the
 * suite prints why it skipped).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FILES = ['test/sim/bridge-sim.test.ts', 'test/hardware/firmware.test.ts', 'test/hardware/firmware-qemu.test.ts'];
/** Conformance suite title (test/helpers/bridge-conformance.ts, name given by each file) per target. */
const TARGETS: [string, string][] = [
  ['simulator', 'bridge simulator on a pty'],
  ['host-firmware', 'bridge firmware core (host build) on a pty'],
  ['arm-qemu', 'bridge firmware ARM image under QEMU (netduinoplus2)'],
];

interface Assertion {
  ancestorTitles: string[];
  status: string;
}

const dir = mkdtempSync(join(tmpdir(), 'ifpp-test-firmware-'));
const report = join(dir, 'report.json');
const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', ...FILES, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
});
let assertions: Assertion[] = [];
try {
  const json = JSON.parse(readFileSync(report, 'utf8')) as { testResults: { assertionResults: Assertion[] }[] };
  assertions = json.testResults.flatMap((f) => f.assertionResults);
} catch {
  // no report: vitest itself failed; every target FAILs below
}
rmSync(dir, { recursive: true, force: true });

for (const [target, title] of TARGETS) {
  const cases = assertions.filter((a) => a.ancestorTitles[0] === title);
  const failed = cases.some((a) => a.status === 'failed');
  const ran = cases.filter((a) => a.status === 'passed').length;
  const verdict = failed || cases.length === 0 ? 'FAIL' : ran === 0 ? 'SKIP' : ran === cases.length ? 'PASS' : 'FAIL';
  console.log(`firmware conformance: ${target} ${verdict} (${cases.length} cases)`);
}
process.exit(run.status ?? 1);
