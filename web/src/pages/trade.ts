/** The trade page of one market: ticker, chart, order book, order entry, trades, the user's tabs. */

import type { Page } from "../app";
import { get } from "../api";
import { changePercent, fmt, toUnits } from "../decimal";
import { h } from "../dom";
import { perFrame, setClass, setText } from "../frame";
import type { Market } from "../markets";
import { chartPanel } from "../trade/chart";
import { depthChart } from "../trade/depth";
import { orderBook } from "../trade/orderbook";
import { orderForm } from "../trade/orderform";
import { userPanels } from "../trade/panels";
import { marketStatus } from "../trade/status";
import { recentTrades } from "../trade/trades";
import type { Ticker24h } from "../types";
import { UserData, skeleton } from "../userdata";

function tickerBar(app: Parameters<Page>[0], market: Market): { el: HTMLElement; close: () => void } {
  const value = () => h("dd", { class: "num" }, skeleton("5em"));
  const last = value();
  const change = value();
  const high = value();
  const low = value();
  const volume = value();
  const item = (label: string, dd: HTMLElement) => h("div", {}, h("dt", {}, label), dd);
  const picker = h(
    "select",
    { "aria-label": "Market", onchange: (e: Event) => app.navigate(`/trade/${(e.target as HTMLSelectElement).value}`) },
    ...app.markets.list.map((m) =>
      h("option", { value: m.symbol, selected: m.symbol === market.symbol }, `${m.base}/${m.quote}`),
    ),
  );
  const el = h(
    "section",
    { class: "ticker", "aria-label": "Market summary" },
    h("h1", {}, picker),
    h("dl", {}, item("Last price", last), item("24h change", change), item("24h high", high), item("24h low", low), item(`24h volume (${market.base})`, volume)),
  );
  const p = (s: string) => fmt(s, market.priceDecimals);
  type Summary = { c: string; o: string; h: string; l: string; v: string };
  // The latest summary is kept as it arrives and shown once per animation frame.
  let latest: Summary | null = null;
  let previous = "";
  const drawing = perFrame(() => {
    const t = latest;
    if (!t) return;
    // The last price in green when it rose, red when it fell, as it was when unchanged.
    if (previous) {
      const now = toUnits(t.c, market.priceDecimals);
      const before = toUnits(previous, market.priceDecimals);
      if (now !== before) setClass(last, `num ${now > before ? "up" : "down"}`);
    }
    previous = t.c;
    setText(last, p(t.c));
    const pct = changePercent(t.c, t.o);
    setText(change, `${pct}%`);
    setClass(change, `num ${pct.startsWith("-") ? "down" : "up"}`);
    setText(high, p(t.h));
    setText(low, p(t.l));
    setText(volume, fmt(t.v, market.qtyDecimals));
    const title = `${p(t.c)} ${market.base}/${market.quote} · Exchange`;
    if (document.title !== title) document.title = title;
  });
  const show = (t: Summary) => {
    latest = t;
    drawing.schedule();
  };
  let alive = true;
  const load = async () => {
    const t = await get<Ticker24h>("/api/v3/ticker/24hr", { symbol: market.symbol }).catch(() => null);
    if (alive && t) show({ c: t.lastPrice, o: t.openPrice, h: t.highPrice, l: t.lowPrice, v: t.volume });
  };
  const unsubscribe = app.feed.subscribe(`${market.symbol.toLowerCase()}@miniTicker`, (d) => show(d as never));
  const stopResync = app.feed.onResync(() => void load());
  void load();
  return {
    el,
    close: () => {
      alive = false;
      drawing.cancel();
      unsubscribe();
      stopResync();
    },
  };
}

export const tradePage: Page = (app, root, params) => {
  const market = app.markets.get(params.symbol ?? "");
  if (!market) {
    root.append(h("h1", {}, "Unknown market"), h("p", {}, h("a", { href: "/" }, "See the markets")));
    return () => {};
  }
  const closers: (() => void)[] = [];
  const ticker = tickerBar(app, market);
  const status = marketStatus(app, market);
  ticker.el.append(status.el);
  closers.push(status.close);
  let pickPrice: (price: string) => void = () => {};
  const book = orderBook(app, market, (price) => pickPrice(price));
  const depth = depthChart(market);
  book.onLevels(depth.draw);
  const chart = chartPanel(app, market, depth);
  const trades = recentTrades(app, market);
  closers.push(ticker.close, chart.close, book.close, trades.close);

  let entry: HTMLElement;
  let panels: HTMLElement | null = null;
  if (app.user) {
    const user = new UserData(app);
    const orderEntry = orderForm(app, market, user, book.bestAsk, book.bestBid);
    pickPrice = orderEntry.setPrice;
    status.onChange(orderEntry.setClosed);
    const tabs = userPanels(app, market, user);
    entry = orderEntry.el;
    panels = tabs.el;
    closers.push(orderEntry.close, tabs.close, () => user.close());
  } else {
    const next = encodeURIComponent(location.pathname);
    entry = h(
      "section",
      { class: "card order-form", "aria-labelledby": "order-h" },
      h("h2", { id: "order-h" }, "Place order"),
      h("p", {}, h("a", { href: `/login?next=${next}` }, "Log in"), " or ", h("a", { href: `/signup?next=${next}` }, "sign up"), " to trade."),
    );
  }
  root.append(
    h("div", { class: "trade" }, ticker.el, chart.el, book.el, h("div", { class: "side-col" }, entry, trades.el), panels),
  );
  const stopUser = app.onUser(() => app.navigate(location.pathname));
  closers.push(stopUser);
  return () => closers.forEach((close) => close());
};
