/**
 * The user's open orders (with cancel, amend keeping priority, and order lists: members tagged
 * with their list, "Cancel list" for the whole list), order history, trade history and balances,
 * as tabs.
 */

import type { App } from "../app";
import { errorText, form } from "../api";
import { dateTime } from "../clock";
import { fmt, toUnits } from "../decimal";
import { fill, h, table } from "../dom";
import { ORDER_TYPE_NAMES, type Market } from "../markets";
import type { Order } from "../types";
import { balanceRows, skeletonRow, type UserData } from "../userdata";
import { amendDialog } from "./amend";
import { labelled, sideCell } from "./cells";
import { orderHistory, tradeHistory, type History } from "./history";

const TABS = ["Open orders", "Order history", "Trade history", "Balances"] as const;
type Tab = (typeof TABS)[number];

const when = dateTime;

/** Whether an order is a member of an order list (Binance says -1 outside lists). */
const inList = (o: Order): o is Order & { orderListId: number } => o.orderListId !== undefined && o.orderListId >= 0;

/** Whether a decimal string is zero ("0", "0.00000000"): an order without a stop price. */
function isZero(text: string | undefined): boolean {
  return !text || toUnits(text, 18) === 0n;
}

export function userPanels(app: App, market: Market, user: UserData): { el: HTMLElement; close: () => void } {
  const tabs = new Map<Tab, HTMLButtonElement>();
  const panels = new Map<Tab, HTMLElement>();
  const error = h("p", { class: "error", role: "alert" });
  const hasStops = market.orderTypes.some((t) => t.startsWith("STOP") || t.startsWith("TAKE"));
  const fmtPrice = (o: { symbol: string }, p: string) => {
    const m = app.markets.get(o.symbol) ?? market;
    return fmt(p, m.priceDecimals);
  };
  const fmtQty = (o: { symbol: string }, q: string) => {
    const m = app.markets.get(o.symbol) ?? market;
    return fmt(q, m.qtyDecimals);
  };

  const openHead = ["Time", "Market", "Side", "Type", "Price", ...(hasStops ? ["Stop price"] : []), "Amount", "Filled", ""];
  const open = table("Open orders", openHead, openHead.map((c) => ["Price", "Stop price", "Amount", "Filled"].includes(c)));
  open.table.classList.add("cards");
  const histories: Partial<Record<Tab, History>> = { "Order history": orderHistory(app), "Trade history": tradeHistory(app) };
  const balances = table("Balances", ["Asset", "Available", "In orders"], [false, true, true]);

  const cancel = async (o: Order) => {
    error.textContent = "";
    try {
      await form("DELETE", "/api/v3/order", { symbol: o.symbol, orderId: o.orderId });
    } catch (err) {
      error.textContent = errorText(err);
    }
    user.soon();
  };
  const cancelList = async (o: Order & { orderListId: number }) => {
    error.textContent = "";
    try {
      await form("DELETE", "/api/v3/orderList", { symbol: o.symbol, orderListId: o.orderListId });
    } catch (err) {
      error.textContent = errorText(err);
    }
    user.soon();
  };
  const amend = amendDialog(app, market, user);
  /** Amend keeping priority: offered where the market allows it, never for a member of a list (refused). */
  const amendable = (o: Order) => !inList(o) && (app.markets.get(o.symbol) ?? market).amendAllowed;
  const cancelAll = async () => {
    error.textContent = "";
    const symbols = [...new Set(user.openOrders.map((o) => o.symbol))];
    const results = await Promise.allSettled(symbols.map((symbol) => form("DELETE", "/api/v3/openOrders", { symbol })));
    const refused = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (refused) error.textContent = errorText(refused.reason);
    user.soon();
  };
  const cancelAllButton = h(
    "button",
    { type: "button", class: "small danger cancel-all", hidden: true, onclick: () => void cancelAll() },
    "Cancel all",
  );
  const drawOpen = () => {
    cancelAllButton.hidden = !user.loaded || user.openOrders.length === 0 || panels.get("Open orders")?.hidden !== false;
    fill(
      open.body,
      ...user.openOrders.map((o) =>
        h(
          "tr",
          {},
          labelled("Time", when(o.time)),
          labelled("Market", app.markets.pair(o.symbol)),
          sideCell(o.side),
          h(
            "td",
            { "data-label": "Type" },
            h(
              "span",
              {},
              ORDER_TYPE_NAMES[o.type] ?? o.type,
              inList(o)
                ? h("span", { class: "tag", title: `One-cancels-the-other list ${o.orderListId}` }, "OCO")
                : null,
            ),
          ),
          labelled("Price", o.type === "MARKET" ? "Market" : fmtPrice(o, o.price), "num"),
          hasStops ? labelled("Stop price", isZero(o.stopPrice) ? "—" : fmtPrice(o, o.stopPrice ?? ""), "num") : null,
          labelled("Amount", fmtQty(o, o.origQty), "num"),
          labelled("Filled", fmtQty(o, o.executedQty), "num"),
          h(
            "td",
            { class: "action" },
            amendable(o)
              ? h(
                  "button",
                  { type: "button", class: "small", "aria-label": `Amend order ${o.orderId}`, onclick: () => amend.open(o) },
                  "Amend",
                )
              : null,
            h(
              "button",
              { type: "button", class: "small danger", "aria-label": `Cancel order ${o.orderId}`, onclick: () => void cancel(o) },
              "Cancel",
            ),
            inList(o)
              ? h(
                  "button",
                  {
                    type: "button",
                    class: "small danger",
                    "aria-label": `Cancel order list ${o.orderListId}`,
                    onclick: () => void cancelList(o),
                  },
                  "Cancel list",
                )
              : null,
          ),
        ),
      ),
    );
    if (!user.loaded) {
      fill(open.body, skeletonRow(openHead.length));
      open.table.setAttribute("aria-busy", "true");
      tabs.get("Open orders")!.textContent = "Open orders";
      return;
    }
    open.table.removeAttribute("aria-busy");
    if (!user.openOrders.length) open.body.append(h("tr", {}, h("td", { colspan: openHead.length, class: "muted" }, "No open orders.")));
    tabs.get("Open orders")!.textContent = `Open orders (${user.openOrders.length})`;
  };
  /** Reads the shown history tab again (its rows change with the user's orders). */
  const loadHistory = () => {
    for (const [tab, history] of Object.entries(histories)) if (panels.get(tab as Tab)?.hidden === false) history.load();
  };
  const drawAll = () => {
    error.textContent = user.failed ? "Your orders and balances could not be loaded; trying again…" : "";
    drawOpen();
    fill(balances.body, ...balanceRows(app, user));
    loadHistory();
  };

  const select = (tab: Tab) => {
    for (const [name, button] of tabs) {
      const on = name === tab;
      button.setAttribute("aria-selected", String(on));
      button.tabIndex = on ? 0 : -1;
      panels.get(name)!.hidden = !on;
    }
    cancelAllButton.hidden = tab !== "Open orders" || user.openOrders.length === 0;
    histories[tab]?.load();
  };
  const tabList = h("div", { role: "tablist", "aria-label": "Your orders and balances", class: "tabs" });
  const grids: Record<Tab, HTMLElement> = {
    "Open orders": open.table,
    "Order history": histories["Order history"]!.el,
    "Trade history": histories["Trade history"]!.el,
    Balances: balances.table,
  };
  TABS.forEach((name, i) => {
    const tabId = `tab-${i}`;
    const panelId = `panel-${i}`;
    const button = h(
      "button",
      { type: "button", role: "tab", id: tabId, "aria-controls": panelId, onclick: () => select(name) },
      name,
    );
    button.addEventListener("keydown", (event: KeyboardEvent) => {
      const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      const next = TABS[(i + step + TABS.length) % TABS.length];
      select(next);
      tabs.get(next)!.focus();
    });
    tabs.set(name, button);
    tabList.append(button);
    panels.set(name, h("div", { role: "tabpanel", id: panelId, "aria-labelledby": tabId, class: "scroll" }, grids[name]));
  });
  select("Open orders");
  drawOpen();
  fill(balances.body, ...balanceRows(app, user));
  const stop = user.onChange(drawAll);
  const el = h(
    "section",
    { class: "card panels", "aria-label": "Your account" },
    h("div", { class: "tab-bar" }, tabList, cancelAllButton),
    error,
    ...panels.values(),
    amend.el,
  );
  return { el, close: stop };
}
