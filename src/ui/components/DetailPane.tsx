/**
 * Everything about the selected slot: identity and wiring, the card (EID, ICCID, BPP), load
 * progress, what stopped an interrupted unit, why a chip was skipped, the last error, an APDU
 * summary with the latest exchanges, and recent events. It takes the grid's place, so it gets the same height.
 */
import { Box } from 'ink';
import type { SlotView, ViewModel } from '../state/view-model.ts';
import { slotElapsedMs } from '../state/view-model.ts';
import { STATE_LOOK, describeEvent, formatShare, fitHead, formatBytes, formatElapsed, formatMicros, formatRelative, progressText } from '../format.ts';
import { Line, useColors } from './theme.tsx';
import type { Segment } from './theme.tsx';

export interface DetailPaneProps {
  model: ViewModel;
  slot: SlotView;
  now: number;
  width: number;
  height: number;
}

export function DetailPane({ model, slot, now, width, height }: DetailPaneProps) {
  const colors = useColors();
  const look = STATE_LOOK[slot.state];
  const inner = Math.max(1, width - 4);
  const lines = detailLines(model, slot, now, inner, Math.max(1, height - 2));
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor={colors ? look.color : undefined} paddingX={1}>
      {lines.map((segs, i) => (
        <Line key={i} segments={segs} />
      ))}
    </Box>
  );
}

/** The pane's content lines, at most `maxLines` of at most `w` columns. Exported for tests. */
export function detailLines(m: ViewModel, s: SlotView, now: number, w: number, maxLines: number): Segment[][] {
  const look = STATE_LOOK[s.state];
  const el = slotElapsedMs(s, now);
  const head: Segment[][] = [
    [
      { text: `Slot ${s.id}`, bold: true },
      { text: s.reader !== undefined ? `  reader ${s.bridge} (${s.reader})  ` : `  bridge ${s.bridge} ch ${s.channel}  `, dim: true },
      { text: `${look.symbol} ${look.word}`, bold: true, color: look.color },
      { text: el === null ? '' : `  ${formatElapsed(el)}`, dim: true },
    ],
    [{ text: 'EID   ', dim: true }, { text: s.eid ?? '—' }, { text: s.unusedKeys === null ? '' : `  (${s.unusedKeys} one-time keys free)`, dim: true }],
    [{ text: 'ICCID ', dim: true }, { text: s.iccid ?? '—' }],
    [{ text: 'BPP   ', dim: true }, { text: s.transactionId ? fitHead(`${s.transactionId} · batch ${s.batchId ?? '?'} · attempt ${s.attempt}`, w - 6) : '—' }],
  ];
  const p = s.progress;
  if (p) {
    const text = `${formatBytes(p.bytesSent)} / ${formatBytes(p.bytesTotal)}, segment ${p.segmentsSent}/${p.segmentsTotal}`;
    const bar = progressText(p.bytesSent, p.bytesTotal, Math.max(8, Math.min(30, w - 8 - text.length - 2)));
    head.push([{ text: 'Load  ', dim: true }, { text: bar, color: 'cyan' }, { text: `  ${text}` }]);
  }
  if (s.state === 'interrupted' && s.interruptedBy) {
    // The cause; the last error below keeps what it did to the load and the BPP.
    head.push([{ text: 'Stopped by ', dim: true }, { text: fitHead(s.interruptedBy, w - 11), color: 'yellow', bold: true }]);
  }
  if (s.state === 'skipped' && s.reason) {
    // Not an error: why the chip was left untouched.
    head.push([{ text: 'Skipped ', dim: true }, { text: fitHead(s.reason, w - 8) }]);
  }
  const err = s.lastError;
  head.push(
    err
      ? [{ text: 'Last error ', dim: true }, { text: fitHead(`${err.code ? `[${err.code}] ` : ''}${err.reason}`, w - 11 - 12), color: 'red', bold: true }, { text: `  ${formatRelative(err.t, m.startedAt)}`, dim: true }]
      : [{ text: 'Last error ', dim: true }, { text: 'none' }],
  );
  head.push(...statsLines(s, w));
  const wire = s.apduCount === 0 ? 'none yet' : `${s.apduCount} sent, ${s.apduErrors} not OK, ${formatMicros(s.apduMicros)} on the wire`;
  head.push([{ text: 'APDUs ', dim: true }, { text: wire }]);

  const room = maxLines - head.length;
  if (room <= 0) return head.slice(0, maxLines);
  // Split what is left between the latest APDUs (a third at most) and recent events.
  const recentTitle = 1;
  const apduRoom = Math.min(s.apdus.length, Math.max(0, Math.floor((room - recentTitle) / 3)));
  const apduLines = s.apdus.slice(s.apdus.length - apduRoom).map((a): Segment[] => {
    const ok = a.sw === '9000' || /^(61|91)/.test(a.sw);
    return [
      { text: `  ${formatRelative(a.t, m.startedAt)} `, dim: true },
      { text: fitHead(a.summary, Math.max(1, w - 32)) },
      { text: ` → ${a.sw}`, color: ok ? 'green' : 'red' },
      { text: ` ${formatMicros(a.micros)}`, dim: true },
    ];
  });
  const eventRoom = room - apduLines.length - recentTitle;
  const events = eventRoom > 0 ? s.recent.slice(Math.max(0, s.recent.length - eventRoom)) : [];
  const eventLines = events.map((e): Segment[] => {
    const when = `  ${formatRelative(e.t, m.startedAt)} `;
    return [{ text: when, dim: true }, { text: fitHead(describeEvent(e), Math.max(1, w - when.length)) }];
  });
  const title: Segment[] = [{ text: `Recent events (${s.recent.length})`, bold: true }];
  return [...head, ...apduLines, ...(eventRoom > 0 ? [title, ...eventLines] : [])];
}

/** The slot's figures (this run, all time), its contact wear and the recent-yield flag. */
function statsLines(s: SlotView, w: number): Segment[][] {
  const st = s.stats;
  const svc = s.service;
  if (!st) return svc ? [[{ text: 'Wear  ', dim: true }, { text: fitHead(svc.message, w - 6), color: svc.status === 'ok' ? undefined : svc.status === 'warning' ? 'yellow' : 'red', bold: svc.status !== 'ok' }]] : [];
  const fig = (f: typeof st.run) => `${f.units} units, FPY ${formatShare(f.fpy)}`;
  const codes = Object.entries(st.history.codes)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([c, n]) => `${c}×${n}`)
    .join(' ');
  const wear = `${st.cycles}/${st.cycleLimit} contact cycles`;
  const service = st.service === 'out-of-service' ? 'OUT OF SERVICE' : st.service === 'warning' ? 'maintenance due soon' : 'in service';
  const lines: Segment[][] = [
    [{ text: 'Stats ', dim: true }, { text: fitHead(`run ${fig(st.run)} · all time ${fig(st.history)}${codes ? ` · top failures ${codes}` : ''}`, w - 6) }],
    [
      { text: 'Wear  ', dim: true },
      { text: `${wear}  ` },
      { text: service, color: st.service === 'ok' ? 'green' : st.service === 'warning' ? 'yellow' : 'red', bold: st.service !== 'ok' },
      { text: st.recentYield === null ? '' : `  recent FPY ${formatShare(st.recentYield)}`, dim: true },
    ],
  ];
  if (st.yieldFlag) lines.push([{ text: 'Flag  ', dim: true }, { text: fitHead(st.yieldFlag, w - 6), color: 'yellow', bold: true }]);
  return lines;
}
