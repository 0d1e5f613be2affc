/** Key hints for the current mode, and one line for the answer to the last key. */
import { Box } from 'ink';
import type { UiMessage } from '../state/keys.ts';
import { fitHead } from '../format.ts';
import { Line } from './theme.tsx';

export const FOOTER_LINES = 2;

export type FooterMode = 'grid' | 'detail' | 'summary' | 'confirm';

export function keyHints(mode: FooterMode, paused: boolean): string {
  if (mode === 'confirm') return 'y abort  n/Esc cancel';
  const run = paused ? 's/p resume' : 's start  p pause';
  if (mode === 'summary') return `y/Esc close summary  ${run}  a abort  q quit`;
  if (mode === 'detail') return `←↑↓→ other slot  ⏎/Esc close  r retry  ${run}  a abort  q quit`;
  return `${run}  a abort  ←↑↓→/hjkl select  ⏎ detail  y summary  r retry  q quit`;
}

export function Footer({ mode, paused, message, width }: { mode: FooterMode; paused: boolean; message: UiMessage | null; width: number }) {
  const color = message?.level === 'error' ? 'red' : message?.level === 'warn' ? 'yellow' : undefined;
  return (
    <Box flexDirection="column" width={width}>
      <Line segments={[{ text: fitHead(keyHints(mode, paused), width), dim: true }]} />
      <Line segments={message ? [{ text: fitHead(message.text, width), color, bold: message.level !== 'info' }] : []} />
    </Box>
  );
}
