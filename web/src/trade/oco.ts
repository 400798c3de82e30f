/**
 * The order form's OCO mode, as Binance's trade page has it: one quantity, a limit (post-only)
 * price on the profit side and a stop price with its stop-limit price on the loss side. A SELL's
 * limit is above its stop (take the profit up, stop the loss down), a BUY's below. Sent as
 * `POST /api/v3/orderList/oco` with above/below members; Binance's web form sends the same pair.
 */

import { fmt, isDecimal, toUnits } from "../decimal";
import type { Market } from "../markets";
import type { OrderList } from "../types";

/** The order-type choice that puts the form in OCO mode (not an API order type). */
export const OCO = "OCO";

export interface OcoPrices {
  limit: string;
  stop: string;
  stopLimit: string;
}

/**
 * The parameters of `POST /api/v3/orderList/oco` for the form's values, or the sentence saying
 * what to correct (checked before sending: the API would refuse the same).
 */
export function ocoParams(
  market: Market,
  side: "BUY" | "SELL",
  quantity: string,
  prices: OcoPrices,
): Record<string, string> | string {
  const q = market.quote;
  if (!isDecimal(quantity)) return `Enter an amount in ${market.base}.`;
  if (!isDecimal(prices.limit)) return `Enter a limit price in ${q}.`;
  if (!isDecimal(prices.stop)) return `Enter a stop price in ${q}.`;
  if (!isDecimal(prices.stopLimit)) return `Enter a stop-limit price in ${q}.`;
  const units = (s: string) => toUnits(s, market.quoteDecimals);
  const limit = units(prices.limit);
  const stop = units(prices.stop);
  if (side === "SELL" && limit <= stop) return "For a sell OCO, the limit price must be above the stop price.";
  if (side === "BUY" && limit >= stop) return "For a buy OCO, the limit price must be below the stop price.";
  // The limit member is the profit side: above the market for a SELL, below for a BUY.
  const [maker, stopper] = side === "SELL" ? ["above", "below"] : ["below", "above"];
  return {
    symbol: market.symbol,
    side,
    quantity,
    [`${maker}Type`]: "LIMIT_MAKER",
    [`${maker}Price`]: prices.limit,
    [`${stopper}Type`]: "STOP_LOSS_LIMIT",
    [`${stopper}StopPrice`]: prices.stop,
    [`${stopper}Price`]: prices.stopLimit,
    [`${stopper}TimeInForce`]: "GTC",
  };
}

/** The sentence the form shows once the list is placed. */
export function ocoPlaced(list: OrderList, market: Market, side: "BUY" | "SELL", quantity: string, prices: OcoPrices): string {
  const p = (s: string) => fmt(s, market.priceDecimals);
  return (
    `OCO placed (list ${list.orderListId}): ${side.toLowerCase()} ${fmt(quantity, market.qtyDecimals)} ${market.base}, ` +
    `limit ${p(prices.limit)}, stop ${p(prices.stop)} (limit ${p(prices.stopLimit)}).`
  );
}
