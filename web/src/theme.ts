/**
 * The colour theme: the system's (prefers-color-scheme) unless the person chose light or dark in
 * the header, remembered in localStorage. The resolved theme is `data-theme` on <html>, which
 * the style sheet's colours follow; the chart reads them when drawn.
 */

export type ThemeChoice = "system" | "light" | "dark";

const KEY = "exchange.theme";
const query = () => window.matchMedia("(prefers-color-scheme: light)");

export function themeChoice(): ThemeChoice {
  try {
    const stored = localStorage.getItem(KEY);
    return stored === "light" || stored === "dark" ? stored : "system";
  } catch {
    return "system";
  }
}

export function setThemeChoice(choice: ThemeChoice): void {
  try {
    if (choice === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // storage refused: the choice lasts until the page is reloaded
  }
  applyTheme(choice);
}

export function applyTheme(choice: ThemeChoice = themeChoice()): void {
  const light = choice === "light" || (choice === "system" && query().matches);
  document.documentElement.dataset.theme = light ? "light" : "dark";
}

/** Calls `fn` when the system theme changes (and the person left the choice to the system). */
export function onSystemTheme(fn: () => void): void {
  query().addEventListener("change", () => {
    if (themeChoice() === "system") {
      applyTheme();
      fn();
    }
  });
}

/** A colour of the current theme (a CSS custom property of <html>, e.g. "--muted"). */
export function themeColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
