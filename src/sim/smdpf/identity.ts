/**
 * The SM-DPf's signing identity: CERT.DPpb and SK.DPpb. By default taken from the smdpf/
 * folder the EUM tool writes beside the eUICC data.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bytesEqual } from '../../core/bytes.ts';
import { isIfppError } from '../../core/errors.ts';
import { parsePrivateKeyPem, type EcPrivateKey } from '../../core/crypto/keys.ts';
import { loadCertificates, nameValue, type Certificate } from '../../core/x509/certificate.ts';
import { SMDPF_CERT_FILE, SMDPF_DIR, SMDPF_KEY_FILE } from '../eum/write-eum.ts';
import { SmdpfError } from './errors.ts';

export interface SmdpfIdentity {
  cert: Certificate;
  key: EcPrivateKey;
  /** For the batch manifest: CN of CERT.DPpb and its registeredID (the SM-DP+ OID). */
  name: string;
  oid: string | undefined;
}

export function defaultIdentityPaths(euiccDataPath: string): { cert: string; key: string } {
  const d = join(dirname(euiccDataPath), SMDPF_DIR);
  return { cert: join(d, SMDPF_CERT_FILE), key: join(d, SMDPF_KEY_FILE) };
}

function read(path: string, what: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new SmdpfError('SMDPF_IDENTITY_UNREADABLE', `cannot read ${what} "${path}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      hint: `give it with ${option}, or keep the smdpf/ folder that \`ifpp sim eum\` writes beside the eUICC data`,
    });
  }
}

export function loadSmdpfIdentity(paths: { cert: string; key: string }): SmdpfIdentity {
  const certRaw = read(paths.cert, 'CERT.DPpb', '--dp-cert');
  const keyRaw = read(paths.key, 'SK.DPpb', '--dp-key');
  let cert: Certificate;
  let key: EcPrivateKey;
  try {
    const text = certRaw.toString('latin1');
    const certs = loadCertificates(text.includes('-----BEGIN') ? text : new Uint8Array(certRaw));
    if (certs.length !== 1) throw new SmdpfError('SMDPF_BAD_IDENTITY', `${paths.cert} holds ${certs.length} certificates; give CERT.DPpb alone`);
    cert = certs[0]!;
  } catch (e) {
    if (!isIfppError(e) || e instanceof SmdpfError) throw e;
    throw new SmdpfError('SMDPF_BAD_IDENTITY', `CERT.DPpb "${paths.cert}": ${e.message}`, { hint: 'give a DER or PEM X.509 certificate', cause: e });
  }
  try {
    key = parsePrivateKeyPem(keyRaw.toString('utf8'));
  } catch (e) {
    if (!isIfppError(e)) throw e;
    throw new SmdpfError('SMDPF_BAD_IDENTITY', `SK.DPpb "${paths.key}": ${e.message}`, { hint: 'give a PEM EC private key (SEC1 or PKCS#8)', cause: e });
  }
  if (key.curve !== cert.publicKey.curve || !bytesEqual(key.publicKey, cert.publicKey.point)) {
    throw new SmdpfError('SMDPF_KEY_MISMATCH', `SK.DPpb "${paths.key}" is not the key of CERT.DPpb "${paths.cert}" (${cert.subject.text})`, {
      hint: 'give the private key that belongs to the certificate',
    });
  }
  return { cert, key, name: nameValue(cert.subject, 'CN') ?? cert.subject.text, oid: cert.extensions.registeredIds[0] };
}
