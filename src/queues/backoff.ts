/** Exponential backoff for message.retry({ delaySeconds }): 2 s, 4 s, 8 s … capped at 5 minutes. */
export function backoffSeconds(attempts: number, base = 2, cap = 300): number {
  return Math.min(cap, base ** Math.max(1, attempts));
}
