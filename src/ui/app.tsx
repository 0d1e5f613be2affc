/**
 * The station's terminal UI. It renders the event stream and nothing else, and acts only
 * through `controls`. Events fold into a view model kept in a ref; the screen is redrawn at
 * most every `renderIntervalMs` (32 slots at 10 Hz would otherwise mean 320 React renders a
 * second), and memoised cells skip slots that did not change.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Box, useInput, useStdin, useStdout } from 'ink';
import type { StationEvent } from '../station/events.ts';
import { activeWarnings, createViewModel, reduce } from './state/view-model.ts';
import type { ViewModel, ViewModelOptions } from './state/view-model.ts';
import { handleKey, initialUiState, splitKeys, withValidSelection } from './state/keys.ts';
import type { Command, KeyPress, UiState } from './state/keys.ts';
import { Header, headerHeight, maxWarningLines } from './components/Header.tsx';
import { SlotGrid } from './components/SlotGrid.tsx';
import { PromptBanner, BANNER_LINES } from './components/PromptBanner.tsx';
import { ConfirmDialog } from './components/ConfirmDialog.tsx';
import { DetailPane } from './components/DetailPane.tsx';
import { SummaryView } from './components/SummaryView.tsx';
import { Footer, FOOTER_LINES } from './components/Footer.tsx';
import { ColorsContext } from './components/theme.tsx';

/** Anything with EventBus's `on`: the live bus, a replay, a test feed. */
export interface StationEventSource {
  on(listener: (e: StationEvent) => void): () => void;
}

/** What the station made of a retry (same shape as the orchestrator's RetryAnswer). */
export interface RetryAnswer {
  started: boolean;
  message: string;
}

/** What the operator can ask of the station. Implemented by the orchestrator. */
export interface StationControls {
  start(): void | Promise<void>;
  pause(): void | Promise<void>;
  resume(): void | Promise<void>;
  abort(): void | Promise<void>;
  /** Started, or why not: the answer's message replaces "Retry requested". */
  retry(slotId: string): void | RetryAnswer | Promise<void | RetryAnswer>;
  quit(force: boolean): void | Promise<void>;
}

export interface TerminalSize {
  columns: number;
  rows: number;
}

export interface StationAppProps {
  source: StationEventSource;
  controls: StationControls;
  /** Start from this model (e.g. a replay); default an empty one. */
  initialModel?: ViewModel;
  viewOptions?: Partial<ViewModelOptions>;
  /** False under NO_COLOR: symbols and words stay, colours go. Default true. */
  colors?: boolean;
  /** Fixed size instead of the terminal's (tests, benchmarks). */
  size?: TerminalSize;
  /** Clock for elapsed times and uptime; default Date.now. */
  clock?: () => number;
  /** Minimum time between redraws caused by events. Default 100 ms. */
  renderIntervalMs?: number;
  /** Redraw this often with no events, so elapsed times and uptime move. 0 = never. Default 1000. */
  tickMs?: number;
}

const DEFAULT_SIZE: TerminalSize = { columns: 80, rows: 24 };

export function StationApp(props: StationAppProps) {
  const { source, controls, colors = true, clock = Date.now, renderIntervalMs = 100, tickMs = 1000 } = props;
  const modelRef = useRef<ViewModel>(props.initialModel ?? createViewModel(props.viewOptions));
  const uiRef = useRef<UiState>(initialUiState());
  const [, setTick] = useState(0);
  const bump = useCallback(() => setTick((n) => (n + 1) % 1_000_000), []);

  // Events: fold immediately, redraw at most every renderIntervalMs (trailing edge, so the
  // last event of a burst is always shown).
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let lastFlush = Number.NEGATIVE_INFINITY;
    const flush = () => {
      timer = null;
      lastFlush = performance.now();
      bump();
    };
    const off = source.on((e) => {
      modelRef.current = reduce(modelRef.current, e);
      if (timer !== null) return;
      timer = setTimeout(flush, Math.max(0, lastFlush + renderIntervalMs - performance.now()));
    });
    return () => {
      off();
      if (timer !== null) clearTimeout(timer);
    };
  }, [source, renderIntervalMs, bump]);

  useEffect(() => {
    if (tickMs <= 0) return;
    const t = setInterval(bump, tickMs);
    return () => clearInterval(t);
  }, [tickMs, bump]);

  const size = useTerminalSize(props.size);

  const run = useCallback(
    (c: Command) => {
      const fail = (err: unknown) => {
        const text = err instanceof Error ? err.message : String(err);
        uiRef.current = { ...uiRef.current, message: { level: 'error', text: `${c.kind} failed: ${text}` } };
        bump();
      };
      const answered = (a: unknown) => {
        if (!a || typeof a !== 'object' || typeof (a as RetryAnswer).message !== 'string') return;
        const { started, message } = a as RetryAnswer;
        uiRef.current = { ...uiRef.current, message: { level: started ? 'info' : 'warn', text: started ? message : `Retry not started: ${message}` } };
        bump();
      };
      try {
        const r = dispatch(controls, c);
        if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(answered, fail);
        else answered(r);
      } catch (err) {
        fail(err);
      }
    },
    [controls, bump],
  );

  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      const press: KeyPress = { input, upArrow: key.upArrow, downArrow: key.downArrow, leftArrow: key.leftArrow, rightArrow: key.rightArrow, return: key.return, escape: key.escape, ctrl: key.ctrl };
      for (const one of splitKeys(press)) {
        const { ui, command } = handleKey(uiRef.current, modelRef.current, one);
        uiRef.current = ui;
        if (command) run(command);
      }
      bump();
    },
    { isActive: isRawModeSupported },
  );

  const model = modelRef.current;
  const ui = withValidSelection(uiRef.current, model);
  uiRef.current = ui;
  const now = clock();
  return (
    <ColorsContext.Provider value={colors}>
      <Screen model={model} ui={ui} now={now} size={size} />
    </ColorsContext.Provider>
  );
}

function Screen({ model, ui, now, size }: { model: ViewModel; ui: UiState; now: number; size: TerminalSize }) {
  // One column and one line short of the terminal: a full-width line can wrap early on some
  // terminals, and output as tall as the terminal makes Ink clear the screen on every frame.
  const width = Math.max(20, size.columns - 1);
  const warnings = activeWarnings(model, now);
  const maxWarnings = maxWarningLines(size.rows);
  const banners = (model.prompt ? BANNER_LINES : 0) + (ui.confirm ? BANNER_LINES : 0);
  const gridHeight = Math.max(2, size.rows - 1 - headerHeight(warnings, maxWarnings) - banners - FOOTER_LINES);
  const selectedSlot = ui.selected === null ? undefined : model.slots[ui.selected];
  const mode = ui.confirm ? 'confirm' : ui.summary ? 'summary' : ui.detail && selectedSlot ? 'detail' : 'grid';
  return (
    <Box flexDirection="column" width={width}>
      <Header model={model} now={now} width={width} warnings={warnings} maxWarnings={maxWarnings} />
      {model.prompt ? <PromptBanner message={model.prompt} width={width} /> : null}
      {ui.confirm ? <ConfirmDialog question="Abort the run? Loads in flight will be interrupted." width={width} /> : null}
      {ui.summary ? (
        <SummaryView model={model} width={width} height={gridHeight} />
      ) : ui.detail && selectedSlot ? (
        <DetailPane model={model} slot={selectedSlot} now={now} width={width} height={gridHeight} />
      ) : (
        <SlotGrid model={model} selected={ui.selected} now={now} width={width} height={gridHeight} />
      )}
      <Footer mode={mode} paused={model.phase === 'paused'} message={ui.message} width={width} />
    </Box>
  );
}

function dispatch(controls: StationControls, c: Command): unknown {
  switch (c.kind) {
    case 'start':
      return controls.start();
    case 'pause':
      return controls.pause();
    case 'resume':
      return controls.resume();
    case 'abort':
      return controls.abort();
    case 'retry':
      return controls.retry(c.slot);
    case 'quit':
      return controls.quit(c.force);
  }
}

/** The terminal's size, following resizes; a fixed size wins when given. */
function useTerminalSize(fixed: TerminalSize | undefined): TerminalSize {
  const { stdout } = useStdout();
  const read = (): TerminalSize => ({ columns: stdout.columns || DEFAULT_SIZE.columns, rows: stdout.rows || DEFAULT_SIZE.rows });
  const [size, setSize] = useState<TerminalSize>(read);
  useEffect(() => {
    if (fixed) return;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
    // `read` only closes over stdout, already a dependency.
  }, [stdout, fixed]);
  return fixed ?? size;
}
