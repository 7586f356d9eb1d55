import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link, useLocation } from "../../router";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { ProblemBanner } from "../../ui/problem-banner";
import { absoluteTime } from "../../ui/time";
import { type MailDetail, STATUS_WORDS, statusReason } from "./model";

/**
 * One mail as it was (or would be) sent: its status and why, its tries, and its bodies. The HTML body is shown as
 * its source, never rendered: it carries what users typed (escaped), and the console runs no markup from data.
 */
export default function OutboxDetailPage() {
  const { params } = useLocation();
  const id = params.id ?? "";
  const mail = useLoad(id, () => unwrap(api.GET("/api/v1/admin/outbox/{id}", { params: { path: { id } } })));
  const data = mail.data as MailDetail | undefined;
  return (
    <Page title={data ? data.subject : "Mail"}>
      <p>
        <Link href="/outbox">Back to the outbox</Link>
      </p>
      <ProblemBanner problem={mail.problem} />
      {mail.loading && !data ? (
        <p class="loading" role="status">
          <span class="spinner" aria-hidden="true" />
          Loading the mail…
        </p>
      ) : null}
      {data ? (
        <>
          <section class="card" aria-labelledby="delivery-title">
            <h2 id="delivery-title">Delivery</h2>
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <span class={`tag tag-${STATUS_WORDS[data.status].tone}`}>{STATUS_WORDS[data.status].label}</span>{" "}
                {statusReason(data)}
              </dd>
              <dt>To</dt>
              <dd>{data.recipient_name ? `${data.recipient_name} <${data.recipient_email}>` : data.recipient_email}</dd>
              <dt>Kind</dt>
              <dd>
                <code>{data.kind}</code>
                {data.entity_type ? (
                  <>
                    {" "}
                    about {data.entity_type}{" "}
                    {data.entity_type === "product" && data.entity_id ? (
                      <Link href={`/products/${data.entity_id}`}>{data.entity_id}</Link>
                    ) : data.entity_type === "task" && data.entity_id ? (
                      <Link href={`/tasks/${data.entity_id}`}>{data.entity_id}</Link>
                    ) : (
                      <code>{data.entity_id}</code>
                    )}
                  </>
                ) : null}
              </dd>
              <dt>Tries</dt>
              <dd>{data.attempts}</dd>
              {data.last_error ? (
                <>
                  <dt>Last error</dt>
                  <dd>{data.last_error}</dd>
                </>
              ) : null}
              <dt>Written</dt>
              <dd>{absoluteTime(data.created_at)}</dd>
              <dt>Last change</dt>
              <dd>{absoluteTime(data.updated_at)}</dd>
              <dt>Sent</dt>
              <dd>{data.sent_at ? absoluteTime(data.sent_at) : "–"}</dd>
              <dt>Caused by</dt>
              <dd>
                {data.actor_id ? <Link href={`/users/${data.actor_id}`}>a user</Link> : "the system (expiry scan)"}
              </dd>
            </dl>
          </section>
          <section class="card" aria-labelledby="text-title">
            <h2 id="text-title">Text</h2>
            <pre class="mail-body">{data.text_body}</pre>
          </section>
          <details class="card">
            <summary>HTML source</summary>
            <pre class="mail-body">{data.html_body}</pre>
          </details>
        </>
      ) : null}
    </Page>
  );
}
