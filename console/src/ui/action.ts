import { useCallback, useRef, useState } from "preact/hooks";
import { ApiProblem, NetworkProblem, type Problem } from "../api/problem";

/**
 * Runs one action at a time and keeps what a page shows about it: `busy` while it runs (buttons say so and wait),
 * `problem` when it failed (shown at the fields and in a banner), `succeeded` when the last run went through. The form's values are the page's own state, so a
 * failure, a network one included, never clears what was typed.
 */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [succeeded, setSucceeded] = useState(false);
  const running = useRef(false);
  const latest = useRef(action);
  latest.current = action;
  const run = useCallback(async (...args: A): Promise<R | undefined> => {
    if (running.current) return undefined;
    running.current = true;
    setBusy(true);
    setProblem(null);
    setSucceeded(false);
    try {
      const result = await latest.current(...args);
      setSucceeded(true);
      return result;
    } catch (error) {
      if (error instanceof ApiProblem || error instanceof NetworkProblem) setProblem(error);
      else throw error;
      return undefined;
    } finally {
      running.current = false;
      setBusy(false);
    }
  }, []);
  return { busy, problem, setProblem, succeeded, run };
}
