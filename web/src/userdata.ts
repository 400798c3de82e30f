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

export class UserData {
  balances: Balance[] = [];
  openOrders: Order[] = [];
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
    } catch {
      return; // logged out meanwhile, or a dropped connection: the next event or resync retries
    }
    for (const fn of [...this.listeners]) fn();
  }

  close(): void {
    this.alive = false;
    window.clearTimeout(this.timer);
    for (const stop of this.stops) stop();
  }
}

/** Rows of the balances table: asset, free, locked, in each asset's precision. */
export function balanceRows(app: App, balances: Balance[]): HTMLTableRowElement[] {
  return balances.map((b) => {
    const d = app.markets.assetDecimals(b.asset);
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, b.asset),
      h("td", { class: "num" }, fmt(b.free, d)),
      h("td", { class: "num" }, fmt(b.locked, d)),
    );
  });
}
