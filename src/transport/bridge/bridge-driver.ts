/**
 * Station-side driver of one UART bridge (hardware/PROTOCOL.md) on one serial port: serialport
 * 13 (with the direct-I/O binding of fast-serial.ts) plus a '\n' delimiter parser (a line over
 * the protocol's 600-byte limit is dropped as garbled), frames through the shared codec
 * (src/core/bridge-protocol/).
 *
 * - Request ids 1..FFFF (wrapping, never one still pending); answers matched by id.
 * - One outstanding request per slot, all slots concurrent. Requests for a busy slot are
 *   queued in the driver (FIFO), so the bridge never has a reason to answer ERR BUSY; INFO and
 *   STATUS bypass the queue (the bridge answers them at once, even for a busy slot).
 * - Per-request timeouts from the slot's negotiated parameters (timeouts.ts), which the driver
 *   learns from the answers it carries (CLOCK, RESET's ATR, PPS, POWER OFF, events).
 * - A timeout or a garbled line (bad CRC either way) is resolved with STATUS (§3): lastId says
 *   whether the request ran. The request then fails with BRIDGE_TIMEOUT / BRIDGE_CRC and
 *   `executed` set; nothing is ever resent by the driver.
 * - Answer check: the timeout allows every character the card's waiting time (WWT) and every
 *   GET RESPONSE, tens of seconds at the defaults, while a lost line is gone at once. So a
 *   card request still unanswered after `answerCheckMs` has its slot's STATUS asked, and again
 *   every `answerCheckMs`: BUSY means the card still works (wait on); IDLE means the bridge is
 *   done with it and its answer, which it wrote before the STATUS answer (§3), never came
 *   (BRIDGE_ANSWER_LOST, executed) or the request never reached it (BRIDGE_REQUEST_LOST); no
 *   STATUS answer means the bridge stopped answering (link dropped, BRIDGE_DISCONNECTED).
 * - Link loss: port 'close'/'error', a failed write, or heartbeats (INFO when the line has been
 *   quiet) going unanswered. serialport 13 on Linux does not notice a hung-up tty by itself
 *   (serialport/bindings-cpp#162: reads return 0 bytes forever, no 'close'); the heartbeat's
 *   write fails on such a port and surfaces it. Then every pending and queued request fails at
 *   once with BRIDGE_DISCONNECTED naming the port, 'disconnected' is emitted, and the same path
 *   is reopened periodically until INFO answers again ('connected'). The bridge comes back with
 *   every slot off: callers activate their slots again.
 */
import { serialOpenHint } from '../serial-open-hint.ts';
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import { DelimiterParser } from '@serialport/parser-delimiter';
import { BridgeProtocolError } from '../../core/bridge-protocol/errors.ts';
import { MAX_LINE, MAX_SLOTS, parseBridgeLine, type ResponseFrame, type SlotField } from '../../core/bridge-protocol/frame.ts';
import { Iso7816Error, fiDiFromTa1, parseAtr, ppsOutcome } from '../../core/bridge-protocol/iso7816.ts';
import {
  PROTOCOL_VERSION,
  decodeEvent,
  decodeReply,
  encodeRequest,
  type BridgeInfo,
  type BridgeRequest,
  type BatchReply,
  type CardReply,
  type ReplyMap,
  type ResetKind,
  type SlotStatus,
  type VccClass,
} from '../../core/bridge-protocol/verbs.ts';
import { BridgeError, bridgeErrAnswer } from './errors.ts';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { fastSerialBinding } from './fast-serial.ts';
import { defaultLinkParams, requestTimeoutMs, type SlotLinkParams, type TimeoutPolicy } from './timeouts.ts';

export interface BridgeDriverOptions {
  /** loading.retry.timeoutFactor: a request times out after this many times its longest legitimate duration. Default 3. */
  timeoutFactor?: number;
  /** Fixed allowance added to every timeout for the OS, USB and the bridge's line handling. Default 250 ms. */
  slackMs?: number;
  /** Timeout base of INFO, STATUS, POWER, CLOCK. Default 1000 ms. */
  controlTimeoutMs?: number;
  /** Send an INFO heartbeat when no line arrived for this long. Default 500 ms; 0 = off. */
  heartbeatMs?: number;
  /** Unanswered heartbeats in a row before the bridge counts as gone. Default 2. */
  heartbeatMisses?: number;
  /** Reopen the port this often after a disconnect. Default 500 ms; 0 = no reconnect. */
  reconnectMs?: number;
  /** While a timed-out request's slot still reports BUSY, ask STATUS this often. Default 100 ms. */
  statusPollMs?: number;
  /**
   * Ask STATUS about a card request (RESET, PPS, TPDU, APDU, POWER, CLOCK) still unanswered
   * after this long, and again as often, to find a lost answer long before the timeout.
   * Default 1000 ms; 0 = off (only the timeout).
   */
  answerCheckMs?: number;
  /**
   * The serialport binding that opens the port. Default: fast-serial.ts (direct non-blocking
   * reads and writes over the platform binding); serialport's own, or a mock, plug in here.
   */
  binding?: BindingInterface;
}

export interface CardEvent {
  slot: number;
  present: boolean;
}

export interface FaultEvent {
  /** null: bridge-wide fault (every powered slot). */
  slot: number | null;
  code: string;
}

export interface BridgeDriverEvents {
  /** INFO answered on a (re)opened port. */
  connected: [BridgeInfo];
  /** The link is gone; every request on it has failed with this error's code. */
  disconnected: [BridgeError];
  card: [CardEvent];
  fault: [FaultEvent];
  /** A line failed its CRC or grammar and was dropped (requests it may have answered are checked). */
  garbled: [{ line: string; error: BridgeProtocolError }];
  /** An answer for no pending request (for example one arriving after its timeout); dropped. */
  stray: [ResponseFrame];
}

type Verb = BridgeRequest['verb'];

interface Pending {
  id: number;
  req: BridgeRequest;
  slot: SlotField;
  timeoutMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The answer check (see answerCheckMs). */
  checkTimer: ReturnType<typeof setInterval> | undefined;
  /** A garbled line arrived (or the bridge answered ERR CRC/LINE/SYNTAX), or the bridge lost a line (ERR OVERRUN), while this was out. */
  garbled: false | 'CRC' | 'OVERRUN';
  checking: boolean;
  /** Its timeout went off (a check running then carries on as the timeout's recovery). */
  timedOut: boolean;
  settled: boolean;
  resolve: (v: unknown) => void;
  reject: (e: BridgeError) => void;
}

interface Job {
  req: BridgeRequest;
  resolve: (v: unknown) => void;
  reject: (e: BridgeError) => void;
}

interface Connection {
  port: SerialPort;
}

const DISCONNECT_HINT = 'check the bridge USB cable and power; the driver reopens the port by itself, then every slot must be activated again';

/** Wire errors after which the bridge has deactivated the slot (§6 table). */
const DEACTIVATING = new Set(['MUTE', 'TIMEOUT', 'PROTO', 'NOCARD', 'FAULT', 'OVERRUN']);

function slotVerb(req: BridgeRequest): req is Exclude<BridgeRequest, { verb: 'INFO' } | { verb: 'STATUS' }> {
  return req.verb !== 'INFO' && req.verb !== 'STATUS';
}

export class BridgeDriver extends EventEmitter<BridgeDriverEvents> {
  private portPath = '';
  private baudRate = 115200;
  private conn: Connection | undefined;
  private ready = false;
  private closing = false;
  private bridgeInfo: BridgeInfo | undefined;
  private readonly policy: TimeoutPolicy;
  private readonly heartbeatMs: number;
  private readonly heartbeatMisses: number;
  private readonly reconnectMs: number;
  private readonly statusPollMs: number;
  private readonly answerCheckMs: number;
  private readonly binding: BindingInterface;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly active: (Pending | undefined)[] = new Array(MAX_SLOTS).fill(undefined);
  private readonly queues: Job[][] = Array.from({ length: MAX_SLOTS }, () => []);
  private links: SlotLinkParams[] = [];
  private readonly generations: number[] = new Array(MAX_SLOTS).fill(0);
  private lastRx = 0;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private connectCount = 0;

  constructor(private readonly opts: BridgeDriverOptions = {}) {
    super();
    this.policy = { factor: opts.timeoutFactor ?? 3, baudRate: this.baudRate, slackMs: opts.slackMs ?? 250, controlMs: opts.controlTimeoutMs ?? 1000 };
    this.heartbeatMs = opts.heartbeatMs ?? 500;
    this.heartbeatMisses = Math.max(1, opts.heartbeatMisses ?? 2);
    this.reconnectMs = opts.reconnectMs ?? 500;
    this.statusPollMs = opts.statusPollMs ?? 100;
    this.answerCheckMs = opts.answerCheckMs ?? 1000;
    this.binding = opts.binding ?? fastSerialBinding;
    this.resetLinks(4_000_000);
  }

  /** Serial path given to open(). */
  get path(): string {
    return this.portPath;
  }

  /** INFO of the bridge as of the last (re)connect. */
  get info(): BridgeInfo | undefined {
    return this.bridgeInfo;
  }

  get connected(): boolean {
    return this.ready;
  }

  /** How many times INFO answered on a freshly opened port (1 after open(), +1 per reconnect). */
  get connections(): number {
    return this.connectCount;
  }

  /**
   * Opens the port and asks INFO. Rejects (BRIDGE_PORT_UNAVAILABLE, BRIDGE_NOT_A_BRIDGE,
   * BRIDGE_PROTOCOL_VERSION) when that fails; reconnects only start after a first success.
   */
  async open(path: string, baudRate = 115200): Promise<BridgeInfo> {
    if (this.conn || this.closing) throw new BridgeError('BRIDGE_ARG', `driver for ${this.portPath} is already open or closed`, { port: path });
    this.portPath = path;
    this.baudRate = baudRate;
    this.policy.baudRate = baudRate;
    return this.connect();
  }

  /** Closes the port for good: pending requests fail with BRIDGE_CLOSED, no reconnect. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    this.ready = false;
    const conn = this.conn;
    this.conn = undefined;
    this.failAll((p) => new BridgeError('BRIDGE_CLOSED', `bridge driver for ${this.portPath} was closed`, this.ctx(p)));
    if (conn?.port.isOpen) await new Promise<void>((res) => conn.port.close(() => res()));
  }

  /** Transmission parameters the driver believes are in force on a slot (drives the timeouts). */
  linkParams(slot: number): SlotLinkParams {
    return { ...this.checkedLink(slot) };
  }

  /**
   * Bumped whenever a slot's activation ends: reset, POWER OFF, card in/out, fault, a card
   * failure (MUTE, TIMEOUT, PROTO, NOCARD, FAULT), disconnect. A SlotLink compares it with the
   * value it saw at activation.
   */
  slotGeneration(slot: number): number {
    return this.generations[slot] ?? 0;
  }

  // ---- typed verbs ----

  status(slot: number): Promise<SlotStatus> {
    return this.request({ verb: 'STATUS', slot });
  }

  power(slot: number, vcc: VccClass | 'OFF'): Promise<Record<string, never>> {
    return this.request({ verb: 'POWER', slot, vcc });
  }

  /** Sets the slot's card clock; resolves with the frequency the bridge generates. */
  async clock(slot: number, hz: number): Promise<number> {
    return (await this.request({ verb: 'CLOCK', slot, hz })).hz;
  }

  reset(slot: number, kind: ResetKind): Promise<CardReply> {
    return this.request({ verb: 'RESET', slot, kind });
  }

  pps(slot: number, pps: Uint8Array): Promise<CardReply> {
    return this.request({ verb: 'PPS', slot, pps });
  }

  tpdu(slot: number, tpdu: Uint8Array): Promise<CardReply> {
    return this.request({ verb: 'TPDU', slot, tpdu });
  }

  /** One short command APDU run at the bridge; only when `info.apdu` (else the bridge answers ERR VERB). */
  apdu(slot: number, apdu: Uint8Array): Promise<CardReply> {
    return this.request({ verb: 'APDU', slot, apdu });
  }

  /**
   * APDUs run in order at the bridge, stopping at the first answer that is not a bare 9000
   * (PROTOCOL.md §4a); only when `info.batch` (at most that many, within `info.maxLine`).
   */
  apdus(slot: number, apdus: readonly Uint8Array[]): Promise<BatchReply> {
    return this.request({ verb: 'APDUS', slot, apdus });
  }

  /** Sends one request and resolves with its decoded OK answer; rejects with a BridgeError. */
  request<R extends BridgeRequest>(req: R): Promise<ReplyMap[R['verb']]> {
    return new Promise<ReplyMap[R['verb']]>((resolve, reject) => {
      const job: Job = { req, resolve: resolve as (v: unknown) => void, reject };
      const slot = req.verb === 'INFO' ? null : req.slot;
      if (slot !== null && !(Number.isInteger(slot) && slot >= 0 && slot < MAX_SLOTS)) {
        return reject(new BridgeError('BRIDGE_ARG', `slot ${slot} is not 0..${MAX_SLOTS - 1}`, { port: this.portPath, verb: req.verb }));
      }
      if (this.closing) return reject(new BridgeError('BRIDGE_CLOSED', `bridge driver for ${this.portPath} was closed`, { port: this.portPath, slot, verb: req.verb }));
      if (!this.ready) return reject(this.notConnected(slot, req.verb));
      if (!slotVerb(req)) return this.dispatch(job);
      this.queues[req.slot]!.push(job);
      this.pump(req.slot);
    });
  }

  // ---- connection ----

  private async connect(): Promise<BridgeInfo> {
    const port = await this.openPort();
    if (this.closing) {
      port.close(() => undefined);
      throw new BridgeError('BRIDGE_CLOSED', `bridge driver for ${this.portPath} was closed`, { port: this.portPath });
    }
    const conn: Connection = { port };
    this.conn = conn;
    const parser = port.pipe(new DelimiterParser({ delimiter: '\n' }));
    parser.on('data', (d: Buffer) => {
      if (this.conn !== conn) return;
      if (d.length + 1 > MAX_LINE) {
        this.emit('garbled', { line: '(over 600 bytes)', error: new BridgeProtocolError('LINE', 'line from the bridge exceeds the 600-byte limit') });
        this.onGarbled();
        return;
      }
      this.onLine(d.toString('latin1'));
    });
    port.on('error', (err: Error) => {
      if (this.conn === conn) this.dropLink(`I/O error: ${err.message}`, err);
    });
    port.on('close', (...args: unknown[]) => {
      const err = args[0] instanceof Error ? (args[0] as Error & { disconnected?: boolean }) : undefined;
      if (this.conn === conn) this.dropLink(err?.disconnected ? `device vanished: ${err.message}` : 'port closed', err);
    });
    // A bare newline makes the bridge drop a partial line left from before (§1).
    port.write('\n');
    this.lastRx = Date.now();
    let info: BridgeInfo;
    try {
      info = (await this.dispatchPromise({ verb: 'INFO' })) as BridgeInfo;
    } catch (e) {
      await this.abandon(conn);
      throw new BridgeError('BRIDGE_NOT_A_BRIDGE', `no valid INFO answer from ${this.portPath}: ${(e as Error).message}`, { port: this.portPath }, {
        hint: 'check that this is a bridge port running line protocol 1, and the baud rate',
        cause: e,
      });
    }
    if (info.protocol !== PROTOCOL_VERSION) {
      await this.abandon(conn);
      throw new BridgeError('BRIDGE_PROTOCOL_VERSION', `bridge ${this.portPath} speaks line protocol ${info.protocol}, this station ${PROTOCOL_VERSION}`, { port: this.portPath }, {
        hint: 'update the bridge firmware or the station',
      });
    }
    if (this.conn !== conn) throw this.notConnected(null, 'INFO');
    this.bridgeInfo = info;
    this.resetLinks(info.fdefHz);
    for (let s = 0; s < MAX_SLOTS; s++) this.generations[s]!++;
    this.ready = true;
    this.connectCount++;
    this.startHeartbeat();
    this.emit('connected', info);
    return info;
  }

  private openPort(): Promise<SerialPort> {
    const path = this.portPath;
    return new Promise((resolve, reject) => {
      let port: SerialPort;
      try {
        port = new SerialPort({ path, baudRate: this.baudRate, autoOpen: false, binding: this.binding } as ConstructorParameters<typeof SerialPort>[0]);
      } catch (e) {
        return reject(portUnavailable(path, e as Error));
      }
      port.open((err) => (err ? reject(portUnavailable(path, err)) : resolve(port)));
    });
  }

  /** Gives up on a port that opened but did not behave like a bridge. */
  private async abandon(conn: Connection): Promise<void> {
    if (this.conn === conn) this.conn = undefined;
    this.failAll((p) => this.notConnected(p.slot, p.req.verb, p.id));
    if (conn.port.isOpen) await new Promise<void>((res) => conn.port.close(() => res()));
  }

  private dropLink(reason: string, cause?: unknown): void {
    const conn = this.conn;
    if (!conn || this.closing) return;
    this.conn = undefined;
    const wasReady = this.ready;
    this.ready = false;
    this.stopHeartbeat();
    const message = `bridge ${this.portPath} disconnected (${reason})`;
    this.failAll(
      (p) =>
        new BridgeError('BRIDGE_DISCONNECTED', `${message} during ${p.req.verb}${p.slot === null ? '' : ` on slot ${p.slot}`}`, this.ctx(p), {
          hint: DISCONNECT_HINT,
          ...(cause !== undefined ? { cause } : {}),
        }),
    );
    this.resetLinks(this.bridgeInfo?.fdefHz ?? 4_000_000);
    for (let s = 0; s < MAX_SLOTS; s++) this.generations[s]!++;
    if (conn.port.isOpen) conn.port.close(() => undefined);
    if (wasReady) {
      this.emit('disconnected', new BridgeError('BRIDGE_DISCONNECTED', message, { port: this.portPath }, { hint: DISCONNECT_HINT, ...(cause !== undefined ? { cause } : {}) }));
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    // Only a link that once worked is retried; a failed open() is the caller's to handle.
    if (this.closing || this.reconnectMs <= 0 || this.conn || this.connectCount === 0) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.closing || this.conn) return;
      this.connect().catch(() => this.scheduleReconnect());
    }, this.reconnectMs);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    if (this.heartbeatMs <= 0) return;
    let inFlight = false;
    let misses = 0;
    this.heartbeat = setInterval(
      () => {
        if (!this.ready || inFlight || Date.now() - this.lastRx < this.heartbeatMs) return;
        inFlight = true;
        // On a hung-up tty this write is what fails and closes the port.
        this.dispatchPromise({ verb: 'INFO' }).then(
          () => {
            inFlight = false;
            misses = 0;
          },
          (e: BridgeError) => {
            inFlight = false;
            if (e.code !== 'BRIDGE_TIMEOUT' && e.code !== 'BRIDGE_CRC') return;
            if (++misses >= this.heartbeatMisses) this.dropLink(`bridge stopped answering: ${misses} heartbeats unanswered`);
          },
        );
      },
      Math.max(20, Math.floor(this.heartbeatMs / 2)),
    );
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  // ---- requests ----

  private pump(slot: number): void {
    if (this.active[slot] || !this.ready) return;
    const job = this.queues[slot]!.shift();
    if (job) this.dispatch(job);
  }

  private dispatchPromise(req: BridgeRequest): Promise<unknown> {
    return new Promise((resolve, reject) => this.dispatch({ req, resolve, reject }));
  }

  private allocId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id === 0xffff ? 1 : id + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  private dispatch(job: Job): void {
    const conn = this.conn;
    const slot = job.req.verb === 'INFO' ? null : job.req.slot;
    if (!conn) return job.reject(this.notConnected(slot, job.req.verb));
    const id = this.allocId();
    let line: string;
    try {
      line = encodeRequest(id, job.req);
      const max = this.bridgeInfo?.maxLine ?? MAX_LINE;
      if (line.length > Math.max(MAX_LINE, max)) throw new Error(`the line of ${line.length} bytes exceeds the bridge's LINE=${max}`);
    } catch (e) {
      job.reject(new BridgeError('BRIDGE_ARG', `cannot encode ${job.req.verb}: ${(e as Error).message}`, { port: this.portPath, slot, verb: job.req.verb }, { cause: e }));
      if (slot !== null) this.pump(slot);
      return;
    }
    const link = slot === null ? defaultLinkParams(this.bridgeInfo?.fdefHz ?? 4_000_000) : this.links[slot]!;
    const p: Pending = {
      id,
      req: job.req,
      slot,
      timeoutMs: requestTimeoutMs(job.req, link, this.policy),
      timer: undefined,
      checkTimer: undefined,
      garbled: false,
      checking: false,
      timedOut: false,
      settled: false,
      resolve: job.resolve,
      reject: job.reject,
    };
    this.pending.set(id, p);
    if (slot !== null && slotVerb(job.req)) this.active[slot] = p;
    p.timer = setTimeout(() => this.onTimeout(p), p.timeoutMs);
    if (slot !== null && slotVerb(job.req) && this.answerCheckMs > 0 && this.answerCheckMs < p.timeoutMs) {
      p.checkTimer = setInterval(() => void this.recover(p, 'check'), this.answerCheckMs);
    }
    conn.port.write(line);
  }

  /** Removes a request from the books; frees its slot for the next queued one. */
  private settle(p: Pending): boolean {
    if (p.settled) return false;
    p.settled = true;
    clearTimeout(p.timer);
    clearInterval(p.checkTimer);
    this.pending.delete(p.id);
    if (p.slot !== null && this.active[p.slot] === p) {
      this.active[p.slot] = undefined;
      queueMicrotask(() => this.pump(p.slot as number));
    }
    return true;
  }

  private fail(p: Pending, e: BridgeError): void {
    if (this.settle(p)) p.reject(e);
  }

  /** Fails every pending and queued request (link gone or driver closed). */
  private failAll(error: (p: Pending | { id: undefined; slot: SlotField; req: BridgeRequest }) => BridgeError): void {
    for (const p of [...this.pending.values()]) this.fail(p, error(p));
    for (const q of this.queues) {
      for (const job of q.splice(0)) job.reject(error({ id: undefined, slot: job.req.verb === 'INFO' ? null : job.req.slot, req: job.req }));
    }
  }

  private ctx(p: { id: number | undefined; slot: SlotField; req: BridgeRequest }) {
    return { port: this.portPath, slot: p.slot, verb: p.req.verb, ...(p.id !== undefined ? { requestId: p.id } : {}) };
  }

  private notConnected(slot: SlotField, verb: string, requestId?: number): BridgeError {
    return new BridgeError('BRIDGE_DISCONNECTED', `bridge ${this.portPath} is not connected${slot === null ? '' : ` (slot ${slot})`}`, { port: this.portPath, slot, verb, ...(requestId !== undefined ? { requestId } : {}) }, { hint: DISCONNECT_HINT });
  }

  // ---- incoming lines ----

  private onLine(line: string): void {
    this.lastRx = Date.now();
    if (line === '' || line === '\r') return;
    let frame;
    try {
      frame = parseBridgeLine(line);
    } catch (e) {
      if (!(e instanceof BridgeProtocolError)) throw e;
      this.emit('garbled', { line, error: e });
      this.onGarbled();
      return;
    }
    if (frame.kind === 'event') return this.onEvent(frame.slot, decodeEvent(frame));
    if (frame.id === 0) {
      // `0 - ERR CRC|LINE|SYNTAX|OVERRUN`: one of our lines arrived garbled or was lost in the
      // bridge's full receive buffer; which one, STATUS tells.
      this.onGarbled(!frame.ok && frame.error === 'OVERRUN' ? 'OVERRUN' : 'CRC');
      return;
    }
    const p = this.pending.get(frame.id);
    if (!p || p.slot !== frame.slot) {
      this.emit('stray', frame);
      return;
    }
    if (!this.settle(p)) return;
    if (!frame.ok) {
      if (p.slot !== null && slotVerb(p.req) && DEACTIVATING.has(frame.error)) this.slotDeactivated(p.slot);
      if (p.req.verb === 'RESET' && p.slot !== null) this.slotDeactivated(p.slot);
      return p.reject(bridgeErrAnswer(frame.error, this.ctx(p)));
    }
    let reply: unknown;
    try {
      reply = decodeReply(p.req.verb, frame.args);
      this.observe(p.req, reply);
    } catch (e) {
      const why = e instanceof BridgeProtocolError || e instanceof Iso7816Error ? e.message : String(e);
      return p.reject(
        new BridgeError('BRIDGE_BAD_REPLY', `bridge ${this.portPath}: unusable answer to ${p.req.verb}${p.slot === null ? '' : ` on slot ${p.slot}`}: ${why}`, this.ctx(p), {
          hint: 'bridge firmware and station disagree on the protocol; report it with a line log',
          cause: e,
        }),
      );
    }
    p.resolve(reply);
  }

  private onEvent(slot: SlotField, e: ReturnType<typeof decodeEvent>): void {
    if (!e) return; // unknown events are ignored (§5)
    if (e.event === 'CARD') {
      this.slotDeactivated(e.slot);
      this.emit('card', { slot: e.slot, present: e.present });
      return;
    }
    if (slot === null) for (let s = 0; s < MAX_SLOTS; s++) this.slotDeactivated(s);
    else this.slotDeactivated(slot);
    this.emit('fault', { slot, code: e.code });
  }

  /** Tracks the slot parameters from the answers that change them. */
  private observe(req: BridgeRequest, reply: unknown): void {
    if (req.verb === 'INFO' || req.verb === 'STATUS') return;
    const link = this.links[req.slot]!;
    switch (req.verb) {
      case 'CLOCK':
        link.clockHz = (reply as { hz: number }).hz;
        return;
      case 'POWER':
        if (req.vcc === 'OFF') this.slotDeactivated(req.slot);
        return;
      case 'RESET': {
        this.slotDeactivated(req.slot);
        const atr = parseAtr((reply as CardReply).data);
        const { fi, di } = fiDiFromTa1(atr.specificMode ? atr.ta1 : 0x11);
        this.links[req.slot] = { fi, di, clockHz: link.clockHz, wi: atr.wi, guardN: atr.guardN };
        return;
      }
      case 'PPS': {
        const { fi, di } = fiDiFromTa1(ppsOutcome(req.pps, (reply as CardReply).data).ta1);
        link.fi = fi;
        link.di = di;
        return;
      }
      default:
        return;
    }
  }

  private slotDeactivated(slot: number): void {
    const link = this.links[slot];
    if (!link) return;
    this.links[slot] = defaultLinkParams(link.clockHz);
    this.generations[slot]!++;
  }

  private resetLinks(clockHz: number): void {
    this.links = Array.from({ length: MAX_SLOTS }, () => defaultLinkParams(clockHz));
  }

  private checkedLink(slot: number): SlotLinkParams {
    const l = this.links[slot];
    if (!l) throw new BridgeError('BRIDGE_ARG', `slot ${slot} is not 0..${MAX_SLOTS - 1}`, { port: this.portPath, slot });
    return l;
  }

  // ---- timeouts and garbled lines: resolved with STATUS (§3) ----

  private onGarbled(cause: 'CRC' | 'OVERRUN' = 'CRC'): void {
    // Every request pending now was written before the garbled line was read.
    for (const p of this.pending.values()) {
      if (p.slot === null || !slotVerb(p.req)) continue;
      p.garbled = cause;
      void this.recover(p, 'garbled');
    }
  }

  private onTimeout(p: Pending): void {
    if (p.settled) return;
    p.timedOut = true;
    if (p.slot === null || !slotVerb(p.req)) {
      this.fail(p, this.lostError(p, undefined));
      return;
    }
    void this.recover(p, 'timeout');
  }

  private lostError(p: Pending, executed: boolean | undefined, stillBusy = false, trigger: 'timeout' | 'garbled' | 'check' = 'timeout'): BridgeError {
    const on = p.slot === null ? '' : ` on slot ${p.slot}`;
    const idHex = p.id.toString(16).toUpperCase();
    const ctx = { ...this.ctx(p), ...(executed !== undefined ? { executed } : {}) };
    const fate =
      executed === true
        ? 'the bridge executed it but its answer was lost'
        : executed === false
          ? 'the bridge never executed it'
          : stillBusy
            ? 'the bridge still reports the slot busy'
            : 'whether it ran is unknown';
    const hint =
      executed === true
        ? 'do not resend a non-idempotent command (STORE DATA): treat the operation as failed'
        : executed === false
          ? 'the request may be resent'
          : 'treat the operation as failed; check the bridge link';
    if (p.garbled === 'OVERRUN') {
      return new BridgeError('BRIDGE_OVERRUN', `bridge ${this.portPath}: ${p.req.verb} (id ${idHex})${on} was lost in the bridge's full receive buffer; ${fate}`, ctx, {
        hint: `${hint}; the bridge cannot keep up with the link: fewer slots per bridge or a slower link`,
      });
    }
    if (p.garbled) {
      return new BridgeError('BRIDGE_CRC', `bridge ${this.portPath}: ${p.req.verb} (id ${idHex})${on} was garbled on the link (CRC); ${fate}`, ctx, { hint: `${hint}; check the cable, shielding and baud rate` });
    }
    if (trigger === 'check' && executed !== undefined) {
      // The slot is idle while the request is unanswered: found by the answer check, not the timeout.
      return executed
        ? new BridgeError('BRIDGE_ANSWER_LOST', `bridge ${this.portPath}: the answer to ${p.req.verb} (id ${idHex})${on} was lost: the bridge finished it (STATUS idle, last id ${idHex}) but no answer arrived`, ctx, { hint: `${hint}; check the bridge link` })
        : new BridgeError('BRIDGE_REQUEST_LOST', `bridge ${this.portPath}: ${p.req.verb} (id ${idHex})${on} never reached the bridge (STATUS idle, another last id)`, ctx, { hint: `${hint}; check the bridge link` });
    }
    return new BridgeError('BRIDGE_TIMEOUT', `bridge ${this.portPath}: no answer to ${p.req.verb} (id ${idHex})${on} within ${Math.round(p.timeoutMs)} ms; ${fate}`, ctx, { hint });
  }

  /**
   * Asks STATUS about a request whose answer is overdue or may have been the garbled line:
   * idle with lastId = its id means it ran and the answer was lost; idle with another lastId
   * means it never arrived (the bridge has seen every line sent before the STATUS).
   */
  private async recover(p: Pending, trigger: 'timeout' | 'garbled' | 'check'): Promise<void> {
    if (p.checking || p.settled) return;
    p.checking = true;
    const slot = p.slot as number;
    let deadline: number | undefined;
    try {
      for (;;) {
        let st: SlotStatus | undefined;
        for (let attempt = 0; attempt < 2 && !st; attempt++) {
          try {
            st = (await this.dispatchPromise({ verb: 'STATUS', slot })) as SlotStatus;
          } catch (e) {
            if (p.settled) return;
            if (!(e instanceof BridgeError) || (e.code !== 'BRIDGE_TIMEOUT' && e.code !== 'BRIDGE_CRC' && e.code !== 'BRIDGE_OVERRUN')) {
              // Link gone or closed: failAll has settled p already; otherwise fail it with this.
              if (e instanceof BridgeError) this.fail(p, e);
              return;
            }
          }
        }
        if (p.settled) return;
        if (!st) {
          this.dropLink(`bridge stopped answering: no STATUS for slot ${slot} while ${p.req.verb} was unanswered`);
          return;
        }
        if (!st.busy) {
          this.fail(p, this.lostError(p, st.lastId === p.id, false, trigger));
          return;
        }
        // Still working on it: a garbled line was not its answer; a timed-out one may yet come.
        if (trigger === 'garbled') {
          p.garbled = false;
          return;
        }
        // The card works on it: the next check (or the timeout) looks again.
        if (!p.timedOut) return;
        deadline ??= Date.now() + p.timeoutMs;
        if (Date.now() >= deadline) {
          this.fail(p, this.lostError(p, undefined, true));
          return;
        }
        await new Promise((res) => setTimeout(res, this.statusPollMs));
        if (p.settled) return;
      }
    } finally {
      p.checking = false;
    }
  }
}

function portUnavailable(path: string, err: Error): BridgeError {
  return new BridgeError('BRIDGE_PORT_UNAVAILABLE', `cannot open bridge port ${path}: ${err.message}`, { port: path }, { hint: serialOpenHint(err, 'bridge'), cause: err });
}
