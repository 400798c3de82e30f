/**
 * Rendering paced by the screen: live data is applied to a panel's model as it arrives, and the
 * panel is drawn from its latest state at most once per animation frame. While the tab is hidden
 * the browser runs no animation frames, so nothing is drawn until it is shown again.
 */

/** Calls `render` once in the next animation frame however often `schedule` is called before it. */
export function perFrame(render: () => void): { schedule: () => void; cancel: () => void } {
  let frame = 0;
  const run = () => {
    frame = 0;
    render();
  };
  return {
    schedule: () => {
      if (!frame) frame = requestAnimationFrame(run);
    },
    cancel: () => {
      cancelAnimationFrame(frame);
      frame = 0;
    },
  };
}

/** Sets `el`'s text only when it differs (an unchanged write still costs a layout). */
export function setText(el: Node, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Sets `el`'s class attribute only when it differs. */
export function setClass(el: Element, className: string): void {
  if (el.className !== className) el.className = className;
}
