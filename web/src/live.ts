/**
 * Live data from the WebSocket tier (Binance streams).
 *
 * MarketFeed keeps one combined connection (`/stream`) carrying the streams that the shown page
 * subscribed, adds and removes streams with SUBSCRIBE / UNSUBSCRIBE, reconnects with back-off
 * after any drop and then tells the page to resynchronize from REST (whatever happened while it
 * was away is not replayed). UserFeed does the same for the user data stream of a listenKey
 * obtained with the session.
 */

import { ApiError, form } from "./api";

/** "idle": nothing is subscribed, so no connection is wanted. */
export type ConnectionState = "idle" | "connecting" | "live" | "reconnecting";
type Handler = (data: unknown) => void;
type Listener = () => void;

const MAX_BACKOFF_MS = 10_000;

/** Joins the configured base ("ws://host:port", "wss://host" or a path like "/") and a path. */
export function wsUrl(base: string, path: string): string {
  if (base.startsWith("ws://") || base.startsWith("wss://")) return base.replace(/\/$/, "") + path;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const prefix = base.replace(/\/$/, "");
  return `${scheme}//${location.host}${prefix}${path}`;
}

class Reconnecting {
  protected socket: WebSocket | null = null;
  protected attempts = 0;
  private timer: number | undefined;
  private stopped = true;
  private resyncListeners = new Set<Listener>();
  private stateListeners = new Set<(s: ConnectionState) => void>();
  state: ConnectionState = "idle";

  /** Called after every reconnection: fetch the current state from REST. */
  onResync(fn: Listener): () => void {
    this.resyncListeners.add(fn);
    return () => this.resyncListeners.delete(fn);
  }

  onState(fn: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(fn);
    fn(this.state);
    return () => this.stateListeners.delete(fn);
  }

  protected setState(state: ConnectionState): void {
    this.state = state;
    for (const fn of [...this.stateListeners]) fn(state);
  }

  protected start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.setState("connecting");
    void this.connect();
  }

  protected stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.close();
    }
  }

  protected get running(): boolean {
    return !this.stopped;
  }

  /** The URL to open now, or null to give up for the moment (retried later). */
  protected async url(): Promise<string | null> {
    return null;
  }

  protected opened(): void {}

  protected message(_data: unknown): void {}

  private async connect(): Promise<void> {
    let url: string | null = null;
    try {
      url = await this.url();
    } catch {
      url = null;
    }
    if (this.stopped) return;
    if (url === null) {
      this.retry();
      return;
    }
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      const reconnected = this.attempts > 0;
      this.attempts = 0;
      this.setState("live");
      this.opened();
      if (reconnected) for (const fn of [...this.resyncListeners]) fn();
    };
    socket.onmessage = (event) => {
      let data: unknown;
      try {
        data = JSON.parse(String(event.data));
      } catch {
        return;
      }
      this.message(data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.retry();
    };
  }

  private retry(): void {
    if (this.stopped) return;
    this.attempts += 1;
    this.setState("reconnecting");
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.attempts - 1, 5));
    this.timer = window.setTimeout(() => void this.connect(), delay);
  }
}

/** The market streams of one page: subscribe(stream, handler) returns the unsubscribe. */
export class MarketFeed extends Reconnecting {
  private handlers = new Map<string, Set<Handler>>();
  private sent = new Set<string>();
  private flushQueued = false;
  private nextId = 1;

  constructor(private readonly base: string) {
    super();
  }

  subscribe(stream: string, handler: Handler): () => void {
    let set = this.handlers.get(stream);
    if (!set) {
      set = new Set();
      this.handlers.set(stream, set);
    }
    set.add(handler);
    this.queueFlush();
    return () => {
      const current = this.handlers.get(stream);
      current?.delete(handler);
      if (current && current.size === 0) this.handlers.delete(stream);
      this.queueFlush();
    };
  }

  protected async url(): Promise<string | null> {
    this.sent = new Set(this.handlers.keys());
    return wsUrl(this.base, `/stream?streams=${[...this.sent].join("/")}`);
  }

  protected opened(): void {
    this.flush();
  }

  protected message(data: unknown): void {
    const msg = data as { stream?: string; data?: unknown };
    if (typeof msg.stream !== "string") return;
    const set = this.handlers.get(msg.stream);
    if (set) for (const fn of [...set]) fn(msg.data);
  }

  /** Changes go out together, once per task, to stay within the server's request rate. */
  private queueFlush(): void {
    if (this.handlers.size > 0) this.start();
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private flush(): void {
    const wanted = new Set(this.handlers.keys());
    if (wanted.size === 0) {
      this.stop();
      this.sent.clear();
      this.setState("idle");
      return;
    }
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const add = [...wanted].filter((s) => !this.sent.has(s));
    const remove = [...this.sent].filter((s) => !wanted.has(s));
    if (add.length) socket.send(JSON.stringify({ method: "SUBSCRIBE", params: add, id: this.nextId++ }));
    if (remove.length) socket.send(JSON.stringify({ method: "UNSUBSCRIBE", params: remove, id: this.nextId++ }));
    this.sent = wanted;
  }
}

export interface ExecutionReport {
  e: "executionReport";
  s: string;
  i: number;
  X: string;
  x: string;
}

/** The logged-in user's executionReport / outboundAccountPosition events. */
export class UserFeed extends Reconnecting {
  private listeners = new Set<Handler>();
  private listenKey = "";
  private keepAlive: number | undefined;

  /** Called when the session is gone (a 401 on opening the stream): the page logs out. */
  onLoggedOut: () => void = () => {};

  constructor(private readonly base: string) {
    super();
  }

  /** Every user event; the unsubscribe is returned. */
  subscribe(fn: Handler): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  begin(): void {
    this.start();
    window.clearInterval(this.keepAlive);
    this.keepAlive = window.setInterval(() => {
      if (this.listenKey) void form("PUT", "/api/v3/userDataStream", { listenKey: this.listenKey }).catch(() => {});
    }, 30 * 60_000);
  }

  /** Stop listening (log-out); the listenKey is closed. */
  async end(): Promise<void> {
    this.stop();
    window.clearInterval(this.keepAlive);
    const key = this.listenKey;
    this.listenKey = "";
    if (key) await form("DELETE", "/api/v3/userDataStream", { listenKey: key }).catch(() => {});
  }

  protected async url(): Promise<string | null> {
    let opened: { listenKey: string };
    try {
      opened = await form<{ listenKey: string }>("POST", "/api/v3/userDataStream");
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        this.stop();
        this.onLoggedOut();
      }
      return null;
    }
    this.listenKey = opened.listenKey;
    return wsUrl(this.base, `/ws/${opened.listenKey}`);
  }

  protected message(data: unknown): void {
    const event = data as { e?: string };
    if (event.e === "listenKeyExpired") {
      this.socket?.close();
      return;
    }
    for (const fn of [...this.listeners]) fn(data);
  }
}
