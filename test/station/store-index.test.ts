import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { IndexReader, IndexWriter, compareKey, type NewIndexEntry } from '../../src/station/store/index-file.ts';
import { toHex } from '../../src/core/bytes.ts';

function entry(eid: Uint8Array, i: number): NewIndexEntry {
  const otpk = new Uint8Array(65);
  otpk[0] = 4;
  otpk.set(randomBytes(64), 1);
  return { eid, otpk, fileNo: i % 3, offset: i * 13000 + 2 ** 33, length: 13000 + i, sha256: randomBytes(32), transactionId: randomBytes(16), iccid: randomBytes(10) };
}

describe('store index file', () => {
  it('finds every entry of an EID by binary search and nothing for absent EIDs', () => {
    const entries: NewIndexEntry[] = [];
    for (let i = 0; i < 3000; i++) {
      const eid = new Uint8Array(randomBytes(16));
      const n = 1 + (i % 3); // 1..3 BPPs per chip (spare keys)
      for (let k = 0; k < n; k++) entries.push(entry(eid, entries.length));
    }
    const key = (e: NewIndexEntry) => new Uint8Array([...e.eid, ...e.otpk]);
    entries.sort((a, b) => compareKey(key(a), key(b)));
    const path = join(mkdtempSync(join(tmpdir(), 'ifpp-idx-')), 'index.bin');
    const w = new IndexWriter(path);
    for (const e of entries) w.add(e);
    w.close();
    const r = new IndexReader(path);
    expect(r.count).toBe(entries.length);
    for (let i = 0; i < entries.length; i += 7) {
      const want = entries[i]!;
      const got = r.findByEid(want.eid);
      const same = entries.filter((e) => toHex(e.eid) === toHex(want.eid));
      expect(got.map((g) => toHex(g.otpk))).toEqual(same.map((s) => toHex(s.otpk)));
      const hit = got.find((g) => toHex(g.otpk) === toHex(want.otpk))!;
      expect(hit.offset).toBe(want.offset);
      expect(hit.length).toBe(want.length);
      expect(toHex(hit.transactionId)).toBe(toHex(want.transactionId));
    }
    expect(r.findByEid(new Uint8Array(16).fill(0xfe))).toEqual([]);
    r.close();
  });

  it('refuses records that are not sorted', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ifpp-idx-')), 'index.bin');
    const w = new IndexWriter(path);
    w.add(entry(new Uint8Array(16).fill(2), 0));
    expect(() => w.add(entry(new Uint8Array(16).fill(1), 1))).toThrow(/not sorted/);
    w.close();
  });
});
