/**
 * Optional Prometheus endpoint (`ifpp run --metrics PORT`): the event stream as metrics, served
 * in the text exposition format on localhost only (GET /metrics). It reads events like any
 * other consumer and adds nothing to the station's path. prom-client does the format.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { IfppError } from '../../core/errors.ts';
import { SLOT_STATES, type EventBus, type StationEvent } from '../events.ts';

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one the system chose for 0). */
  port: number;
  readonly registry: Registry;
  close(): Promise<void>;
}

const SERVICE = ['ok', 'warning', 'out-of-service'] as const;

/** Registers the station's metrics and keeps them up to date from `bus`; returns the detach function. */
export function stationMetrics(bus: EventBus, registry: Registry): () => void {
  const p = 'ifpp_';
  const units = new Counter({ name: `${p}units_total`, help: 'Units done since the station started, by slot and outcome', labelNames: ['slot', 'outcome'], registers: [registry] });
  const firstPass = new Counter({ name: `${p}units_first_pass_total`, help: 'Units installed at their first attempt, by slot', labelNames: ['slot'], registers: [registry] });
  const loadTime = new Histogram({
    name: `${p}unit_duration_seconds`,
    help: 'Time a unit spent in its slot (all attempts), by slot and outcome',
    labelNames: ['slot', 'outcome'],
    buckets: [1, 2, 3, 5, 8, 12, 20, 30, 60, 120],
    registers: [registry],
  });
  const stockAvailable = new Gauge({ name: `${p}bpp_available`, help: 'Loadable BPPs left, by batch', labelNames: ['batch'], registers: [registry] });
  const stockTotal = new Gauge({ name: `${p}bpp_total`, help: 'BPPs in the batch, by batch', labelNames: ['batch'], registers: [registry] });
  const slotState = new Gauge({ name: `${p}slot_state`, help: 'Current state of each slot (1 for the state it is in)', labelNames: ['slot', 'state'], registers: [registry] });
  const service = new Gauge({ name: `${p}slot_service`, help: 'Contact-wear status of each slot (1 for its status)', labelNames: ['slot', 'status'], registers: [registry] });
  const cycles = new Gauge({ name: `${p}slot_cycles`, help: 'Contact cycles since the last reset', labelNames: ['slot'], registers: [registry] });
  const cycleLimit = new Gauge({ name: `${p}slot_cycle_limit`, help: 'Maintenance limit of the slot, in contact cycles', labelNames: ['slot'], registers: [registry] });
  const fpy = new Gauge({ name: `${p}slot_first_pass_yield`, help: 'First-pass yield per slot (0..1), over this run and over the journal history', labelNames: ['slot', 'scope'], registers: [registry] });
  const lowYield = new Gauge({ name: `${p}slot_low_yield`, help: '1 while the recent-yield rule flags the slot', labelNames: ['slot'], registers: [registry] });
  const bridge = new Gauge({ name: `${p}bridge_connected`, help: '1 while the bridge is connected', labelNames: ['bridge'], registers: [registry] });
  const up = new Gauge({ name: `${p}station_running`, help: '1 from station start to stop', registers: [registry] });

  const setService = (slot: string, status: string) => {
    for (const s of SERVICE) service.set({ slot, status: s }, s === status ? 1 : 0);
  };
  const onEvent = (e: StationEvent): void => {
    switch (e.type) {
      case 'station.started':
        up.set(1);
        for (const s of e.slots) {
          for (const st of SLOT_STATES) slotState.set({ slot: s.id, state: st }, st === 'idle' ? 1 : 0);
          units.inc({ slot: s.id, outcome: 'installed' }, 0);
          firstPass.inc({ slot: s.id }, 0);
        }
        break;
      case 'station.stopped':
        up.set(0);
        break;
      case 'slot.state':
        for (const st of SLOT_STATES) slotState.set({ slot: e.slot, state: st }, st === e.state ? 1 : 0);
        break;
      case 'slot.result':
        loadTime.observe({ slot: e.slot, outcome: e.outcome }, e.millis / 1000);
        break;
      case 'unit.done':
        units.inc({ slot: e.slot, outcome: e.outcome });
        if (e.outcome === 'installed' && e.passFirstTime) firstPass.inc({ slot: e.slot });
        break;
      case 'store.stock':
        for (const b of e.batches) {
          stockAvailable.set({ batch: b.batchId }, b.available);
          stockTotal.set({ batch: b.batchId }, b.total);
        }
        break;
      case 'slot.service':
        setService(e.slot, e.status);
        cycles.set({ slot: e.slot }, e.cycles);
        cycleLimit.set({ slot: e.slot }, e.limit);
        break;
      case 'slot.stats':
        setService(e.slot, e.service);
        cycles.set({ slot: e.slot }, e.cycles);
        cycleLimit.set({ slot: e.slot }, e.cycleLimit);
        if (e.run.fpy !== null) fpy.set({ slot: e.slot, scope: 'run' }, e.run.fpy);
        if (e.history.fpy !== null) fpy.set({ slot: e.slot, scope: 'history' }, e.history.fpy);
        lowYield.set({ slot: e.slot }, e.yieldFlag ? 1 : 0);
        break;
      case 'station.summary':
        for (const s of e.slots) {
          setService(s.slot, s.service);
          cycles.set({ slot: s.slot }, s.cycles);
          cycleLimit.set({ slot: s.slot }, s.cycleLimit);
          lowYield.set({ slot: s.slot }, s.yieldFlag ? 1 : 0);
        }
        break;
      case 'bridge.connected':
        bridge.set({ bridge: e.bridge }, 1);
        break;
      case 'bridge.disconnected':
        bridge.set({ bridge: e.bridge }, 0);
        break;
      default:
        break;
    }
  };
  return bus.on(onEvent);
}

/** Serves the station's metrics on 127.0.0.1:`port` (0: any free port) until closed. */
export async function serveMetrics(bus: EventBus, port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ifpp_process_' });
  const detach = stationMetrics(bus, registry);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(e as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      detach();
      reject(
        new IfppError('METRICS_LISTEN_FAILED', `cannot serve metrics on ${host}:${port}: ${e.code ?? e.message}`, {
          hint: e.code === 'EADDRINUSE' ? 'another program uses this port: pick another with --metrics PORT' : 'use a port number from 1024 to 65535',
          cause: e,
        }),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : port,
    registry,
    close: () =>
      new Promise<void>((resolve) => {
        detach();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
