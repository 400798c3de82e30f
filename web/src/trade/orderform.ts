/**
 * Order entry: buy / sell, the order types the market lists (limit, market, post-only, and stop
 * types with a stop price when offered, OCO lists when the market allows them: `oco.ts`), amount
 * typed or taken as a share of the balance, the API's own error sentence when it refuses.
 */

import type { App } from "../app";
import { errorText, form } from "../api";
import { floorTo, fmt, fmtRounded, fromUnits, isDecimal, toUnits } from "../decimal";
import { fill, h } from "../dom";
import { ORDER_TYPE_NAMES, hasPrice, hasStopPrice, stepUnits, type Market } from "../markets";
import { field } from "../pages/auth";
import type { Order, OrderList } from "../types";
import { skeleton, type UserData } from "../userdata";
import { explainRefusal } from "./explain";
import { OCO, ocoParams, ocoPlaced } from "./oco";

const SHARES = [25, 50, 75, 100];
const TIME_IN_FORCE: Record<string, string> = { GTC: "Good till cancelled", IOC: "Immediate or cancel", FOK: "Fill or kill" };
/** Order types that take a time in force (post-only is always good till cancelled). */
const takesTimeInForce = (t: string) => t === "LIMIT" || t.endsWith("_LIMIT");
/** The form's price field: an order's limit price, an OCO's limit member's. */
const usesPrice = (t: string) => hasPrice(t) || t === OCO;
const usesStop = (t: string) => hasStopPrice(t) || t === OCO;

export interface OrderForm {
  el: HTMLElement;
  setPrice: (price: string) => void;
  /** Close the form while the market does not trade (`why` says so), reopen it with null. */
  setClosed: (why: string | null) => void;
  close: () => void;
}

export function orderForm(
  app: App,
  market: Market,
  user: UserData,
  bestAsk: () => string,
  bestBid: () => string,
): OrderForm {
  let side: "BUY" | "SELL" = "BUY";
  const buy = h("button", { type: "button", class: "side buy", "aria-pressed": "true" }, "Buy");
  const sell = h("button", { type: "button", class: "side sell", "aria-pressed": "false" }, "Sell");
  const type = h(
    "select",
    { name: "type" },
    ...market.orderTypes.map((t) => h("option", { value: t }, ORDER_TYPE_NAMES[t] ?? t)),
    market.ocoAllowed ? h("option", { value: OCO }, "OCO (one cancels the other)") : null,
  );
  const price = h("input", { type: "text", inputmode: "decimal", name: "price", autocomplete: "off" });
  const stop = h("input", { type: "text", inputmode: "decimal", name: "stopPrice", autocomplete: "off" });
  const stopLimit = h("input", { type: "text", inputmode: "decimal", name: "stopLimitPrice", autocomplete: "off" });
  const amount = h("input", { type: "text", inputmode: "decimal", name: "quantity", autocomplete: "off" });
  const tif = h(
    "select",
    { name: "timeInForce" },
    ...Object.entries(TIME_IN_FORCE).map(([value, name]) => h("option", { value }, name)),
  );
  const tifField = field("Time in force", tif);
  const totalBox = h("input", { type: "text", inputmode: "decimal", name: "total", autocomplete: "off" });
  const totalField = field(`Total (${market.quote})`, totalBox);
  const priceField = field(`Price (${market.quote})`, price);
  const stopField = field(`Stop price (${market.quote})`, stop);
  const stopLimitField = field(`Stop-limit price (${market.quote})`, stopLimit);
  const ocoNote = h("p", { class: "muted oco-note" });
  const shares = SHARES.map((pct) =>
    h(
      "button",
      { type: "button", class: "chip", "aria-label": `${pct}% of available balance`, onclick: () => useShare(pct) },
      `${pct}%`,
    ),
  );
  const available = h("p", { class: "muted available" });
  const error = h("p", { class: "error", role: "alert" });
  const closedNote = h("p", { class: "closed-note", role: "status" });
  let closedWhy: string | null = null;
  const done = h("p", { class: "ok", role: "status" });
  // Room for two lines of message always: a message appearing moves nothing.
  const messages = h("div", { class: "messages" }, error, done, closedNote);
  const submit = h("button", { type: "submit", class: "primary buy" });

  const sideAsset = () => (side === "BUY" ? market.quote : market.base);
  const refreshLabels = () => {
    buy.setAttribute("aria-pressed", String(side === "BUY"));
    sell.setAttribute("aria-pressed", String(side === "SELL"));
    submit.textContent = `${side === "BUY" ? "Buy" : "Sell"} ${market.base}`;
    submit.className = `primary ${side === "BUY" ? "buy" : "sell"}`;
    // Out of use, a field keeps its place (invisible): changing the type moves nothing.
    const oco = type.value === OCO;
    priceField.classList.toggle("off", !usesPrice(type.value));
    stopField.classList.toggle("off", !usesStop(type.value));
    price.disabled = !usesPrice(type.value);
    stop.disabled = !usesStop(type.value);
    stopLimitField.hidden = !oco;
    stopLimit.disabled = !oco;
    ocoNote.hidden = !oco;
    ocoNote.textContent = oco
      ? side === "SELL"
        ? "Sell at the limit price above the market, or at the stop-limit price once the price falls to the stop."
        : "Buy at the limit price below the market, or at the stop-limit price once the price rises to the stop."
      : "";
    tifField.classList.toggle("off", !takesTimeInForce(type.value));
    tif.disabled = !takesTimeInForce(type.value);
    totalBox.placeholder = usesPrice(type.value) ? "" : "≈ at the best price";
    const asset = sideAsset();
    if (user.loaded) {
      available.textContent = `Available: ${fmt(user.free(asset), app.markets.displayDecimals(asset))} ${asset}`;
      available.removeAttribute("aria-busy");
    } else {
      fill(available, "Available: ", skeleton(), ` ${asset}`);
      available.setAttribute("aria-busy", "true");
    }
    refreshTotal();
    if (closedWhy !== null) {
      for (const control of [buy, sell, type, tif, price, stop, stopLimit, amount, totalBox, ...shares, submit]) control.disabled = true;
    }
  };
  // A buy OCO reserves for its dearer member: the total and the shares use the higher of its prices.
  const refPrice = () => {
    if (!usesPrice(type.value)) return side === "BUY" ? bestAsk() : bestBid();
    const dearer =
      type.value === OCO && side === "BUY" && isDecimal(price.value) && isDecimal(stopLimit.value) &&
      toUnits(stopLimit.value, market.quoteDecimals) > toUnits(price.value, market.quoteDecimals);
    return dearer ? stopLimit.value : price.value;
  };
  const refreshTotal = () => {
    const p = refPrice();
    if (!isDecimal(amount.value) || !isDecimal(p)) {
      totalBox.value = "";
      return;
    }
    const value = fromUnits(toUnits(amount.value, market.baseDecimals) * toUnits(p, market.quoteDecimals), market.baseDecimals + market.quoteDecimals);
    totalBox.value = fmtRounded(value, market.priceDecimals, false);
  };
  // A total typed in: the amount it buys at the price, rounded down to the step.
  const amountFromTotal = () => {
    const p = refPrice();
    if (!isDecimal(totalBox.value) || !isDecimal(p) || toUnits(p, market.quoteDecimals) === 0n) return;
    const bd = market.baseDecimals;
    const qty = (toUnits(totalBox.value, market.quoteDecimals) * 10n ** BigInt(bd)) / toUnits(p, market.quoteDecimals);
    amount.value = fmt(fromUnits(floorTo(qty, stepUnits(market)), bd), market.qtyDecimals, false);
  };
  const useShare = (pct: number) => {
    const bd = market.baseDecimals;
    let qty: bigint;
    if (side === "SELL") {
      qty = (toUnits(user.free(market.base), bd) * BigInt(pct)) / 100n;
    } else {
      const p = refPrice();
      if (!isDecimal(p) || toUnits(p, market.quoteDecimals) === 0n) {
        error.textContent = "Enter a price first.";
        return;
      }
      const quote = toUnits(user.free(market.quote), market.quoteDecimals);
      qty = (quote * BigInt(pct) * 10n ** BigInt(bd)) / (100n * toUnits(p, market.quoteDecimals));
    }
    amount.value = fmt(fromUnits(floorTo(qty, stepUnits(market)), bd), market.qtyDecimals, false);
    error.textContent = "";
    refreshTotal();
  };

  buy.addEventListener("click", () => {
    side = "BUY";
    refreshLabels();
  });
  sell.addEventListener("click", () => {
    side = "SELL";
    refreshLabels();
  });
  type.addEventListener("change", refreshLabels);
  price.addEventListener("input", refreshTotal);
  stopLimit.addEventListener("input", refreshTotal);
  amount.addEventListener("input", refreshTotal);
  totalBox.addEventListener("input", amountFromTotal);
  const stopUser = user.onChange(refreshLabels);

  // Keyboard shortcuts, when no field has the focus: B buy, S sell, P price, A amount, T total.
  const shortcuts: Record<string, () => void> = {
    b: () => buy.click(),
    s: () => sell.click(),
    p: () => (price.disabled ? undefined : price.focus()),
    a: () => amount.focus(),
    t: () => totalBox.focus(),
  };
  buy.setAttribute("aria-keyshortcuts", "B");
  sell.setAttribute("aria-keyshortcuts", "S");
  price.setAttribute("aria-keyshortcuts", "P");
  amount.setAttribute("aria-keyshortcuts", "A");
  totalBox.setAttribute("aria-keyshortcuts", "T");
  const onKey = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement;
    if (event.ctrlKey || event.metaKey || event.altKey || target.closest("input, select, textarea")) return;
    const action = shortcuts[event.key.toLowerCase()];
    if (!action) return;
    event.preventDefault();
    action();
  };
  document.addEventListener("keydown", onKey);

  const place = async (event: Event) => {
    event.preventDefault();
    error.textContent = "";
    done.textContent = "";
    const t = type.value;
    if (t === OCO) return placeOco();
    const params: Record<string, string> = { symbol: market.symbol, side, type: t, quantity: amount.value.trim() };
    if (!isDecimal(params.quantity)) {
      error.textContent = `Enter an amount in ${market.base}.`;
      return;
    }
    if (hasPrice(t)) {
      if (!isDecimal(price.value)) {
        error.textContent = `Enter a price in ${market.quote}.`;
        return;
      }
      params.price = price.value.trim();
      if (takesTimeInForce(t)) params.timeInForce = tif.value;
    }
    if (hasStopPrice(t)) {
      if (!isDecimal(stop.value)) {
        error.textContent = `Enter a stop price in ${market.quote}.`;
        return;
      }
      params.stopPrice = stop.value.trim();
    }
    submit.disabled = true;
    try {
      const order = await form<Order>("POST", "/api/v3/order", params);
      const filled = fmt(order.executedQty, market.qtyDecimals);
      const traded = `${side === "BUY" ? "Bought" : "Sold"} ${filled} ${market.base}`;
      done.textContent =
        order.status === "FILLED"
          ? `${traded}.`
          : order.status === "EXPIRED"
            ? toUnits(order.executedQty, market.baseDecimals) === 0n
              ? `Not filled: the order expired (${TIME_IN_FORCE[params.timeInForce ?? ""] ?? "no match"}).`
              : `${traded}; the rest expired.`
            : `Order placed: ${side.toLowerCase()} ${fmt(order.origQty, market.qtyDecimals)} ${market.base}` +
            (hasPrice(t) ? ` at ${fmt(order.price, market.priceDecimals)}` : "") +
            ` (${order.status.toLowerCase().replace("_", " ")}).`;
      amount.value = "";
      refreshTotal();
      user.soon();
    } catch (err) {
      error.textContent = explainRefusal(errorText(err), market);
    } finally {
      submit.disabled = closedWhy !== null;
    }
  };

  const placeOco = async () => {
    const quantity = amount.value.trim();
    const prices = { limit: price.value.trim(), stop: stop.value.trim(), stopLimit: stopLimit.value.trim() };
    const params = ocoParams(market, side, quantity, prices);
    if (typeof params === "string") {
      error.textContent = params;
      return;
    }
    submit.disabled = true;
    try {
      const list = await form<OrderList>("POST", "/api/v3/orderList/oco", params);
      done.textContent = ocoPlaced(list, market, side, quantity, prices);
      amount.value = "";
      refreshTotal();
      user.soon();
    } catch (err) {
      error.textContent = explainRefusal(errorText(err), market);
    } finally {
      submit.disabled = closedWhy !== null;
    }
  };

  const el = h(
    "section",
    { class: "card order-form", "aria-labelledby": "order-h" },
    h(
      "div",
      { class: "book-title" },
      h("h2", { id: "order-h" }, "Place order"),
      h("span", { class: "muted keys", title: "Keyboard shortcuts" }, "Keys: B S P A T"),
    ),
    h(
      "form",
      { "aria-label": "Place order", onsubmit: place, novalidate: true },
      h("div", { class: "sides", role: "group", "aria-label": "Side" }, buy, sell),
      // One select a row: their longest choices ("Take profit market", "Immediate or cancel") in full.
      field("Order type", type),
      tifField,
      h("div", { class: "prices" }, priceField, stopField),
      stopLimitField,
      ocoNote,
      field(`Amount (${market.base})`, amount),
      h("div", { class: "shares", role: "group", "aria-label": "Amount by share of balance" }, ...shares),
      totalField,
      available,
      messages,
      submit,
    ),
  );
  refreshLabels();
  return {
    el,
    setPrice: (p: string) => {
      price.value = p;
      if (!usesPrice(type.value)) {
        type.value = market.orderTypes.includes("LIMIT") ? "LIMIT" : type.value;
        refreshLabels();
      }
      refreshTotal();
      price.focus();
    },
    setClosed: (why: string | null) => {
      closedWhy = why;
      closedNote.textContent = why === null ? "" : "Order entry is closed while the market does not trade.";
      for (const control of [buy, sell, type, amount, totalBox, ...shares, submit]) control.disabled = why !== null;
      refreshLabels();
    },
    close: () => {
      stopUser();
      document.removeEventListener("keydown", onKey);
    },
  };
}
