// Visible elements of the page whose text is cut short, one line each: text overflowing a box
// that hides or scrolls it sideways (an ellipsis, a clipped word); selects with an option wider
// than the select's text area (any option may be chosen); empty inputs whose placeholder is wider
// than their text area. Run by tests/browser/test_screenshots.py with page.evaluate.
() => {
  const ARROW = 18; // Chromium's drop-down arrow beside a select's text (18-20 px, measured)
  const measure = document.createElement("canvas").getContext("2d");
  const textWidth = (text, style) => {
    // From the longhands: the computed shorthand is "" when it cannot say them all (tabular-nums).
    measure.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    return measure.measureText(text).width;
  };
  const inner = (e, style) => e.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const found = [];
  for (const e of document.body.querySelectorAll("*")) {
    if (!visible(e) || e.closest(".sr-only, .tv-lightweight-charts, svg")) continue;
    const style = getComputedStyle(e);
    const text = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (style.overflowX !== "visible" && text && e.scrollWidth > e.clientWidth + 1) {
      found.push(`${e.tagName.toLowerCase()}.${[...e.classList].join(".")}: ${e.innerText.trim().slice(0, 40)}`);
    }
    if (e.tagName === "INPUT" && e.placeholder && !e.value) {
      const need = textWidth(e.placeholder, style);
      if (need > inner(e, style)) found.push(`input ${e.name}: placeholder ${e.placeholder} (${Math.round(need)} px)`);
    }
    if (e.tagName === "SELECT") {
      for (const option of e.options) {
        const need = textWidth(option.text, style);
        if (need > inner(e, style) - ARROW) found.push(`select ${e.name || e.ariaLabel}: ${option.text} (${Math.round(need)} px)`);
      }
    }
  }
  return found;
}
