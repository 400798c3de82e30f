/**
 * The market's trading status on the trade page: while an admin has halted the market (HALT or
 * BREAK), a banner under the ticker says so with the admin's reason, and the order form is
 * closed. Read from GET /api/web/markets/<symbol>/status every POLL_MS and after the live feed
 * resynchronizes; back to normal on the first read that says TRADING.
 */

import type { App } from "../app";
import { get } from "../api";
import { h } from "../dom";
import type { Market } from "../markets";

const POLL_MS = 3000;

interface StatusAnswer {
  symbol: string;
  status: string;
  reason: string;
}

export interface MarketStatusWatch {
  /** The banner (hidden while the market trades). */
  el: HTMLElement;
  /** `fn(why)` on every change: a sentence while the market is closed, null when it trades. */
  onChange: (fn: (why: string | null) => void) => void;
  close: () => void;
}

/** The sentence for a market that is not trading. */
export function closedSentence(market: Market, answer: StatusAnswer): string {
  const pair = `${market.base}/${market.quote}`;
  const what = answer.status === "BREAK" ? "paused" : "halted";
  const why = answer.reason ? `: ${answer.reason}` : "";
  return `Trading in ${pair} is ${what}${why}. New orders are not accepted; open orders can still be cancelled.`;
}

export function marketStatus(app: App, market: Market): MarketStatusWatch {
  const el = h("p", { class: "halt-banner", role: "alert", hidden: true });
  const listeners: ((why: string | null) => void)[] = [];
  let shown: string | null = null;
  let alive = true;
  let timer: number | undefined;
  const show = (why: string | null) => {
    if (why === shown) return;
    shown = why;
    el.textContent = why ?? "";
    el.hidden = why === null;
    listeners.forEach((fn) => fn(why));
  };
  const check = async () => {
    window.clearTimeout(timer);
    const answer = await get<StatusAnswer>(`/api/web/markets/${market.symbol}/status`).catch(() => null);
    if (!alive) return;
    // An unanswered read changes nothing: the last known status stays shown.
    if (answer) show(answer.status === "TRADING" ? null : closedSentence(market, answer));
    timer = window.setTimeout(() => void check(), POLL_MS);
  };
  const stopResync = app.feed.onResync(() => void check());
  void check();
  return {
    el,
    onChange: (fn) => {
      listeners.push(fn);
      fn(shown);
    },
    close: () => {
      alive = false;
      window.clearTimeout(timer);
      stopResync();
    },
  };
}
