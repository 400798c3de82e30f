/**
 * The order book: asks above, bids below, each level with a bar for the cumulative amount; a click
 * on a level puts its price into the order form. Partial-depth snapshots (`@depth20@100ms`) keep
 * it current, drawn at most once per animation frame (an unchanged snapshot is not drawn again);
 * REST `/depth` fills it at start and resync. The rows are made once and reused: a drawing writes
 * only the texts and bars that changed. The side's rows that do not fit the panel whole are hidden
 * (measured when the panel is resized, never while drawing), so the book ends on whole rows.
 */

import type { App } from "../app";
import { get } from "../api";
import { fmt, fromUnits, group, toUnits } from "../decimal";
import { h } from "../dom";
import { perFrame, setClass, setText } from "../frame";
import type { Market } from "../markets";
import type { Depth } from "../types";
import { skeleton } from "../userdata";
import type { DepthLevel } from "./depth";
import { groupLevels, groupSizes } from "./grouping";
import { panelHealth } from "./health";

export const BOOK_LEVELS = 20;

type Level = [string, string];

function sameLevels(a: Level[], b: Level[]): boolean {
  return a.length === b.length && a.every((level, i) => level[0] === b[i][0] && level[1] === b[i][1]);
}

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
        draw(); // at once: the user's choice is shown without waiting for the feed
      },
    },
    ...sizes.map((s) => h("option", { value: s }, s)),
  );
  const asksBox = h("div", { class: "asks", role: "group", "aria-label": "Asks" }, ...[...asks].reverse().map((r) => r.button));
  const bidsBox = h("div", { class: "bids", role: "group", "aria-label": "Bids" }, ...bids.map((r) => r.button));
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
    asksBox,
    spread,
    bidsBox,
  );

  // Up and Down move the focus between the shown levels, top to bottom as they appear.
  const shown = (b: HTMLButtonElement) => !b.classList.contains("empty") && !b.classList.contains("cut");
  const ordered = () => [...[...asks].reverse(), ...bids].map((r) => r.button).filter(shown);
  el.addEventListener("keydown", (event: KeyboardEvent) => {
    const step = event.key === "ArrowDown" ? 1 : event.key === "ArrowUp" ? -1 : 0;
    const list = ordered();
    const at = list.indexOf(document.activeElement as HTMLButtonElement);
    if (!step || at < 0) return;
    event.preventDefault();
    list[Math.max(0, Math.min(list.length - 1, at + step))].focus();
  });
  const rove = () => {
    const entry = bids.find((r) => shown(r.button)) ?? asks.find((r) => shown(r.button));
    for (const r of [...asks, ...bids]) r.button.tabIndex = r === entry ? 0 : -1;
  };

  // Whole rows only: a side shows the rows that fit its box entirely (best first); the rest are
  // hidden, keeping their place. Measured after layout (ResizeObserver), when the box changes.
  const fit = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const rows = entry.target === asksBox ? asks : bids;
      const pitch = Math.abs(rows[1].button.offsetTop - rows[0].button.offsetTop);
      if (!pitch) continue; // not laid out (hidden)
      const fits = Math.floor((entry.contentRect.height + 0.5) / pitch);
      rows.forEach((r, i) => r.button.classList.toggle("cut", i >= fits));
    }
    if (!el.contains(document.activeElement)) rove();
  });
  fit.observe(asksBox);
  fit.observe(bidsBox);

  let book: { bids: Level[]; asks: Level[] } = { bids: [], asks: [] };
  let lastUpdateId = -1;
  let received = false; // whether any book came (the first is drawn even if empty: "No spread")

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
      setText(spreadText, `Spread ${group(fromUnits(gap, pd))} (${pct}%)`);
    } else {
      setText(spreadText, "No spread: one side is empty");
    }
  };
  const drawing = perFrame(draw);
  const set = (depth: Depth) => {
    if (depth.lastUpdateId === lastUpdateId) return; // the same book again: nothing to draw
    lastUpdateId = depth.lastUpdateId;
    const next = { bids: depth.bids.slice(0, BOOK_LEVELS), asks: depth.asks.slice(0, BOOK_LEVELS) };
    // A change deeper than the shown levels leaves them as they are: nothing to draw.
    if (received && sameLevels(next.bids, book.bids) && sameLevels(next.asks, book.asks)) return;
    book = next;
    received = true;
    drawing.schedule();
  };

  let alive = true;
  const health = panelHealth(app, el, "The order book");
  const load = async () => {
    const depth = await get<Depth>("/api/v3/depth", { symbol: market.symbol, limit: BOOK_LEVELS }).catch(() => null);
    if (alive && depth) set(depth);
    return depth !== null;
  };
  // The last price and its direction: kept as the ticker arrives, shown once per frame.
  let last = "";
  let direction = "";
  const lastDrawing = perFrame(() => {
    const arrow = direction === "down" ? " ↓" : direction === "up" ? " ↑" : "";
    setClass(lastPrice, direction ? `last num ${direction}` : "last num");
    setText(lastPrice, fmt(last, market.priceDecimals) + arrow);
  });
  const stopLast = app.feed.subscribe(`${market.symbol.toLowerCase()}@miniTicker`, (data) => {
    const c = (data as { c: string }).c;
    if (c === last) return;
    const pd = market.priceDecimals;
    if (last !== "") direction = toUnits(c, pd) > toUnits(last, pd) ? "up" : "down";
    last = c;
    lastDrawing.schedule();
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
      fit.disconnect();
      drawing.cancel();
      lastDrawing.cancel();
      stopLast();
      unsubscribe();
      stopResync();
    },
  };
}
