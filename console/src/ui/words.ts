const whole = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });

/** "1 task", "3 tasks", "1,200 rows": a count and its noun, plural when it is not one. */
export function plural(n: number, noun: string, many = `${noun}s`): string {
  return `${whole.format(n)} ${n === 1 ? noun : many}`;
}
