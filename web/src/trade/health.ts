/**
 * A market panel's trouble, said on the panel itself: its data could not be loaded (and is being
 * fetched again), or the live feed is down, so what it shows is stale. The notice overlays the
 * panel's corner: it moves nothing.
 */

import type { App } from "../app";
import { h } from "../dom";

const RETRY_MS = 3000;

export interface PanelHealth {
  /** Run `load` (true: it got its data) until it succeeds, saying so on the panel meanwhile. */
  load: (load: () => Promise<boolean>) => void;
  close: () => void;
}

export function panelHealth(app: App, panel: HTMLElement, what: string): PanelHealth {
  const notice = h("p", { class: "notice", role: "status", hidden: true });
  panel.classList.add("watched");
  panel.append(notice);
  let failed = false;
  let stale = false;
  let timer: number | undefined;
  let alive = true;
  const draw = () => {
    panel.classList.toggle("stale", stale);
    notice.textContent = failed
      ? `${what} could not be loaded; trying again…`
      : stale
        ? "Not live: reconnecting…"
        : "";
    notice.hidden = !notice.textContent;
  };
  const stopState = app.feed.onState((state) => {
    stale = state === "reconnecting";
    draw();
  });
  const load = (fetchOnce: () => Promise<boolean>) => {
    window.clearTimeout(timer);
    void fetchOnce().then((ok) => {
      if (!alive) return;
      failed = !ok;
      draw();
      if (!ok) timer = window.setTimeout(() => load(fetchOnce), RETRY_MS);
    });
  };
  return {
    load,
    close: () => {
      alive = false;
      window.clearTimeout(timer);
      stopState();
    },
  };
}
