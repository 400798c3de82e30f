/** The API's terse filter failures said in words, with the market's numbers. */

import { fmt } from "../decimal";
import type { Market } from "../markets";

/** The sentence to show for an order the API refused with `message`. */
export function explainRefusal(message: string, market: Market): string {
  const price = (s: string) => `${fmt(s, market.priceDecimals)} ${market.quote}`;
  const qty = (s: string) => `${fmt(s, market.qtyDecimals)} ${market.base}`;
  switch (message) {
    case "Filter failure: NOTIONAL":
      return `Order too small: its value (price × amount) must be at least ${price(market.minNotional)}.`;
    case "Filter failure: PRICE_FILTER":
      return `Price not allowed: it must be a multiple of ${price(market.tickSize)}.`;
    case "Filter failure: LOT_SIZE":
      return `Amount not allowed: at least ${qty(market.minQty)}, in steps of ${qty(market.stepSize)}.`;
    case "Market is closed.":
      return "The market is closed: new orders are not accepted right now.";
    default:
      return message;
  }
}
