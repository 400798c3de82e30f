/**
 * Order book price grouping: levels merged into buckets of a multiple of the tick, bids rounded
 * down and asks up (a bucket never shows a better price than its orders), amounts summed exactly.
 */

import { decimalsOf, fromUnits, toUnits } from "../decimal";

export type Level = [string, string];

/** The grouping sizes offered: the tick times 1 to 10,000, as decimal strings. */
export function groupSizes(tickSize: string, priceDecimals: number): string[] {
  const tick = toUnits(tickSize, priceDecimals);
  return [1n, 10n, 100n, 1000n, 10000n].map((k) => trimZeros(fromUnits(tick * k, priceDecimals)));
}

function trimZeros(text: string): string {
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

/**
 * `levels` (best first) merged into buckets of `size`; prices keep `priceDecimals` digits (at
 * least the size's), amounts are exact sums in units of 10^-qtyDecimals.
 */
export function groupLevels(levels: Level[], size: string, side: "bid" | "ask", priceDecimals: number, qtyDecimals: number): Level[] {
  const pd = Math.max(priceDecimals, decimalsOf(size));
  const step = toUnits(size, pd);
  const out: [bigint, bigint][] = [];
  for (const [price, qty] of levels) {
    const p = toUnits(price, pd);
    const floor = (p / step) * step;
    const bucket = side === "bid" || floor === p ? floor : floor + step;
    const last = out[out.length - 1];
    const q = toUnits(qty, qtyDecimals);
    if (last && last[0] === bucket) last[1] += q;
    else out.push([bucket, q]);
  }
  return out.map(([p, q]) => [fromUnits(p, pd), fromUnits(q, qtyDecimals)]);
}
