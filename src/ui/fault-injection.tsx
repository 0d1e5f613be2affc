/**
 * Fault injection for tests (like the simulators' faults): IFPP_UI_FAULT=render makes the UI
 * throw while rendering as soon as a unit is loading, to prove that a crashed UI stops the
 * station safely (src/cli/run-station.ts). Unset, nothing changes.
 */
import { useEffect, useState, type ReactElement } from 'react';
import type { StationEventSource } from './app.tsx';

type Env = Readonly<Record<string, string | undefined>>;

export function injectedFault(env: Env): 'render' | undefined {
  return env['IFPP_UI_FAULT'] === 'render' ? 'render' : undefined;
}

export function ThrowWhileLoading({ source, children }: { source: StationEventSource; children: ReactElement }): ReactElement {
  const [boom, setBoom] = useState(false);
  useEffect(() => source.on((e) => e.type === 'slot.state' && e.state === 'loading' && setBoom(true)), [source]);
  if (boom) throw new Error('injected render error (IFPP_UI_FAULT=render)');
  return children;
}
