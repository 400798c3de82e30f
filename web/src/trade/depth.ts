/**
 * The depth chart: the book's cumulative amounts as steps, bids left of the spread and asks right
 * of it, one bar per shown level (the same levels and sums as the order book, grouping included).
 * Drawn in SVG: lightweight-charts has a time axis only, and a depth chart's axis is the price.
 */

import { approx, fmt } from "../decimal";
import { h } from "../dom";
import type { Market } from "../markets";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 1000;
const HEIGHT = 400;

/** A shown level with its cumulative amount from the best price (decimal strings). */
export interface DepthLevel {
  price: string;
  total: string;
}

export function depthChart(market: Market): {
  el: HTMLElement;
  draw: (bids: DepthLevel[], asks: DepthLevel[]) => void;
  /** Draws the latest levels again (when the chart is shown). */
  redraw: () => void;
} {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "depth-svg");
  svg.setAttribute("aria-hidden", "true");
  const low = h("span", {});
  const mid = h("span", {});
  const high = h("span", {});
  const top = h("span", { class: "depth-max" });
  const el = h(
    "div",
    { class: "depth", role: "img", "aria-label": "Depth chart" },
    top,
    svg,
    h("div", { class: "depth-axis" }, low, mid, high),
  );

  let latest: [DepthLevel[], DepthLevel[]] = [[], []];
  // Drawn only while shown (the latest levels are kept for when it is shown again).
  const draw = (bids: DepthLevel[], asks: DepthLevel[]) => {
    latest = [bids, asks];
    if (el.hidden || !el.isConnected) return;
    svg.replaceChildren();
    if (!bids.length || !asks.length) return;
    // Centred on the mid price, as wide as the nearer side's deepest level: a far-off order on
    // one side does not squash the other (levels beyond the edge are drawn at the edge).
    const centrePrice = (approx(bids[0].price) + approx(asks[0].price)) / 2;
    const half = Math.min(centrePrice - approx(bids[bids.length - 1].price), approx(asks[asks.length - 1].price) - centrePrice) || 1;
    const lo = centrePrice - half;
    const maxTotal = Math.max(approx(bids[bids.length - 1].total), approx(asks[asks.length - 1].total)) || 1;
    const x = (price: string) => Math.max(0, Math.min(WIDTH, ((approx(price) - lo) / (2 * half)) * WIDTH));
    const centre = (x(bids[0].price) + x(asks[0].price)) / 2;
    const side = (levels: DepthLevel[], kind: "bid" | "ask") => {
      levels.forEach((level, i) => {
        const here = x(level.price);
        const inner = i === 0 ? centre : x(levels[i - 1].price);
        const next = levels[i + 1];
        // Each bar runs from this level's price to the next level out (the last one: to the edge).
        const outer = next ? x(next.price) : kind === "bid" ? 0 : WIDTH;
        const [from, to] = kind === "bid" ? [outer, i === 0 ? inner : here] : [i === 0 ? inner : here, outer];
        const height = (approx(level.total) / maxTotal) * (HEIGHT - 10);
        const rect = document.createElementNS(SVG, "rect");
        rect.setAttribute("x", String(Math.min(from, to)));
        rect.setAttribute("width", String(Math.max(0.5, Math.abs(to - from))));
        rect.setAttribute("y", String(HEIGHT - height));
        rect.setAttribute("height", String(height));
        rect.setAttribute("class", kind);
        rect.dataset.price = level.price;
        rect.dataset.total = level.total;
        svg.append(rect);
      });
    };
    side(bids, "bid");
    side(asks, "ask");
    const p = (s: string) => fmt(s, market.priceDecimals);
    const edge = (price: number) => fmt(price.toFixed(market.priceDecimals), market.priceDecimals);
    low.textContent = edge(lo);
    mid.textContent = `${p(bids[0].price)} – ${p(asks[0].price)}`;
    high.textContent = edge(lo + 2 * half);
    const deepest = approx(bids[bids.length - 1].total) >= approx(asks[asks.length - 1].total) ? bids : asks;
    top.textContent = `${fmt(deepest[deepest.length - 1].total, market.qtyDecimals)} ${market.base}`;
    el.setAttribute(
      "aria-label",
      `Depth chart: ${fmt(bids[bids.length - 1].total, market.qtyDecimals)} ${market.base} bid down to ${p(bids[bids.length - 1].price)}, ` +
        `${fmt(asks[asks.length - 1].total, market.qtyDecimals)} ${market.base} asked up to ${p(asks[asks.length - 1].price)}`,
    );
  };
  return { el, draw, redraw: () => draw(...latest) };
}
