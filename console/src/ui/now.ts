import { useEffect, useState } from "preact/hooks";

/** The current time, ticking every `ms`, for relative times that stay true while a page is open. */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
