/**
 * The user's order history and trade history across every market of exchangeInfo (allOrders and
 * myTrades per market, merged newest first), filtered by pair, side, status (orders) and a range
 * of days in the page's time zone. An order's average fill price is cummulativeQuoteQty /
 * executedQty, computed exactly and rounded to the market's tick digits.
 */

import type { App } from "../app";
import { errorText, get } from "../api";
import { dateTime, dayStart } from "../clock";
import { fmt, fmtRounded, group, quotient } from "../decimal";
import { fill, h, table } from "../dom";
import { ORDER_TYPE_NAMES } from "../markets";
import type { MyTrade, Order } from "../types";
import { skeletonRow } from "../userdata";
import { labelled, sideCell } from "./cells";

/** Rows shown at most; per market, the newest PER_MARKET without a date range, else IN_RANGE. */
const SHOWN = 200;
const PER_MARKET = 100;
const IN_RANGE = 1000;

export const STATUS_NAMES: Record<string, string> = {
  NEW: "New",
  PARTIALLY_FILLED: "Partially filled",
  FILLED: "Filled",
  CANCELED: "Canceled",
  EXPIRED: "Expired",
  EXPIRED_IN_MATCH: "Expired in match",
  REJECTED: "Rejected",
  PENDING_NEW: "Pending",
};

interface Filters {
  symbol: string;
  side: string;
  status: string;
  from: string;
  to: string;
}

interface Row {
  symbol: string;
  time: number;
}

interface HistoryKind<T extends Row> {
  label: string;
  head: string[];
  numeric: string[];
  path: string;
  withStatus: boolean;
  id: (row: T) => number;
  side: (row: T) => string;
  status: (row: T) => string;
  render: (row: T) => HTMLTableRowElement;
}

/** The history tab: filters, the table and a note when rows were cut; `load` (re)reads it. */
export interface History {
  title: string;
  el: HTMLElement;
  load: () => void;
}

function filterBar(app: App, label: string, withStatus: boolean, changed: () => void): { el: HTMLElement; read: () => Filters } {
  const pick = (options: [string, string][]) =>
    h("select", { onchange: changed }, ...options.map(([value, text]) => h("option", { value }, text)));
  const day = () => h("input", { type: "date", onchange: changed });
  const pair = pick([["", "All pairs"], ...app.markets.list.map((m): [string, string] => [m.symbol, `${m.base}/${m.quote}`])]);
  const side = pick([["", "Both sides"], ["BUY", "Buy"], ["SELL", "Sell"]]);
  const status = pick([["", "Any status"], ...Object.entries(STATUS_NAMES)]);
  const from = day();
  const to = day();
  const labelledBy = (text: string, control: HTMLElement) => h("label", { class: "filter" }, text, control);
  const el = h(
    "div",
    { class: "filters", role: "group", "aria-label": `${label} filters` },
    labelledBy("Pair", pair),
    labelledBy("Side", side),
    withStatus ? labelledBy("Status", status) : null,
    labelledBy("From", from),
    labelledBy("To", to),
  );
  return { el, read: () => ({ symbol: pair.value, side: side.value, status: status.value, from: from.value, to: to.value }) };
}

/** The filtered rows of every chosen market (one request per market), newest first. */
async function across<T extends Row>(app: App, kind: HistoryKind<T>, f: Filters): Promise<T[]> {
  const startTime = f.from ? dayStart(f.from) : NaN;
  const endTime = f.to ? dayStart(f.to, true) - 1 : NaN;
  const ranged = Number.isFinite(startTime) || Number.isFinite(endTime);
  const symbols = f.symbol ? [f.symbol] : app.markets.list.map((m) => m.symbol);
  const lists = await Promise.all(
    symbols.map((symbol) =>
      get<T[]>(kind.path, {
        symbol,
        startTime: Number.isFinite(startTime) ? startTime : undefined,
        endTime: Number.isFinite(endTime) ? endTime : undefined,
        limit: ranged ? IN_RANGE : PER_MARKET,
      }),
    ),
  );
  return lists
    .flat()
    .filter((r) => (!f.side || kind.side(r) === f.side) && (!f.status || kind.status(r) === f.status))
    .sort((a, b) => b.time - a.time || kind.id(b) - kind.id(a));
}

function historyTab<T extends Row>(app: App, kind: HistoryKind<T>): History {
  const grid = table(kind.label, kind.head, kind.head.map((c) => kind.numeric.includes(c)));
  grid.table.classList.add("cards");
  const note = h("p", { class: "muted", hidden: true });
  const error = h("p", { class: "error", role: "alert" });
  let asked = 0;
  let shown = false;
  const load = (fresh = false) => {
    if (!app.user) return;
    const ask = ++asked;
    if (fresh || !shown) {
      fill(grid.body, skeletonRow(kind.head.length), skeletonRow(kind.head.length));
      grid.table.setAttribute("aria-busy", "true");
    }
    across(app, kind, filters.read()).then(
      (rows) => {
        if (ask !== asked) return;
        shown = true;
        error.textContent = "";
        grid.table.removeAttribute("aria-busy");
        fill(grid.body, ...rows.slice(0, SHOWN).map(kind.render));
        if (!rows.length) grid.body.append(h("tr", {}, h("td", { colspan: kind.head.length, class: "muted" }, "Nothing matches these filters.")));
        note.hidden = rows.length <= SHOWN;
        note.textContent = `The newest ${SHOWN} of ${rows.length} are shown; narrow the filters to see older ones.`;
      },
      (err: unknown) => {
        if (ask === asked) error.textContent = errorText(err);
      },
    );
  };
  const filters = filterBar(app, kind.label, kind.withStatus, () => load(true));
  return { title: kind.label, el: h("div", { class: "history" }, filters.el, error, grid.table, note), load: () => load() };
}

/** Digits of a market's prices and amounts (8 each for a market exchangeInfo no longer lists). */
function digits(app: App, symbol: string): { price: number; qty: number; pair: string } {
  const m = app.markets.get(symbol);
  return { price: m?.priceDecimals ?? 8, qty: m?.qtyDecimals ?? 8, pair: app.markets.pair(symbol) };
}

export function orderHistory(app: App): History {
  return historyTab<Order>(app, {
    label: "Order history",
    head: ["Time", "Pair", "Side", "Type", "Price", "Avg. price", "Amount", "Filled", "Status"],
    numeric: ["Price", "Avg. price", "Amount", "Filled"],
    path: "/api/v3/allOrders",
    withStatus: true,
    id: (o) => o.orderId,
    side: (o) => o.side,
    status: (o) => o.status,
    render: (o) => {
      const d = digits(app, o.symbol);
      const average = quotient(o.cummulativeQuoteQty, o.executedQty, d.price);
      return h(
        "tr",
        {},
        labelled("Time", dateTime(o.time)),
        labelled("Pair", d.pair),
        sideCell(o.side),
        labelled("Type", ORDER_TYPE_NAMES[o.type] ?? o.type),
        labelled("Price", o.type === "MARKET" ? "Market" : fmt(o.price, d.price), "num"),
        labelled("Avg. price", average === null ? "—" : group(average), "num"),
        labelled("Amount", fmt(o.origQty, d.qty), "num"),
        labelled("Filled", fmt(o.executedQty, d.qty), "num"),
        labelled("Status", STATUS_NAMES[o.status] ?? o.status),
      );
    },
  });
}

export function tradeHistory(app: App): History {
  return historyTab<MyTrade>(app, {
    label: "Trade history",
    head: ["Time", "Pair", "Side", "Price", "Amount", "Total", "Fee", "Role"],
    numeric: ["Price", "Amount", "Total", "Fee"],
    path: "/api/v3/myTrades",
    withStatus: false,
    id: (t) => t.id,
    side: (t) => (t.isBuyer ? "BUY" : "SELL"),
    status: () => "",
    render: (t) => {
      const d = digits(app, t.symbol);
      return h(
        "tr",
        {},
        labelled("Time", dateTime(t.time)),
        labelled("Pair", d.pair),
        sideCell(t.isBuyer ? "BUY" : "SELL"),
        labelled("Price", fmt(t.price, d.price), "num"),
        labelled("Amount", fmt(t.qty, d.qty), "num"),
        labelled("Total", fmtRounded(t.quoteQty, d.price), "num"),
        labelled("Fee", `${fmt(t.commission, app.markets.assetDecimals(t.commissionAsset))} ${t.commissionAsset}`, "num"),
        labelled("Role", t.isMaker ? "Maker" : "Taker"),
      );
    },
  });
}
