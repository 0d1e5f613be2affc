/** What the `ifpp sim line` coordinator and its station processes say to each other (IPC, JSON). */
export type ParentMessage =
  | { type: 'insert'; slot: string; eid: string; faults?: Record<string, unknown> }
  | { type: 'remove'; slot: string }
  | { type: 'stop'; reason: string };

export type ChildMessage =
  | { type: 'ready'; slots: string[] }
  | { type: 'loading'; slot: string }
  | { type: 'slot.result'; slot: string; eid?: string; outcome: string; code?: string; reason?: string }
  | { type: 'unit.done'; slot: string; eid?: string; outcome: string }
  | { type: 'warning'; code: string; message: string }
  | { type: 'stopped'; units: number; reason: string }
  | { type: 'failed'; code: string; message: string };
