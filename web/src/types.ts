/** Shapes of the API answers the page reads (Binance Spot). Decimals are strings. */

export interface Filter {
  filterType: string;
  tickSize?: string;
  stepSize?: string;
  minQty?: string;
  minNotional?: string;
}

export interface SymbolInfo {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  baseAssetPrecision: number;
  quoteAssetPrecision: number;
  orderTypes: string[];
  ocoAllowed?: boolean;
  amendAllowed?: boolean;
  filters: Filter[];
}

export interface Ticker24h {
  symbol: string;
  lastPrice: string;
  openPrice: string;
  highPrice: string;
  lowPrice: string;
  volume: string;
  quoteVolume: string;
  priceChangePercent: string;
}

export interface Depth {
  lastUpdateId: number;
  bids: [string, string][];
  asks: [string, string][];
}

export interface Trade {
  id: number;
  price: string;
  qty: string;
  time: number;
  isBuyerMaker: boolean;
}

export type Kline = [number, string, string, string, string, string, number, ...unknown[]];

export interface Order {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  price: string;
  origQty: string;
  executedQty: string;
  cummulativeQuoteQty: string;
  status: string;
  type: string;
  side: string;
  stopPrice?: string;
  /** The order list the order belongs to; -1 (or absent) outside lists. */
  orderListId?: number;
  time: number;
  updateTime: number;
}

/** An order list as `POST /api/v3/orderList/oco` and `DELETE /api/v3/orderList` answer it. */
export interface OrderList {
  orderListId: number;
  contingencyType: string;
  listOrderStatus: string;
  orderReports?: Order[];
}

export interface MyTrade {
  symbol: string;
  id: number;
  orderId: number;
  price: string;
  qty: string;
  quoteQty: string;
  commission: string;
  commissionAsset: string;
  time: number;
  isBuyer: boolean;
  isMaker: boolean;
}

export interface Balance {
  asset: string;
  free: string;
  locked: string;
}

export interface Account {
  balances: Balance[];
}

export interface User {
  userId: number;
  email: string;
}

export interface ApiKey {
  id: number;
  apiKey: string;
  label: string;
  createdAt: number;
  canTrade: boolean;
  ipRestrict: string[];
  keyType: KeyType;
}

/** HMAC: the exchange generates the secret; ED25519 and RSA: the user registers a public key. */
export type KeyType = "HMAC" | "ED25519" | "RSA";

export interface NewApiKey {
  id: number;
  apiKey: string;
  secretKey: string | null; // HMAC keys only
  label: string;
  canTrade: boolean;
  ipRestrict: string[];
  keyType: KeyType;
}
