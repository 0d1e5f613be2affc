/**
 * Contact wear rules: which limit a slot has (its kind of contact) and what its cycle count
 * means against it. A cycle is one unit brought into contact with the slot: a clamp closing on
 * an occupied slot (panel jig), or a unit inserted into a socket (socket programmer, bench).
 */
import { DEFAULTS, type MaintenanceConfig, type Slot, type SocketKind, type StationConfig } from '../config/schema.ts';

export type WearStatus = 'ok' | 'warning' | 'out-of-service';

export interface SlotWear {
  slot: string;
  socket: string;
  cycles: number;
  limit: number;
  warnAt: number;
  status: WearStatus;
}

export function maintenanceOf(config: Pick<StationConfig, 'maintenance'>): MaintenanceConfig {
  return config.maintenance ?? DEFAULTS.maintenance;
}

/** The slot's kind of contact: its own "socket", else pogo pins on a panel jig and a socket elsewhere. */
export function socketKindOf(config: Pick<StationConfig, 'kind'>, slot: Pick<Slot, 'socket'>): string {
  return slot.socket ?? (config.kind === 'panel-jig' ? 'pogo' : 'socket');
}

export function limitOf(config: Pick<StationConfig, 'kind' | 'maintenance'>, slot: Pick<Slot, 'socket'>): { socket: string; kind: SocketKind } {
  const socket = socketKindOf(config, slot);
  const sockets: Record<string, SocketKind> = maintenanceOf(config).sockets;
  // validate.ts refuses a slot naming an unknown kind; a hand-built config falls back to the default.
  return { socket, kind: sockets[socket] ?? DEFAULTS.maintenance.sockets.pogo };
}

export function wearStatus(cycles: number, kind: SocketKind): WearStatus {
  if (cycles >= kind.cycleLimit) return 'out-of-service';
  return cycles >= warnThreshold(kind) ? 'warning' : 'ok';
}

export function warnThreshold(kind: SocketKind): number {
  return Math.ceil((kind.cycleLimit * kind.warnAtPercent) / 100);
}

export function slotWear(config: Pick<StationConfig, 'kind' | 'maintenance'>, slot: Pick<Slot, 'id' | 'socket'>, cycles: number): SlotWear {
  const { socket, kind } = limitOf(config, slot);
  return { slot: slot.id, socket, cycles, limit: kind.cycleLimit, warnAt: warnThreshold(kind), status: wearStatus(cycles, kind) };
}
