/**
 * Chart indicators over candle closes (display only, floats): the simple moving average of the
 * last n values (undefined until there are n) and the exponential moving average (seeded with
 * the first value, weight 2 / (n + 1)).
 */

export function sma(values: number[], n: number): (number | undefined)[] {
  let sum = 0;
  return values.map((v, i) => {
    sum += v;
    if (i >= n) sum -= values[i - n];
    return i >= n - 1 ? sum / n : undefined;
  });
}

export function ema(values: number[], n: number): number[] {
  const k = 2 / (n + 1);
  const out: number[] = [];
  values.forEach((v, i) => out.push(i === 0 ? v : v * k + out[i - 1] * (1 - k)));
  return out;
}
