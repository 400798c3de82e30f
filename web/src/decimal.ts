/**
 * Decimal strings as the API sends them ("65000.12000000"), handled exactly: amounts become
 * BigInt counts of the smallest unit; nothing about money goes through a float.
 */

const DECIMAL = /^(-)?(\d*)(?:\.(\d*))?$/;

/** Decimals a step or tick size implies: "0.01000000" -> 2, "1.00000000" -> 0. */
export function decimalsOf(step: string): number {
  const frac = step.split(".")[1] ?? "";
  return frac.replace(/0+$/, "").length;
}

/** Whether `text` is a non-negative decimal number as a person types it ("1", "0.5", ".5"). */
export function isDecimal(text: string): boolean {
  const m = DECIMAL.exec(text.trim());
  return m !== null && !m[1] && ((m[2] ?? "") + (m[3] ?? "")).length > 0;
}

/** `text` in units of 10^-decimals, extra digits cut off (truncated toward zero). */
export function toUnits(text: string, decimals: number): bigint {
  const m = DECIMAL.exec(text.trim());
  if (!m) throw new Error(`not a decimal: ${text}`);
  const whole = m[2] || "0";
  const frac = (m[3] ?? "").slice(0, decimals).padEnd(decimals, "0");
  const units = BigInt(whole + frac);
  return m[1] ? -units : units;
}

/** Units of 10^-decimals as a decimal string with exactly `decimals` digits after the point. */
export function fromUnits(units: bigint, decimals: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const frac = decimals > 0 ? "." + digits.slice(digits.length - decimals) : "";
  return (negative ? "-" : "") + whole + frac;
}

/** `text` shown with exactly `decimals` digits (cut, not rounded), thousands grouped. */
export function fmt(text: string, decimals: number, grouped = true): string {
  if (!isDecimal(text.replace(/^-/, ""))) return text;
  const fixed = fromUnits(toUnits(text, decimals), decimals);
  return grouped ? group(fixed) : fixed;
}

/** `units` of 10^-from rounded half away from zero to units of 10^-to (to <= from). */
export function roundUnits(units: bigint, from: number, to: number): bigint {
  if (to >= from) return units * 10n ** BigInt(to - from);
  const div = 10n ** BigInt(from - to);
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const rounded = (abs + div / 2n) / div;
  return negative ? -rounded : rounded;
}

/** `text` shown with exactly `decimals` digits, rounded half away from zero, thousands grouped
 * (computed amounts such as totals: 64.8375 -> "64.84"). */
export function fmtRounded(text: string, decimals: number, grouped = true): string {
  if (!isDecimal(text.replace(/^-/, ""))) return text;
  const frac = text.split(".")[1]?.length ?? 0;
  const exact = toUnits(text, frac);
  const fixed = fromUnits(roundUnits(exact, frac, decimals), decimals);
  return grouped ? group(fixed) : fixed;
}

/**
 * `numerator / denominator` with exactly `decimals` digits, rounded half away from zero, computed
 * on BigInt units (an order's average fill price: cummulativeQuoteQty / executedQty); null when
 * the denominator is zero.
 */
export function quotient(numerator: string, denominator: string, decimals: number): string | null {
  const scale = Math.max(numerator.split(".")[1]?.length ?? 0, denominator.split(".")[1]?.length ?? 0);
  const n = toUnits(numerator, scale);
  const d = toUnits(denominator, scale);
  if (d === 0n) return null;
  const negative = n < 0n !== d < 0n;
  const abs = (x: bigint) => (x < 0n ? -x : x);
  const scaled = abs(n) * 10n ** BigInt(decimals);
  const rounded = (2n * scaled + abs(d)) / (2n * abs(d));
  return fromUnits(negative ? -rounded : rounded, decimals);
}

/** Thousands separators in the whole part: "65000.12" -> "65,000.12". */
export function group(fixed: string): string {
  const [whole, frac] = fixed.split(".");
  const sign = whole.startsWith("-") ? "-" : "";
  const grouped = whole.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return sign + grouped + (frac !== undefined ? "." + frac : "");
}

/** `units` rounded down to a multiple of `step` (both in the same units). */
export function floorTo(units: bigint, step: bigint): bigint {
  return step > 0n ? (units / step) * step : units;
}

/** (now - then) / then as a signed percentage with 2 decimals ("+1.25", "-0.40"); "0.00" if then is 0. */
export function changePercent(now: string, then: string): string {
  const a = toUnits(now, 12);
  const b = toUnits(then, 12);
  if (b === 0n) return "0.00";
  const bp = ((a - b) * 10000n) / b; // hundredths of a percent, truncated
  const text = fromUnits(bp, 2);
  return bp > 0n ? "+" + text : text;
}

/** Display-only float of a decimal string (charts, bar widths); never for amounts. */
export function approx(text: string): number {
  return Number(text);
}
