/**
 * The order book: asks above, bids below, each level with a bar for the cumulative amount; a click
 * on a level puts its price into the order form. Partial-depth snapshots (`@depth20@100ms`) keep
 * it current, drawn at most once per animation frame; REST `/depth` fills it at start and resync.
 */

import type { App } from "../app";
import { get } from "../api";
import { fmt, fromUnits, group, toUnits } from "../decimal";
import { h } from "../dom";
import type { Market } from "../markets";
import type { Depth } from "../types";
import { skeleton } from "../userdata";
import type { DepthLevel } from "./depth";
import { groupLevels, groupSizes } from "./grouping";
import { panelHealth } from "./health";

export const BOOK_LEVELS = 20;

function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

type Level = [string, string];

interface LevelRow {
  button: HTMLButtonElement;
  price: HTMLSpanElement;
  qty: HTMLSpanElement;
  total: HTMLSpanElement;
}

function levelRows(side: "bid" | "ask", base: string, pick: (price: string) => void): LevelRow[] {
  // The name read out is the text shown, with words around it: "Bid 64,967.50 0.00124 BTC, total 0.00124".
  const said = (text: string) => h("span", { class: "sr-only" }, text);
  return Array.from({ length: BOOK_LEVELS }, () => {
    const price = h("span", {});
    const qty = h("span", {});
    const total = h("span", { class: "num" });
    // Not a tab stop each: the book is one stop (the best bid), arrows move within it.
    const button = h(
      "button",
      { type: "button", class: `level ${side} empty`, tabindex: -1 },
      said(side === "bid" ? "Bid " : "Ask "),
      h("span", { class: "price" }, price),
      h("span", { class: "num" }, qty, said(` ${base}, total `)),
      total,
    );
    button.addEventListener("click", () => pick(button.dataset.price ?? ""));
    return { button, price, qty, total };
  });
}

export function orderBook(
  app: App,
  market: Market,
  pick: (price: string) => void,
): {
  el: HTMLElement;
  close: () => void;
  bestAsk: () => string;
  bestBid: () => string;
  /** Told the shown levels with their cumulative amounts after each drawing (the depth chart). */
  onLevels: (fn: (bids: DepthLevel[], asks: DepthLevel[]) => void) => void;
} {
  const asks = levelRows("ask", market.base, pick);
  const bids = levelRows("bid", market.base, pick);
  // The mid row: the last price, coloured by its direction, and the spread in price and percent.
  const lastPrice = h("span", { class: "last num", "aria-label": "Last price" }, skeleton("6em"));
  const spreadText = h("span", { class: "spread-text" });
  const spread = h("div", { class: "spread" }, lastPrice, spreadText);
  const sizes = groupSizes(market.tickSize, market.priceDecimals);
  let size = sizes[0];
  const grouping = h(
    "select",
    {
      "aria-label": "Price grouping",
      class: "grouping",
      onchange: (e: Event) => {
        size = (e.target as HTMLSelectElement).value;
        draw();
      },
    },
    ...sizes.map((s) => h("option", { value: s }, s)),
  );
  const el = h(
    "section",
    { class: "card book", "aria-labelledby": "book-h" },
    h("div", { class: "book-title" }, h("h2", { id: "book-h" }, "Order book"), grouping),
    h(
      "div",
      { class: "book-head", "aria-hidden": "true" },
      h("span", {}, `Price (${market.quote})`),
      h("span", { class: "num" }, `Amount (${market.base})`),
      h("span", { class: "num" }, "Total"),
    ),
    h("div", { class: "asks", role: "group", "aria-label": "Asks" }, ...[...asks].reverse().map((r) => r.button)),
    spread,
    h("div", { class: "bids", role: "group", "aria-label": "Bids" }, ...bids.map((r) => r.button)),
  );

  // Up and Down move the focus between the shown levels, top to bottom as they appear.
  const ordered = () => [...[...asks].reverse(), ...bids].map((r) => r.button).filter((b) => !b.classList.contains("empty"));
  el.addEventListener("keydown", (event: KeyboardEvent) => {
    const step = event.key === "ArrowDown" ? 1 : event.key === "ArrowUp" ? -1 : 0;
    const list = ordered();
    const at = list.indexOf(document.activeElement as HTMLButtonElement);
    if (!step || at < 0) return;
    event.preventDefault();
    list[Math.max(0, Math.min(list.length - 1, at + step))].focus();
  });
  const rove = () => {
    const entry = bids.find((r) => !r.button.classList.contains("empty")) ?? asks.find((r) => !r.button.classList.contains("empty"));
    for (const r of [...asks, ...bids]) r.button.tabIndex = r === entry ? 0 : -1;
  };

  let book: { bids: Level[]; asks: Level[] } = { bids: [], asks: [] };
  let frame = 0;

  const qd = market.qtyDecimals;
  const units = (qty: string) => toUnits(qty, qd);
  const drawSide = (rows: LevelRow[], levels: Level[], max: bigint): DepthLevel[] => {
    let cumulative = 0n;
    const shown: DepthLevel[] = [];
    rows.forEach((row, i) => {
      const level = levels[i];
      if (!level) {
        row.button.classList.add("empty"); // keeps its place: the page does not jump
        return;
      }
      cumulative += units(level[1]);
      shown.push({ price: level[0], total: fromUnits(cumulative, qd) });
      // Only what changed is written: most levels stay the same from one snapshot to the next.
      row.button.classList.remove("empty");
      row.button.dataset.price = fmt(level[0], market.priceDecimals, false);
      setText(row.price, fmt(level[0], market.priceDecimals));
      setText(row.qty, fmt(level[1], market.qtyDecimals));
      setText(row.total, group(fromUnits(cumulative, qd)));
      const depth = `${Number((cumulative * 1000n) / max) / 10}%`;
      if (row.button.style.getPropertyValue("--depth") !== depth) row.button.style.setProperty("--depth", depth);
    });
    return shown;
  };
  const levelListeners = new Set<(bids: DepthLevel[], asks: DepthLevel[]) => void>();

  const draw = () => {
    frame = 0;
    const sum = (levels: Level[]) => levels.reduce((acc, l) => acc + units(l[1]), 0n);
    const bidLevels = groupLevels(book.bids, size, "bid", market.priceDecimals, qd);
    const askLevels = groupLevels(book.asks, size, "ask", market.priceDecimals, qd);
    const bidSum = sum(bidLevels);
    const askSum = sum(askLevels);
    const max = (bidSum > askSum ? bidSum : askSum) || 1n;
    const shownAsks = drawSide(asks, askLevels, max);
    const shownBids = drawSide(bids, bidLevels, max);
    for (const fn of levelListeners) fn(shownBids, shownAsks);
    if (!el.contains(document.activeElement)) rove();
    const bid = book.bids[0]?.[0];
    const ask = book.asks[0]?.[0];
    const pd = market.priceDecimals;
    if (bid && ask) {
      const gap = toUnits(ask, pd) - toUnits(bid, pd);
      const mid2 = toUnits(ask, pd) + toUnits(bid, pd); // twice the mid price
      const pct = mid2 > 0n ? fromUnits((gap * 2n * 100_000n) / mid2, 3) : "0.000"; // gap / mid, in %
      spreadText.textContent = `Spread ${group(fromUnits(gap, pd))} (${pct}%)`;
    } else {
      spreadText.textContent = "No spread: one side is empty";
    }
  };
  const set = (depth: { bids: Level[]; asks: Level[] }) => {
    book = { bids: depth.bids.slice(0, BOOK_LEVELS), asks: depth.asks.slice(0, BOOK_LEVELS) };
    if (!frame) frame = requestAnimationFrame(draw);
  };

  let alive = true;
  const health = panelHealth(app, el, "The order book");
  const load = async () => {
    const depth = await get<Depth>("/api/v3/depth", { symbol: market.symbol, limit: BOOK_LEVELS }).catch(() => null);
    if (alive && depth) set(depth);
    return depth !== null;
  };
  let last = "";
  const stopLast = app.feed.subscribe(`${market.symbol.toLowerCase()}@miniTicker`, (data) => {
    const c = (data as { c: string }).c;
    if (c === last) return;
    const pd = market.priceDecimals;
    const direction = last === "" ? "" : toUnits(c, pd) > toUnits(last, pd) ? "up" : toUnits(c, pd) < toUnits(last, pd) ? "down" : "";
    if (direction) lastPrice.className = `last num ${direction}`;
    const arrow = lastPrice.classList.contains("down") ? " ↓" : lastPrice.classList.contains("up") ? " ↑" : "";
    lastPrice.textContent = fmt(c, pd) + arrow;
    last = c;
  });
  const unsubscribe = app.feed.subscribe(`${market.symbol.toLowerCase()}@depth${BOOK_LEVELS}@100ms`, (data) =>
    set(data as Depth),
  );
  const stopResync = app.feed.onResync(() => health.load(load));
  health.load(load);
  return {
    el,
    onLevels: (fn) => void levelListeners.add(fn),
    bestAsk: () => book.asks[0]?.[0] ?? "",
    bestBid: () => book.bids[0]?.[0] ?? "",
    close: () => {
      alive = false;
      health.close();
      cancelAnimationFrame(frame);
      stopLast();
      unsubscribe();
      stopResync();
    },
  };
}
