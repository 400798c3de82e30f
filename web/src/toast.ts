/**
 * Toasts: short notices in the corner (a fill of a resting order), read out politely by screen
 * readers, gone after a while or when closed.
 */

import type { App } from "./app";
import { fmt } from "./decimal";
import { h } from "./dom";

const SHOWN_MS = 10_000;

let region: HTMLElement | null = null;

export function toast(text: string, kind: "up" | "down" | "" = ""): void {
  if (!region || !region.isConnected) {
    region = h("div", { class: "toasts", role: "status", "aria-live": "polite", "aria-label": "Notifications" });
    document.body.append(region);
  }
  const close = h("button", { type: "button", class: "link", "aria-label": "Dismiss" }, "×");
  const item = h("div", { class: `toast ${kind}` }, h("span", {}, text), close);
  const remove = () => item.remove();
  close.addEventListener("click", remove);
  region.append(item);
  window.setTimeout(remove, SHOWN_MS);
}

interface Report {
  e?: string;
  s: string;
  S: string;
  x: string;
  X: string;
  l: string;
  L: string;
  m: boolean;
}

/**
 * A toast for each fill of one of the user's resting orders (a maker fill: another order took
 * it), from the user data stream; the returned function stops it.
 */
export function fillToasts(app: App): () => void {
  return app.userFeed.subscribe((data) => {
    const r = data as Report;
    if (r.e !== "executionReport" || r.x !== "TRADE" || !r.m) return;
    const market = app.markets.get(r.s);
    const qty = market ? `${fmt(r.l, market.qtyDecimals)} ${market.base}` : r.l;
    const price = market ? `${fmt(r.L, market.priceDecimals)} ${market.quote}` : r.L;
    const what = r.X === "FILLED" ? "filled" : "partly filled";
    toast(`${r.S === "BUY" ? "Buy" : "Sell"} order ${what}: ${qty} at ${price}`, r.S === "BUY" ? "up" : "down");
  });
}
