/**
 * Amend keeping priority: a dialog that lowers an open order's amount where it stands in the
 * queue (`PUT /api/v3/order/amend/keepPriority`; the order keeps its id and its place). The new
 * amount must be below the order's and above what has filled; the API's refusals are shown in
 * the dialog, filter failures in words.
 */

import type { App } from "../app";
import { errorText, form } from "../api";
import { fmt, isDecimal, toUnits } from "../decimal";
import { h } from "../dom";
import type { Market } from "../markets";
import { field } from "../pages/auth";
import type { Order } from "../types";
import type { UserData } from "../userdata";
import { explainRefusal } from "./explain";

export interface AmendDialog {
  el: HTMLDialogElement;
  open: (order: Order) => void;
}

/** Why `newQty` cannot replace the order's amount, or null when it can be sent. */
export function amendProblem(order: Order, newQty: string, market: Market): string | null {
  if (!isDecimal(newQty)) return `Enter the new amount in ${market.base}.`;
  const units = (s: string) => toUnits(s, market.baseDecimals);
  if (units(newQty) >= units(order.origQty)) return "The new amount must be below the order's amount (amend only lowers it).";
  if (units(newQty) <= units(order.executedQty)) return "The new amount must be above what has already filled.";
  return null;
}

export function amendDialog(app: App, fallback: Market, user: UserData): AmendDialog {
  let order: Order | null = null;
  let market = fallback;
  const title = h("h2", { id: "amend-h" }, "Amend order");
  const current = h("p", { class: "muted" });
  const amount = h("input", { type: "text", inputmode: "decimal", name: "newQty", autocomplete: "off" });
  const amountField = field("New amount", amount);
  const amountLabel = amountField.querySelector("label")!;
  const error = h("p", { class: "error", role: "alert" });
  const save = h("button", { type: "submit", class: "primary" }, "Amend");
  const close = h("button", { type: "button", onclick: () => el.close() }, "Close");

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!order) return;
    error.textContent = "";
    const newQty = amount.value.trim();
    const problem = amendProblem(order, newQty, market);
    if (problem) {
      error.textContent = problem;
      return;
    }
    save.disabled = true;
    try {
      await form("PUT", "/api/v3/order/amend/keepPriority", { symbol: order.symbol, orderId: order.orderId, newQty });
      el.close();
      user.soon();
    } catch (err) {
      error.textContent = explainRefusal(errorText(err), market);
    } finally {
      save.disabled = false;
    }
  };

  const el = h(
    "dialog",
    { class: "card amend", "aria-labelledby": "amend-h" },
    h(
      "form",
      { onsubmit: submit, novalidate: true },
      title,
      current,
      amountField,
      error,
      h("div", { class: "dialog-actions" }, close, save),
    ),
  );
  return {
    el,
    open: (o: Order) => {
      order = o;
      market = app.markets.get(o.symbol) ?? fallback;
      title.textContent = `Amend order ${o.orderId}`;
      current.textContent =
        `${o.side === "BUY" ? "Buy" : "Sell"} ${fmt(o.origQty, market.qtyDecimals)} ${market.base}` +
        `, filled ${fmt(o.executedQty, market.qtyDecimals)}. It keeps its place in the queue.`;
      amountLabel.textContent = `New amount (${market.base})`;
      amount.value = "";
      error.textContent = "";
      el.showModal();
      amount.focus();
    },
  };
}
