/**
 * Colour on or off for the whole UI. chalk (which Ink uses) does not read NO_COLOR, so the UI
 * drops colour props itself when colours are off; symbols and words carry the meaning anyway.
 */
import { createContext, useContext } from 'react';
import { Text } from 'ink';
import type { UiColor } from '../format.ts';

export const ColorsContext = createContext<boolean>(true);

export function useColors(): boolean {
  return useContext(ColorsContext);
}

/** One styled piece of a line. Bold, dim and inverse are not colours: they stay under NO_COLOR. */
export interface Segment {
  text: string;
  color?: UiColor | undefined;
  bold?: boolean | undefined;
  dim?: boolean | undefined;
  inverse?: boolean | undefined;
}

/** A single line made of segments, truncated (never wrapped) at the box edge. */
export function Line({ segments }: { segments: readonly Segment[] }) {
  const colors = useColors();
  return (
    <Text wrap="truncate-end">
      {segments.length === 0 ? ' ' : null}
      {segments.map((s, i) => (
        <Text key={i} color={colors ? s.color : undefined} bold={s.bold} dimColor={s.dim} inverse={s.inverse}>
          {s.text}
        </Text>
      ))}
    </Text>
  );
}

/** Pads or cuts a plain string to exactly `width` columns (our texts are single-width). */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length > width ? text.slice(0, width) : text.padEnd(width);
}
