/** Entry: the page shell (header, navigation, connection state) and the client-side router. */

import "./style.css";
import { App, type Page } from "./app";
import { errorText } from "./api";
import { setTimeZone, timeZone, type TimeZone } from "./clock";
import { fill, h } from "./dom";
import { accountPage } from "./pages/account";
import { authPage } from "./pages/auth";
import { marketsPage } from "./pages/markets";
import { tradePage } from "./pages/trade";
import { applyTheme, onSystemTheme, setThemeChoice, themeChoice, type ThemeChoice } from "./theme";
import { fillToasts } from "./toast";

applyTheme(); // before anything is drawn: no flash of the other theme

interface Route {
  pattern: RegExp;
  page: Page;
  title: (params: Record<string, string>) => string;
}

const ROUTES: Route[] = [
  { pattern: /^\/$/, page: marketsPage, title: () => "Markets" },
  { pattern: /^\/trade\/(?<symbol>[A-Za-z0-9]+)$/, page: tradePage, title: (p) => `${p.symbol?.toUpperCase()} · Trade` },
  { pattern: /^\/login$/, page: authPage("login"), title: () => "Log in" },
  { pattern: /^\/signup$/, page: authPage("signup"), title: () => "Sign up" },
  { pattern: /^\/account$/, page: accountPage, title: () => "Account" },
];

function notFound(_: App, root: HTMLElement): () => void {
  fill(root, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/" }, "Back to the markets")));
  return () => {};
}

function header(app: App): HTMLElement {
  const status = h("span", { class: "status", role: "status", "aria-label": "Connection" });
  app.feed.onState((state) => {
    const text = { idle: "", live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…" };
    status.textContent = text[state];
    status.dataset.state = state;
  });
  const account = h("div", { class: "account-nav" });
  const draw = () => {
    if (app.user) {
      fill(
        account,
        h("a", { href: "/account" }, "Account"),
        h("span", { class: "email" }, app.user.email),
        h("button", { type: "button", class: "link", onclick: () => void logOut(app) }, "Log out"),
      );
    } else {
      fill(account, h("a", { href: "/login" }, "Log in"), h("a", { href: "/signup", class: "button" }, "Sign up"));
    }
  };
  app.onUser(draw);
  draw();
  const first = app.markets.list[0]?.symbol ?? "";
  // A setting of the header: choosing re-renders the page, which every time and colour shown follows.
  const setting = <T extends string>(label: string, current: T, choices: [T, string][], save: (value: T) => void) =>
    h(
      "select",
      {
        "aria-label": label,
        class: "setting",
        onchange: (e: Event) => {
          save((e.target as HTMLSelectElement).value as T);
          app.navigate(location.pathname + location.search);
        },
      },
      ...choices.map(([value, name]) => h("option", { value, selected: value === current }, name)),
    );
  const zone = setting<TimeZone>("Time zone", timeZone(), [["local", "Local time"], ["utc", "UTC"]], setTimeZone);
  const theme = setting<ThemeChoice>(
    "Theme",
    themeChoice(),
    [["system", "System theme"], ["light", "Light"], ["dark", "Dark"]],
    setThemeChoice,
  );
  onSystemTheme(() => app.navigate(location.pathname + location.search));
  return h(
    "header",
    { class: "top" },
    h("a", { href: "/", class: "brand" }, "Exchange"),
    h(
      "nav",
      { "aria-label": "Main" },
      h("a", { href: "/" }, "Markets"),
      first ? h("a", { href: `/trade/${first}` }, "Trade") : null,
    ),
    status,
    zone,
    theme,
    account,
  );
}

async function logOut(app: App): Promise<void> {
  try {
    await app.logOut();
  } catch (err) {
    console.warn("log-out:", errorText(err));
  }
  app.navigate("/");
}

async function boot(): Promise<void> {
  const mount = document.getElementById("app")!;
  const main = h("main", { id: "main" });
  let cleanup: () => void = () => {};

  const render = () => {
    cleanup();
    const path = location.pathname.replace(/\/+$/, "") || "/";
    const route = ROUTES.find((r) => r.pattern.test(path));
    const params = (route && path.match(route.pattern)?.groups) || {};
    document.title = `${route ? route.title(params) : "Not found"} · Exchange`;
    main.replaceChildren();
    cleanup = (route?.page ?? notFound)(app, main, { ...params });
    window.scrollTo(0, 0);
  };
  const navigate = (to: string) => {
    if (to !== location.pathname + location.search) history.pushState(null, "", to);
    render();
  };

  let app: App;
  try {
    app = await App.load(navigate);
  } catch (err) {
    const retry = h("button", { type: "button", class: "primary", onclick: () => void boot() }, "Try again");
    fill(
      mount,
      h(
        "main",
        { class: "failed" },
        h("h1", {}, "Exchange"),
        h("p", { role: "alert" }, `${errorText(err)} The page could not start: check your connection, then try again.`),
        retry,
      ),
    );
    retry.focus();
    return;
  }
  fill(mount, header(app), main);
  fillToasts(app);
  document.addEventListener("click", (event) => {
    const link = (event.target as Element).closest("a");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || link.target || url.pathname.startsWith("/api") || url.pathname === "/docs") return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
  window.addEventListener("popstate", render);
  render();
}

void boot();
