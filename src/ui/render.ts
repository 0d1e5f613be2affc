/**
 * Mounting the terminal UI, and deciding whether to. `ifpp run` asks `shouldUseTui` first and
 * falls back to the ndjson/plain log when the answer is no.
 */
import { createElement } from 'react';
import { render } from 'ink';
import { StationApp } from './app.tsx';
import { injectedFault, ThrowWhileLoading } from './fault-injection.tsx';
import type { StationEventSource, StationControls } from './app.tsx';
import type { ViewModelOptions } from './state/view-model.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface TuiDecisionOptions {
  /** The operator asked for headless output (`--headless`, `--events`). */
  headless?: boolean;
  /** Keys need a terminal too: a piped stdin cannot be put in raw mode. */
  stdin?: { isTTY?: boolean };
}

/**
 * True when the full-screen UI can work: stdout (and stdin, when given) is a terminal, TERM is
 * not "dumb", no headless mode was asked for (option or IFPP_HEADLESS=1), and we are not in CI,
 * where Ink writes only the final frame.
 */
export function shouldUseTui(stdout: { isTTY?: boolean }, env: Env, opts: TuiDecisionOptions = {}): boolean {
  if (opts.headless) return false;
  if (isSet(env['IFPP_HEADLESS'])) return false;
  if (stdout.isTTY !== true) return false;
  if (opts.stdin && opts.stdin.isTTY !== true) return false;
  if (env['TERM'] === 'dumb') return false;
  if (isSet(env['CI']) || isSet(env['CONTINUOUS_INTEGRATION'])) return false;
  return true;
}

/** NO_COLOR (https://no-color.org): present and not empty turns colour off. chalk ignores it. */
export function colorsEnabled(env: Env): boolean {
  const v = env['NO_COLOR'];
  return v === undefined || v === '';
}

/** Ink options of the station UI (exported so the render benchmark measures the same thing). */
export const STATION_RENDER_OPTIONS = {
  // Ctrl+C is a key like q: quitting goes through the station's safe-state path.
  exitOnCtrlC: false,
  // The app already batches events to 10 redraws a second; key echoes may go a bit faster.
  maxFps: 20,
  // Not incrementalRendering: in ink 6.8 it moves the cursor up one line too few when the
  // frame ends in a newline (every frame shorter than the terminal), so each redraw slid down
  // a row (caught by test/ui/tty.test.ts). The standard renderer redraws the whole frame inside
  // a synchronized-output block, which terminals show at once.
  incrementalRendering: false,
} as const;

/** Erase the screen and put the cursor home (ED 2, CUP). */
export const CLEAR_SCREEN = '\x1b[2J\x1b[H';

export interface RenderStationUiOptions {
  bus: StationEventSource;
  controls: StationControls;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  stderr?: NodeJS.WriteStream;
  /** For NO_COLOR; default process.env. */
  env?: Env;
  viewOptions?: Partial<ViewModelOptions>;
  /** Route stray console output above the UI instead of through it. Default true. */
  patchConsole?: boolean;
}

export interface StationUiHandle {
  unmount(): void;
  /** Resolves when the UI is unmounted; rejects with the error when rendering threw. */
  waitUntilExit(): Promise<unknown>;
}

export function renderStationUi(opts: RenderStationUiOptions): StationUiHandle {
  const env = opts.env ?? process.env;
  const station = createElement(StationApp, {
    source: opts.bus,
    controls: opts.controls,
    colors: colorsEnabled(env),
    ...(opts.viewOptions ? { viewOptions: opts.viewOptions } : {}),
  });
  const app = injectedFault(env) ? createElement(ThrowWhileLoading, { source: opts.bus, children: station }) : station;
  const stdout = opts.stdout ?? process.stdout;
  // Start on a clean screen, not below whatever ran before (npm's banner, build output); the
  // scrollback keeps it.
  stdout.write(CLEAR_SCREEN);
  const instance = render(app, {
    stdout,
    stdin: opts.stdin ?? process.stdin,
    stderr: opts.stderr ?? process.stderr,
    patchConsole: opts.patchConsole ?? true,
    ...STATION_RENDER_OPTIONS,
  });
  return {
    unmount: () => instance.unmount(),
    waitUntilExit: () => instance.waitUntilExit(),
  };
}

function isSet(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}
