/**
 * Recent trades of a market: REST `/trades` at start and resync, then the `@trade` stream. Trades
 * arriving between two animation frames are added together in the next one (newest first); the
 * table keeps the newest SHOWN rows, reusing the rows of trades still shown.
 */

import type { App } from "../app";
import { get } from "../api";
import { clockTime as clock } from "../clock";
import { fmt } from "../decimal";
import { h, table } from "../dom";
import { perFrame } from "../frame";
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
  let newest = -1; // the id of the newest trade shown or waiting
  let waiting: Trade[] = []; // arrived since the last frame, oldest first
  const row = (t: Trade) =>
    h(
      "tr",
      {},
      h("td", { class: `num ${t.isBuyerMaker ? "down" : "up"}` }, fmt(t.price, market.priceDecimals)),
      h("td", { class: "num" }, fmt(t.qty, market.qtyDecimals)),
      h("td", { class: "num muted" }, clock(t.time)),
    );
  const drawing = perFrame(() => {
    // Only the newest SHOWN of those waiting are made into rows; the oldest rows make room.
    const fresh = waiting.slice(-SHOWN).reverse();
    waiting = [];
    grid.body.prepend(...fresh.map(row));
    while (grid.body.childElementCount > SHOWN) grid.body.lastElementChild?.remove();
  });
  const add = (t: Trade) => {
    if (t.id <= newest) return;
    newest = t.id;
    waiting.push(t);
    drawing.schedule();
  };
  let alive = true;
  const health = panelHealth(app, el, "Recent trades");
  const load = async () => {
    const list = await get<Trade[]>("/api/v3/trades", { symbol: market.symbol, limit: SHOWN }).catch(() => null);
    if (!alive || !list) return list !== null;
    const latest = list.length ? list[list.length - 1].id : -1;
    waiting = waiting.filter((t) => t.id > latest); // streamed while it was fetched
    newest = Math.max(newest, latest);
    grid.body.replaceChildren(...list.reverse().map(row));
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
      drawing.cancel();
      unsubscribe();
      stopResync();
    },
  };
}
