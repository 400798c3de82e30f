/** The markets overview: last price, 24h change, volume and a 24h sparkline, live. */

import type { Page } from "../app";
import { get } from "../api";
import { approx, changePercent, fmt } from "../decimal";
import { cell, h, table } from "../dom";
import type { Market } from "../markets";
import type { Kline, Ticker24h } from "../types";

const SPARK_INTERVAL = "15m";
const SPARK_POINTS = 96; // 24 h
// A young market (fewer quarter hours than this) is drawn from its 1m candles instead.
const SPARK_MIN_POINTS = 12;
const SPARK_REFRESH_MS = 60_000;
const SVG = "http://www.w3.org/2000/svg";

interface Row {
  last: HTMLTableCellElement;
  change: HTMLTableCellElement;
  volume: HTMLTableCellElement;
  spark: SVGSVGElement;
}

function sparkline(symbol: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 100 30");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${symbol} price over 24 hours`);
  svg.classList.add("spark");
  return svg;
}

function drawSpark(svg: SVGSVGElement, closes: number[]): void {
  svg.replaceChildren();
  if (closes.length < 2) return;
  const min = Math.min(...closes);
  const max = Math.max(...closes);
  const span = max - min || 1;
  const points = closes
    .map((c, i) => `${((i / (closes.length - 1)) * 100).toFixed(2)},${(28 - ((c - min) / span) * 26).toFixed(2)}`)
    .join(" ");
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points);
  line.setAttribute("class", closes[closes.length - 1] >= closes[0] ? "up" : "down");
  svg.append(line);
}

function setChange(td: HTMLTableCellElement, percent: string): void {
  td.textContent = `${percent}%`;
  td.className = `num ${percent.startsWith("-") ? "down" : percent === "0.00" ? "" : "up"}`;
}

export const marketsPage: Page = (app, root) => {
  const { table: grid, body } = table(
    "Markets",
    ["Market", "Last price", "24h change", "24h volume", "24h"],
    [false, true, true, true, false],
  );
  const rows = new Map<string, Row>();
  const list = app.markets.list;
  for (const m of list) {
    const row: Row = {
      last: cell("–", "num"),
      change: cell("–", "num"),
      volume: cell("–", "num"),
      spark: sparkline(m.symbol),
    };
    rows.set(m.symbol, row);
    body.append(
      h(
        "tr",
        {},
        h("th", { scope: "row" }, h("a", { href: `/trade/${m.symbol}` }, `${m.base}/${m.quote}`)),
        row.last,
        row.change,
        row.volume,
        h("td", { class: "spark-cell" }, row.spark),
      ),
    );
  }
  root.append(h("h1", {}, "Markets"), h("div", { class: "card scroll markets" }, grid));

  const show = (m: Market, last: string, open: string, volume: string) => {
    const row = rows.get(m.symbol)!;
    row.last.textContent = fmt(last, m.priceDecimals);
    setChange(row.change, changePercent(last, open));
    row.volume.textContent = `${fmt(volume, m.qtyDecimals)} ${m.base}`;
  };

  let alive = true;
  const loadTickers = async () => {
    const tickers = await get<Ticker24h[]>("/api/v3/ticker/24hr").catch(() => []);
    if (!alive) return;
    for (const t of tickers) {
      const m = app.markets.get(t.symbol);
      if (m) show(m, t.lastPrice, t.openPrice, t.volume);
    }
  };
  const loadSparks = async () => {
    await Promise.all(
      list.map(async (m) => {
        const candles = (interval: string) =>
          get<Kline[]>("/api/v3/klines", { symbol: m.symbol, interval, limit: SPARK_POINTS }).catch(() => []);
        let klines = await candles(SPARK_INTERVAL);
        if (klines.length < SPARK_MIN_POINTS) klines = await candles("1m");
        if (alive) drawSpark(rows.get(m.symbol)!.spark, klines.map((k) => approx(k[4])));
      }),
    );
  };
  void loadTickers();
  void loadSparks();
  const timer = window.setInterval(() => void loadSparks(), SPARK_REFRESH_MS);
  const unsubscribe = list.map((m) =>
    app.feed.subscribe(`${m.symbol.toLowerCase()}@miniTicker`, (data) => {
      const t = data as { c: string; o: string; v: string };
      show(m, t.c, t.o, t.v);
    }),
  );
  const stopResync = app.feed.onResync(() => {
    void loadTickers();
    void loadSparks();
  });
  return () => {
    alive = false;
    window.clearInterval(timer);
    stopResync();
    for (const u of unsubscribe) u();
  };
};
