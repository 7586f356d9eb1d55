import type { JSX } from "preact";
import type { Problem } from "../api/problem";
import { BackLink, type ListMemory } from "./list";
import { Loading } from "./loading";
import { Page } from "./page";
import { ProblemBanner } from "./problem-banner";

/**
 * One record's page (a task, a product, a user, a mail, a session): `children` draws it once it is read; until then
 * the page says it is loading, or why it cannot be shown (a 404 in words; "Try again" when no answer came), with the
 * way back to the list.
 */
export function RecordPage<T>({
  record,
  title,
  what,
  back,
  children,
}: {
  /** The record's useLoad. */
  record: { data?: T; problem: Problem | null; loading: boolean; reload: () => unknown };
  /** The page's title until the record is there ("Task"). */
  title: string;
  /** The record in words, for "Loading the task…". */
  what: string;
  back: ListMemory;
  children: (data: T) => JSX.Element;
}) {
  if (record.data !== undefined) return children(record.data);
  return (
    <Page title={title}>
      <BackLink to={back} />
      <ProblemBanner problem={record.problem} retry={record.reload} />
      {record.loading ? <Loading>Loading {what}…</Loading> : null}
    </Page>
  );
}
