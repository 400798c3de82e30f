/** Table cells the user's order and trade tables share; each names its column for the phone's cards. */

import { h } from "../dom";

/** A cell that names its column on a phone, where the tables are cards (CSS `td::before`). */
export function labelled(label: string, text: string, className = ""): HTMLTableCellElement {
  return h("td", { class: className, "data-label": label }, text);
}

/** "Buy" in green or "Sell" in red for the API's BUY/SELL. */
export function sideCell(side: string): HTMLTableCellElement {
  return labelled("Side", side === "BUY" ? "Buy" : "Sell", side === "BUY" ? "up" : "down");
}
