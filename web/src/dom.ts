/** A small helper to build DOM nodes: h("button", { class: "x", onclick: f, "aria-label": "Go" }, "Go"). */

export type Child = Node | string | number | null | undefined | false;
type Props = Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value as EventListener);
    } else if (name === "value" || name === "checked" || name === "disabled" || name === "hidden") {
      (el as unknown as Record<string, unknown>)[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "number" ? String(child) : child);
  }
}

/** Replace every child of `el`. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A table with a caption-less accessible name, a header row and an empty body to fill. */
export function table(label: string, headers: string[], numeric: boolean[] = []): {
  table: HTMLTableElement;
  body: HTMLTableSectionElement;
} {
  const body = h("tbody");
  const head = h(
    "thead",
    {},
    h("tr", {}, ...headers.map((text, i) => h("th", { scope: "col", class: numeric[i] ? "num" : "" }, text))),
  );
  return { table: h("table", { "aria-label": label }, head, body), body };
}

export function cell(text: string, className = ""): HTMLTableCellElement {
  return h("td", { class: className }, text);
}
