/**
 * The logged-in user's balances and open orders, kept current: fetched from REST at start, after
 * every user-stream event (debounced: one burst of events, one fetch) and after a reconnection.
 */

import type { App } from "./app";
import { get } from "./api";
import { h } from "./dom";
import type { Account, Balance, Order } from "./types";
import { fmt } from "./decimal";

const DEBOUNCE_MS = 150;
const RETRY_MS = 3000;

export class UserData {
  balances: Balance[] = [];
  openOrders: Order[] = [];
  /** False until the first refresh answered: the page shows skeletons, not zeros, meanwhile. */
  loaded = false;
  /** The last refresh failed (the exchange unreachable): it is retried every few seconds. */
  failed = false;
  /** Told after each refresh (balances, open orders), so that pages redraw and reload histories. */
  private listeners = new Set<() => void>();
  private timer: number | undefined;
  private stops: (() => void)[] = [];
  private alive = true;

  constructor(private readonly app: App) {
    this.stops.push(app.userFeed.subscribe(() => this.soon()));
    this.stops.push(app.userFeed.onResync(() => this.soon()));
    this.stops.push(app.feed.onResync(() => this.soon()));
    void this.refresh();
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  free(asset: string): string {
    return this.balances.find((b) => b.asset === asset)?.free ?? "0";
  }

  soon(): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.refresh(), DEBOUNCE_MS);
  }

  async refresh(): Promise<void> {
    if (!this.app.user) return;
    try {
      const [account, open] = await Promise.all([
        get<Account>("/api/v3/account"),
        get<Order[]>("/api/v3/openOrders"),
      ]);
      if (!this.alive) return;
      this.balances = account.balances;
      this.openOrders = open.sort((a, b) => b.time - a.time);
      this.loaded = true;
      this.failed = false;
    } catch {
      if (!this.alive || !this.app.user) return; // logged out meanwhile
      this.failed = true;
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => void this.refresh(), RETRY_MS);
    }
    for (const fn of [...this.listeners]) fn();
  }

  close(): void {
    this.alive = false;
    window.clearTimeout(this.timer);
    for (const stop of this.stops) stop();
  }
}

/** A placeholder that says "loading" to a screen reader and shows a grey bar: never a false zero. */
export function skeleton(width = "6em"): HTMLSpanElement {
  return h("span", { class: "skeleton", role: "img", "aria-label": "Loading", style: `width:${width}` });
}

/** A table body row of skeletons while the first answer is awaited. */
export function skeletonRow(columns: number): HTMLTableRowElement {
  return h("tr", { class: "loading" }, ...Array.from({ length: columns }, () => h("td", {}, skeleton("4em"))));
}

/** Rows of the balances table: asset, free, locked, each in the asset's display precision;
 * skeleton rows until the user's data has loaded. */
export function balanceRows(app: App, user: UserData): HTMLTableRowElement[] {
  if (!user.loaded) return [skeletonRow(3), skeletonRow(3)];
  return user.balances.map((b) => {
    const d = app.markets.displayDecimals(b.asset);
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, b.asset),
      h("td", { class: "num" }, fmt(b.free, d)),
      h("td", { class: "num" }, fmt(b.locked, d)),
    );
  });
}
