/** A yes/no question in a box (abort asks before it interrupts loads in flight). */
import { Box } from 'ink';
import { fitHead } from '../format.ts';
import { Line, useColors } from './theme.tsx';
import { BANNER_LINES } from './PromptBanner.tsx';

export function ConfirmDialog({ question, width }: { question: string; width: number }) {
  const keys = '  [y] yes  [n] no';
  const colors = useColors();
  return (
    <Box width={width} height={BANNER_LINES} borderStyle="double" borderColor={colors ? 'red' : undefined} paddingX={1}>
      <Line segments={[{ text: fitHead(question, Math.max(1, width - 4 - keys.length)), bold: true, color: 'red' }, { text: keys, bold: true }]} />
    </Box>
  );
}
