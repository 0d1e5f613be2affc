import { requireConfig } from '../../station/config/load.ts';
import { BPP_STATE_NAMES, BppStore, type BppState } from '../../station/store/bpp-store.ts';
import { parseEid } from '../../core/rsp/eid.ts';
import { eidToBytes } from '../../core/rsp/eid.ts';
import { toHex } from '../../core/bytes.ts';
import { CliUsageError, parseOptions } from '../command.ts';

export const help = `Usage: ifpp bpp list --config F [--eid EID] [--json]

Lists the batches in the station's BPP store with their counts per state, or every BPP bound
to one chip with --eid.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, { config: { type: 'string' }, eid: { type: 'string' }, json: { type: 'boolean' } });
  if (!values.config) throw new CliUsageError('--config is required');
  const config = await requireConfig(values.config);
  const store = BppStore.open(config.store);
  try {
    if (values.eid) {
      const eid = parseEid(values.eid);
      const rows = store.findByEid(eidToBytes(eid)).map((b) => ({
        batchId: b.batchId,
        position: b.position,
        transactionId: toHex(b.transactionId),
        otpk: toHex(b.otpk),
        state: BPP_STATE_NAMES[b.state],
        bytes: b.length,
      }));
      if (values.json) process.stdout.write(JSON.stringify({ eid, bpps: rows }, null, 2) + '\n');
      else if (!rows.length) process.stdout.write(`no BPP in ${config.store} is bound to ${eid}\n`);
      else for (const r of rows) process.stdout.write(`${r.batchId}#${r.position}  ${r.state.padEnd(28)} tx ${r.transactionId}  key ${r.otpk.slice(0, 18)}…  ${r.bytes} bytes\n`);
      return 0;
    }
    const counts = store.counts();
    const out = [...counts].map(([batchId, c]) => ({
      batchId,
      smdpf: store.manifest(batchId).smdpf.name,
      counts: Object.fromEntries(Object.entries(c).map(([k, v]) => [BPP_STATE_NAMES[Number(k) as BppState], v])),
    }));
    if (values.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    else if (!out.length) process.stdout.write(`the store ${config.store} holds no batch (import one with: ifpp bpp import --config … <batch>)\n`);
    else
      for (const b of out) {
        process.stdout.write(`${b.batchId} (${b.smdpf})\n`);
        for (const [k, v] of Object.entries(b.counts)) if (v) process.stdout.write(`  ${k.padEnd(30)} ${v}\n`);
      }
    return 0;
  } finally {
    store.close();
  }
}
