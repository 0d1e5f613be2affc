/**
 * Writes a simulated EUM's output folder (docs/sim-tools.md):
 *
 *   OUT/euicc-data.ndjson   public eUICC data (Esed2), what a real EUM ships
 *   OUT/reel.ndjson         the chips' secrets, for the card simulator only (mode 600)
 *   OUT/pki/                cert-ci.der (CI of the EUM chain), cert-eum.der
 *   OUT/smdpf/              the simulated SM-DPf's identity: cert-dppb.der, sk-dppb.pem, cert-ci.der
 *
 * Chips stream from the generator into both NDJSON files; the files appear under their final
 * names only when complete.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePrivateKeyPem } from '../../core/crypto/keys.ts';
import { EumToolError, type EumWorld } from './eum-tool.ts';
import { BufferedFileWriter } from './file-writer.ts';

export const EUICC_DATA_FILE = 'euicc-data.ndjson';
export const REEL_FILE = 'reel.ndjson';
export const SMDPF_DIR = 'smdpf';
export const SMDPF_CERT_FILE = 'cert-dppb.der';
export const SMDPF_KEY_FILE = 'sk-dppb.pem';
export const SMDPF_CI_FILE = 'cert-ci.der';

export interface WrittenEum {
  dir: string;
  euiccData: string;
  reel: string;
  smdpfDir: string;
  pkiDir: string;
  chips: number;
  elapsedMs: number;
}

export interface WriteEumOptions {
  /** Replace an existing eUICC data / reel pair in `dir`. */
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export function writeEumWorld(world: EumWorld, dir: string, opts: WriteEumOptions = {}): WrittenEum {
  const t0 = performance.now();
  const euiccData = join(dir, EUICC_DATA_FILE);
  const reel = join(dir, REEL_FILE);
  if (!opts.force && (existsSync(euiccData) || existsSync(reel))) {
    throw new EumToolError('EUM_OUT_EXISTS', `${dir} already holds ${existsSync(euiccData) ? EUICC_DATA_FILE : REEL_FILE}`, {
      hint: 'choose another --out folder, or pass --force to replace it (chips already made from it become orphans)',
    });
  }
  const pkiDir = join(dir, 'pki');
  const smdpfDir = join(dir, SMDPF_DIR);
  mkdirSync(pkiDir, { recursive: true });
  mkdirSync(smdpfDir, { recursive: true });

  const dataW = new BufferedFileWriter(euiccData + '.partial');
  const reelW = new BufferedFileWriter(reel + '.partial', { mode: 0o600 });
  try {
    dataW.writeLine(JSON.stringify(world.euiccDataHeader));
    reelW.writeLine(JSON.stringify(world.reelHeader));
    let n = 0;
    for (const chip of world.chips()) {
      dataW.writeLine(JSON.stringify(chip.data));
      reelW.writeLine(JSON.stringify(chip.reel));
      n++;
      opts.onProgress?.(n, world.count);
    }
    dataW.close();
    reelW.close();
  } catch (e) {
    dataW.abandon();
    reelW.abandon();
    rmSync(euiccData + '.partial', { force: true });
    rmSync(reel + '.partial', { force: true });
    throw e;
  }

  writeFileSync(join(pkiDir, 'cert-ci.der'), world.eumCi.raw);
  writeFileSync(join(pkiDir, 'cert-eum.der'), world.eum.raw);
  writeFileSync(join(smdpfDir, SMDPF_CERT_FILE), world.smdpf.certDer);
  writeFileSync(join(smdpfDir, SMDPF_KEY_FILE), encodePrivateKeyPem(world.smdpf.curve, world.smdpf.secretKey), { mode: 0o600 });
  writeFileSync(join(smdpfDir, SMDPF_CI_FILE), world.smdpf.ciDer);
  renameSync(euiccData + '.partial', euiccData);
  renameSync(reel + '.partial', reel);
  return { dir, euiccData, reel, smdpfDir, pkiDir, chips: world.count, elapsedMs: performance.now() - t0 };
}
