import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Link, useLocation } from "../../router";
import { BackLink } from "../../ui/list";
import { useLoad } from "../../ui/load";
import { Page } from "../../ui/page";
import { RecordPage } from "../../ui/record";
import { Facts } from "../../ui/table";
import { absoluteTime } from "../../ui/time";
import { type MailDetail, outboxList, STATUS_WORDS, statusReason } from "./model";

/**
 * One mail as it was (or would be) sent: its status and why, its tries, and its bodies. The HTML body is shown as
 * its source, never rendered: it carries what users typed (escaped), and the console runs no markup from data.
 */
export default function OutboxDetailPage() {
  const { params } = useLocation();
  const id = params.id ?? "";
  const mail = useLoad(id, () => unwrap(api.GET("/api/v1/admin/outbox/{id}", { params: { path: { id } } })));
  return (
    <RecordPage record={mail} title="Mail" what="the mail" back={outboxList}>
      {(data) => <MailPage mail={data as MailDetail} />}
    </RecordPage>
  );
}

function MailPage({ mail: data }: { mail: MailDetail }) {
  return (
    <Page title={data.subject}>
      <BackLink to={outboxList} />
      <section class="card" aria-labelledby="delivery-title">
        <h2 id="delivery-title">Delivery</h2>
        <Facts
          rows={[
            [
              "Status",
              <>
                <span class={`tag tag-${STATUS_WORDS[data.status].tone}`}>{STATUS_WORDS[data.status].label}</span>{" "}
                {statusReason(data)}
              </>,
            ],
            ["To", data.recipient_name ? `${data.recipient_name} <${data.recipient_email}>` : data.recipient_email],
            [
              "Kind",
              <>
                <code>{data.kind}</code>
                {data.entity_type ? (
                  <>
                    {" "}
                    about {data.entity_type} <EntityLink type={data.entity_type} id={data.entity_id} />
                  </>
                ) : null}
              </>,
            ],
            ["Tries", data.attempts],
            ["Last error", data.last_error],
            ["Written", absoluteTime(data.created_at)],
            ["Last change", absoluteTime(data.updated_at)],
            ["Sent", data.sent_at ? absoluteTime(data.sent_at) : "–"],
            [
              "Caused by",
              data.actor_id ? (
                <>
                  a user (<Link href={`/users/${data.actor_id}`}>open their account</Link>)
                </>
              ) : (
                "the system (expiry scan)"
              ),
            ],
          ]}
        />
      </section>
      <section class="card" aria-labelledby="text-title">
        <h2 id="text-title">Text</h2>
        <pre class="mail-body">{data.text_body}</pre>
      </section>
      <details class="card">
        <summary>HTML source</summary>
        <pre class="mail-body">{data.html_body}</pre>
      </details>
    </Page>
  );
}

/** The record a mail is about: a link to its page where the console has one. */
function EntityLink({ type, id }: { type: string; id: string | null }) {
  if (id && (type === "product" || type === "task")) return <Link href={`/${type}s/${id}`}>{id}</Link>;
  return <code>{id}</code>;
}
