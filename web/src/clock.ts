/**
 * The page's one time convention: local time or UTC, chosen in the header and remembered in
 * localStorage. Every time shown (chart axis and legend, recent trades, the user's tables) goes
 * through these functions; a change re-renders the page.
 */

export type TimeZone = "local" | "utc";

const KEY = "exchange.timeZone";

export function timeZone(): TimeZone {
  try {
    return localStorage.getItem(KEY) === "utc" ? "utc" : "local";
  } catch {
    return "local";
  }
}

export function setTimeZone(zone: TimeZone): void {
  try {
    localStorage.setItem(KEY, zone);
  } catch {
    // storage refused (private mode): the choice lasts until the page is reloaded
  }
}

const pad = (n: number) => String(n).padStart(2, "0");

interface Parts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

function parts(ms: number): Parts {
  const t = new Date(ms);
  return timeZone() === "utc"
    ? { y: t.getUTCFullYear(), mo: t.getUTCMonth() + 1, d: t.getUTCDate(), h: t.getUTCHours(), mi: t.getUTCMinutes(), s: t.getUTCSeconds() }
    : { y: t.getFullYear(), mo: t.getMonth() + 1, d: t.getDate(), h: t.getHours(), mi: t.getMinutes(), s: t.getSeconds() };
}

/** "14:03:07" */
export function clockTime(ms: number): string {
  const p = parts(ms);
  return `${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}`;
}

/** "12-06 14:03:07" (month-day, as the order tables show it) */
export function dateTime(ms: number): string {
  const p = parts(ms);
  return `${pad(p.mo)}-${pad(p.d)} ${clockTime(ms)}`;
}

/** "2026-12-06 14:03" (a candle's open time) */
export function minuteTime(ms: number): string {
  const p = parts(ms);
  return `${p.y}-${pad(p.mo)}-${pad(p.d)} ${pad(p.h)}:${pad(p.mi)}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A chart axis label: the year, month, day or time, as coarse as the tick (lightweight-charts' TickMarkType 0-4). */
export function tickLabel(ms: number, kind: number): string {
  const p = parts(ms);
  if (kind === 0) return String(p.y);
  if (kind === 1) return MONTHS[p.mo - 1];
  if (kind === 2) return String(p.d);
  return kind === 4 ? clockTime(ms) : `${pad(p.h)}:${pad(p.mi)}`;
}

/**
 * The first millisecond of a calendar day ("2026-12-06", as a date input gives it) in the chosen
 * zone; `nextDay` gives the first millisecond of the day after. NaN for a malformed date.
 */
export function dayStart(date: string, nextDay = false): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return NaN;
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (nextDay ? 1 : 0)];
  return timeZone() === "utc" ? Date.UTC(y, mo, d) : new Date(y, mo, d).getTime();
}

/** The zone's short name for labels: "UTC" or "local". */
export function zoneName(): string {
  return timeZone() === "utc" ? "UTC" : "local";
}
