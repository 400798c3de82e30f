/** Recent trades of a market: REST `/trades` at start and resync, then the `@trade` stream. */

import type { App } from "../app";
import { get } from "../api";
import { clockTime as clock } from "../clock";
import { fmt } from "../decimal";
import { h, table } from "../dom";
import type { Market } from "../markets";
import type { Trade } from "../types";
import { panelHealth } from "./health";

const SHOWN = 40;

export function recentTrades(app: App, market: Market): { el: HTMLElement; close: () => void } {
  const grid = table("Recent trades", [`Price (${market.quote})`, `Amount (${market.base})`, "Time"], [true, true, true]);
  const el = h(
    "section",
    { class: "card trades", "aria-labelledby": "trades-h" },
    h("h2", { id: "trades-h" }, "Recent trades"),
    h("div", { class: "scroll", tabindex: 0 }, grid.table), // focusable: it scrolls by keyboard too
  );
  let trades: Trade[] = [];
  const row = (t: Trade) =>
    h(
      "tr",
      {},
      h("td", { class: `num ${t.isBuyerMaker ? "down" : "up"}` }, fmt(t.price, market.priceDecimals)),
      h("td", { class: "num" }, fmt(t.qty, market.qtyDecimals)),
      h("td", { class: "num muted" }, clock(t.time)),
    );
  const add = (t: Trade) => {
    if (trades.length && t.id <= trades[0].id) return;
    trades.unshift(t);
    grid.body.prepend(row(t));
    while (trades.length > SHOWN) {
      trades.pop();
      grid.body.lastElementChild?.remove();
    }
  };
  let alive = true;
  const health = panelHealth(app, el, "Recent trades");
  const load = async () => {
    const list = await get<Trade[]>("/api/v3/trades", { symbol: market.symbol, limit: SHOWN }).catch(() => null);
    if (!alive || !list) return list !== null;
    trades = list.reverse();
    grid.body.replaceChildren(...trades.map(row));
    return true;
  };
  const unsubscribe = app.feed.subscribe(`${market.symbol.toLowerCase()}@trade`, (data) => {
    const t = data as { t: number; p: string; q: string; T: number; m: boolean };
    add({ id: t.t, price: t.p, qty: t.q, time: t.T, isBuyerMaker: t.m });
  });
  const stopResync = app.feed.onResync(() => health.load(load));
  health.load(load);
  return {
    el,
    close: () => {
      alive = false;
      health.close();
      unsubscribe();
      stopResync();
    },
  };
}
