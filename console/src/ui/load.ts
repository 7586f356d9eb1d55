import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiProblem, NetworkProblem, type Problem } from "../api/problem";

/**
 * Data a page reads: loaded when `key` changes (a list's query string, a record's id), with the last data kept on
 * screen while the next loads, and an answer that arrives after a newer request was made is dropped.
 */
export function useLoad<T>(key: string, load: () => Promise<T>) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const latest = useRef(load);
  latest.current = load;
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
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
  useEffect(() => {
    void reload();
  }, [key]);
  return { data, problem, loading, reload };
}
