/** The markets of exchangeInfo with what the page needs to format and check numbers. */

import { get } from "./api";
import { decimalsOf, toUnits } from "./decimal";
import type { SymbolInfo } from "./types";

export interface Market {
  symbol: string;
  base: string;
  quote: string;
  /** Digits shown for prices (the tick size's) and amounts (the step size's). */
  priceDecimals: number;
  qtyDecimals: number;
  /** Each asset's precision: the unit of balances. */
  baseDecimals: number;
  quoteDecimals: number;
  tickSize: string;
  stepSize: string;
  minQty: string;
  minNotional: string;
  orderTypes: string[];
  /** One-cancels-the-other lists (`POST /api/v3/orderList/oco`) and amend keeping priority. */
  ocoAllowed: boolean;
  amendAllowed: boolean;
}

export function marketOf(info: SymbolInfo): Market {
  const filter = (type: string) => info.filters.find((f) => f.filterType === type);
  const tickSize = filter("PRICE_FILTER")?.tickSize ?? "0.01";
  const stepSize = filter("LOT_SIZE")?.stepSize ?? "0.00000001";
  return {
    symbol: info.symbol,
    base: info.baseAsset,
    quote: info.quoteAsset,
    priceDecimals: decimalsOf(tickSize),
    qtyDecimals: decimalsOf(stepSize),
    baseDecimals: info.baseAssetPrecision,
    quoteDecimals: info.quoteAssetPrecision,
    tickSize,
    stepSize,
    minQty: filter("LOT_SIZE")?.minQty ?? stepSize,
    minNotional: filter("NOTIONAL")?.minNotional ?? "0",
    orderTypes: info.orderTypes,
    ocoAllowed: info.ocoAllowed === true,
    amendAllowed: info.amendAllowed === true,
  };
}

/** Step and tick as units of the asset precision. */
export function stepUnits(m: Market): bigint {
  return toUnits(m.stepSize, m.baseDecimals);
}

export function tickUnits(m: Market): bigint {
  return toUnits(m.tickSize, m.quoteDecimals);
}

export class Markets {
  constructor(readonly list: Market[]) {}

  get(symbol: string): Market | undefined {
    return this.list.find((m) => m.symbol === symbol.toUpperCase());
  }

  /** A market's pair as the page names it ("BTC/USDT"); the symbol for one exchangeInfo no longer lists. */
  pair(symbol: string): string {
    const m = this.get(symbol);
    return m ? `${m.base}/${m.quote}` : symbol;
  }

  /** Decimals of an asset's balances (8 for one no market names). */
  assetDecimals(asset: string): number {
    for (const m of this.list) {
      if (m.base === asset) return m.baseDecimals;
      if (m.quote === asset) return m.quoteDecimals;
    }
    return 8;
  }

  /**
   * Digits a balance of `asset` is shown with: the finest its markets trade it in (the step of
   * the markets where it is the base, the tick where it is the quote): USDT 2, BTC 5; 8 for an
   * asset no market names.
   */
  displayDecimals(asset: string): number {
    let digits = -1;
    for (const m of this.list) {
      if (m.base === asset) digits = Math.max(digits, m.qtyDecimals);
      if (m.quote === asset) digits = Math.max(digits, m.priceDecimals);
    }
    return digits < 0 ? 8 : digits;
  }

  static async load(): Promise<Markets> {
    const info = await get<{ symbols: SymbolInfo[] }>("/api/v3/exchangeInfo");
    return new Markets(info.symbols.map(marketOf));
  }
}

/** Names people read for the API's order types. */
export const ORDER_TYPE_NAMES: Record<string, string> = {
  LIMIT: "Limit",
  MARKET: "Market",
  LIMIT_MAKER: "Post-only",
  STOP_LOSS: "Stop market",
  STOP_LOSS_LIMIT: "Stop limit",
  TAKE_PROFIT: "Take profit market",
  TAKE_PROFIT_LIMIT: "Take profit limit",
};

export function hasPrice(type: string): boolean {
  return type === "LIMIT" || type === "LIMIT_MAKER" || type.endsWith("_LIMIT");
}

export function hasStopPrice(type: string): boolean {
  return type.startsWith("STOP_LOSS") || type.startsWith("TAKE_PROFIT");
}
