import { describe, expect, it } from 'vitest';
import { bindProfile } from '../../src/binding/bind.ts';
import { unbindProfile } from '../../src/binding/unbind.ts';
import { generateKeyPair } from '../../src/core/crypto/ecdh.ts';
import { bppLoadPlan, parseBpp } from '../../src/core/rsp/bpp.ts';
import { makeEid } from '../../src/core/rsp/eid.ts';
import { tlv } from '../../src/core/tlv/ber-tlv.ts';
import { syntheticUpp } from '../../src/sim/profiles/upp.ts';

describe('BppReceiver with several 87 segments in A0 and A2', () => {
  it('accepts A0 split over its header call and further 87 calls', () => {
    const dp = generateKeyPair('nist');
    const ot = generateKeyPair('nist');
    const eid = makeEid('890490320000000000000000000077');
    // A ConfigureISDP over 1007 bytes: the binder must split it into two 87 segments.
    const big = tlv(0x85, new Uint8Array(1500).fill(0x5a));
    const { bpp } = bindProfile({
      upp: syntheticUpp('8949449999999990015', 2000),
      eid,
      euiccOtpk: ot.publicKey,
      dpPb: { curve: 'nist', secretKey: dp.secretKey },
      metadata: { iccid: '8949449999999990015', serviceProviderName: 'x', profileName: 'y' },
      configureIsdp: { dpProprietaryData: { dpOid: '2.999.10', extra: [big] } },
      replaceSessionKeys: true,
    });
    const p = parseBpp(bpp);
    expect(p.firstSequenceOf87.items.length).toBe(2);
    expect(bppLoadPlan(p).map((c) => c.kind)).toContain('a0-87');
    const r = unbindProfile(bpp, { eid, otSecretKey: ot.secretKey, otCurve: 'nist', dpPbPublicKey: dp.publicKey, dpPbCurve: 'nist' });
    expect(r.segments.seq87).toBe(2);
    expect(r.replaceSessionKeys).toBe(true);
    expect(r.configureIsdp.dpProprietaryData?.extra?.[0]?.length).toBe(big.length);
  });
});
