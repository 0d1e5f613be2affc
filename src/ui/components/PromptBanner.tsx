/** The station's operator prompt ("load panel", "press both start buttons"), impossible to miss. */
import { Box } from 'ink';
import { fitHead } from '../format.ts';
import { Line, useColors } from './theme.tsx';

export const BANNER_LINES = 3;

export function PromptBanner({ message, width }: { message: string; width: number }) {
  const colors = useColors();
  return (
    <Box width={width} height={BANNER_LINES} borderStyle="bold" borderColor={colors ? 'yellow' : undefined} paddingX={1}>
      <Line segments={[{ text: fitHead(`▶ ${message}`, Math.max(1, width - 4)), bold: true, color: 'yellow' }]} />
    </Box>
  );
}
