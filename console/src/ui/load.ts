import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiProblem, NetworkProblem, type Problem } from "../api/problem";

/**
 * Data a page reads: loaded when `key` changes (a list's query string, a record's id), with the last data kept on
 * screen while the next loads, and an answer that arrives after a newer request was made is dropped. `every` (ms)
 * reads it again on that beat while the page is open, quietly: `loading` stays for what the person asked for.
 */
export function useLoad<T>(key: string, load: () => Promise<T>, { every }: { every?: number } = {}) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const latest = useRef(load);
  latest.current = load;
  const read = useCallback(async (quiet: boolean) => {
    const mine = ++generation.current;
    if (!quiet) setLoading(true);
    try {
      const value = await latest.current();
      if (mine !== generation.current) return;
      setData(value);
      setProblem(null);
    } catch (error) {
      if (mine !== generation.current) return;
      if (error instanceof ApiProblem || error instanceof NetworkProblem) setProblem(error);
      else throw error;
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);
  const reload = useCallback(() => read(false), [read]);
  useEffect(() => {
    void read(false);
  }, [key]);
  useEffect(() => {
    if (!every) return;
    const timer = setInterval(() => void read(true), every);
    return () => clearInterval(timer);
  }, [every]);
  return { data, problem, loading, reload };
}
