/**
 * The candlestick chart (lightweight-charts): REST klines, then the kline stream, per interval;
 * stream updates are applied at most once per animation frame.
 */

import {
  CandlestickSeries,
  ColorType,
  createChart,
  HistogramSeries,
  LineSeries,
  type CandlestickData,
  type LineData,
  type HistogramData,
  type IChartApi,
  type UTCTimestamp,
} from "lightweight-charts";
import type { App } from "../app";
import { get } from "../api";
import { minuteTime, tickLabel } from "../clock";
import { approx, fmt, group } from "../decimal";
import { h } from "../dom";
import { perFrame } from "../frame";
import type { Market } from "../markets";
import type { Kline } from "../types";
import { themeColor } from "../theme";
import { panelHealth } from "./health";
import { ema, sma } from "./indicators";

const MA_N = 20;
const EMA_N = 50;
const VOLUME_MA_N = 20;

export const INTERVALS = ["1m", "5m", "15m", "1h", "4h", "1d"];

interface Candle {
  t: number;
  o: string;
  h: string;
  l: string;
  c: string;
  v: string;
}

/** The chart panel: candles, or (the "Depth" view) the given depth chart. */
export function chartPanel(
  app: App,
  market: Market,
  depth: { el: HTMLElement; redraw: () => void },
): { el: HTMLElement; close: () => void } {
  // The canvas is for the eye; the legend says in words the hovered candle, else the last one.
  const box = h("div", { class: "chart-box", "aria-hidden": "true" });
  const legend = h("div", { class: "legend", role: "status", "aria-label": "Candle" });
  const buttons = INTERVALS.map((i) =>
    h("button", { type: "button", class: "chip", "aria-pressed": "false", onclick: () => void show(i) }, i),
  );
  const toolbar = h("div", { role: "group", "aria-label": "Chart interval", class: "toolbar" }, ...buttons);
  const views = ["Price", "Depth"].map((name) =>
    h("button", { type: "button", class: "chip", "aria-pressed": String(name === "Price"), onclick: () => view(name) }, name),
  );
  const view = (name: string) => {
    views.forEach((b) => b.setAttribute("aria-pressed", String(b.textContent === name)));
    box.hidden = name !== "Price";
    toolbar.hidden = name !== "Price";
    legend.hidden = name !== "Price";
    depth.el.hidden = name === "Price";
    if (name === "Depth") depth.redraw();
  };
  depth.el.hidden = true;
  const el = h(
    "section",
    { class: "card chart", "aria-label": "Price chart" },
    h("div", { class: "chart-head" }, h("div", { role: "group", "aria-label": "Chart view", class: "toolbar" }, ...views), toolbar, legend),
    box,
    depth.el,
  );

  const UP = themeColor("--up");
  const DOWN = themeColor("--down");
  const line = themeColor("--line");
  const chart: IChartApi = createChart(box, {
    autoSize: true,
    layout: { background: { type: ColorType.Solid, color: "transparent" }, textColor: themeColor("--muted"), attributionLogo: false },
    grid: { vertLines: { color: line }, horzLines: { color: line } },
    // The page's time zone on the axis and the crosshair label; prices grouped like the rest of the page.
    localization: {
      timeFormatter: (t: number) => minuteTime(t * 1000),
      priceFormatter: (p: number) => group(p.toFixed(market.priceDecimals)),
    },
    // Labels whole or not at all: a price label at the chart's top or bottom is hidden; the time
    // labels by the newest candle are moved inside (the library aligns labels at a fixed edge
    // only; fixing the left edge too would stretch a short history across the whole width).
    rightPriceScale: { borderColor: line, minimumWidth: 84, entireTextOnly: true },
    timeScale: {
      borderColor: line,
      fixRightEdge: true,
      timeVisible: true,
      secondsVisible: false,
      tickMarkFormatter: (t: number, kind: number) => tickLabel(t * 1000, kind),
    },
    crosshair: { mode: 0 },
  });
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: UP,
    downColor: DOWN,
    borderVisible: false,
    wickUpColor: UP,
    wickDownColor: DOWN,
    priceFormat: { type: "price", precision: market.priceDecimals, minMove: approx(market.tickSize) },
  });
  const volume = chart.addSeries(HistogramSeries, {
    priceFormat: { type: "volume" },
    priceScaleId: "",
    lastValueVisible: false,
    priceLineVisible: false,
  });
  volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });

  let interval = "";
  let lastTime = 0;
  let unsubscribe: () => void = () => {};
  let loadId = 0;

  const bar = (k: Candle): CandlestickData => ({
    time: (k.t / 1000) as UTCTimestamp,
    open: approx(k.o),
    high: approx(k.h),
    low: approx(k.l),
    close: approx(k.c),
  });
  const vol = (k: Candle): HistogramData => ({
    time: (k.t / 1000) as UTCTimestamp,
    value: approx(k.v),
    color: (approx(k.c) >= approx(k.o) ? UP : DOWN) + "59", // 35% opaque
  });
  // MA and EMA of the closes on the candles, the volume's MA on the volume bars.
  const lineSeries = (color: string, priceScaleId?: string) =>
    chart.addSeries(LineSeries, {
      color,
      lineWidth: 1,
      priceLineVisible: false,
      lastValueVisible: false,
      crosshairMarkerVisible: false,
      ...(priceScaleId === undefined ? {} : { priceScaleId }),
    });
  const maLine = lineSeries(themeColor("--warn"));
  const emaLine = lineSeries(themeColor("--accent"));
  const volumeMaLine = lineSeries(themeColor("--muted"), "");
  const byTime = new Map<number, Candle>();
  const averages = new Map<number, { ma?: number; ema: number }>();
  const drawAverages = (whole: boolean) => {
    const list = [...byTime.values()].sort((a, b) => a.t - b.t);
    const closes = list.map((k) => approx(k.c));
    const ma = sma(closes, MA_N);
    const em = ema(closes, EMA_N);
    const vma = sma(list.map((k) => approx(k.v)), VOLUME_MA_N);
    list.forEach((k, i) => averages.set(k.t, { ma: ma[i], ema: em[i] }));
    const points = (values: (number | undefined)[]): LineData[] =>
      list.flatMap((k, i) => (values[i] === undefined ? [] : [{ time: (k.t / 1000) as UTCTimestamp, value: values[i] }]));
    if (whole) {
      maLine.setData(points(ma));
      emaLine.setData(points(em));
      volumeMaLine.setData(points(vma));
      return;
    }
    const last = list.length - 1;
    const time = (list[last].t / 1000) as UTCTimestamp;
    if (ma[last] !== undefined) maLine.update({ time, value: ma[last] });
    emaLine.update({ time, value: em[last] });
    const v = vma[last];
    if (v !== undefined) volumeMaLine.update({ time, value: v });
  };
  const showLegend = (k: Candle) => {
    const p = (s: string) => fmt(s, market.priceDecimals);
    const avg = averages.get(k.t);
    const a = (x: number | undefined) => (x === undefined ? "–" : group(x.toFixed(market.priceDecimals)));
    legend.textContent =
      `${minuteTime(k.t)}  O ${p(k.o)}  H ${p(k.h)}  L ${p(k.l)}  C ${p(k.c)}  V ${fmt(k.v, market.qtyDecimals)}` +
      `  MA(${MA_N}) ${a(avg?.ma)}  EMA(${EMA_N}) ${a(avg?.ema)}`;
  };
  let hovered: Candle | undefined;
  const apply = (k: Candle) => {
    if (k.t < lastTime) return; // an update older than the shown candle (lightweight-charts refuses it)
    lastTime = k.t;
    byTime.set(k.t, k);
    candles.update(bar(k));
    volume.update(vol(k));
    drawAverages(false);
    if (!hovered || hovered.t === k.t) showLegend(k);
  };
  // Kline updates arriving between two animation frames are applied together in the next one
  // (the latest of each candle, oldest candle first).
  const queued = new Map<number, Candle>();
  const applying = perFrame(() => {
    const list = [...queued.values()].sort((a, b) => a.t - b.t);
    queued.clear();
    for (const k of list) apply(k);
  });
  chart.subscribeCrosshairMove((param) => {
    hovered = param.time === undefined ? undefined : byTime.get((param.time as number) * 1000);
    const shown = hovered ?? byTime.get(lastTime);
    if (shown) showLegend(shown);
  });

  const health = panelHealth(app, el, "The chart");
  const load = async () => {
    const id = ++loadId;
    const rows = await get<Kline[]>("/api/v3/klines", { symbol: market.symbol, interval, limit: 500 }).catch(() => null);
    if (id !== loadId) return true; // superseded by a later load
    if (rows === null) return false;
    const list = rows.map((r) => ({ t: r[0], o: r[1], h: r[2], l: r[3], c: r[4], v: r[5] }));
    byTime.clear();
    for (const k of list) byTime.set(k.t, k);
    candles.setData(list.map(bar));
    volume.setData(list.map(vol));
    drawAverages(true);
    lastTime = list.length ? list[list.length - 1].t : 0;
    if (list.length) showLegend(list[list.length - 1]);
    return true;
  };

  const show = async (next: string) => {
    if (next === interval) return;
    interval = next;
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.textContent === next)));
    unsubscribe();
    queued.clear();
    const pending: Candle[] = [];
    let loaded = false;
    unsubscribe = app.feed.subscribe(`${market.symbol.toLowerCase()}@kline_${next}`, (data) => {
      const k = (data as { k: Candle & { i: string } }).k;
      if (k.i !== interval) return;
      if (loaded) {
        queued.set(k.t, k);
        applying.schedule();
      } else pending.push(k);
    });
    const ok = await load();
    loaded = true;
    for (const k of pending) apply(k);
    chart.timeScale().scrollToRealTime();
    if (!ok) health.load(load);
  };

  const stopResync = app.feed.onResync(() => health.load(load));
  void show("1m");
  return {
    el,
    close: () => {
      loadId++;
      applying.cancel();
      health.close();
      unsubscribe();
      stopResync();
      chart.remove();
    },
  };
}
