import { Page } from "../../ui/page";

/** Stands in for an admin page until it is built; the route, its role and the navigation are already in place. */
export default function Pending() {
  return (
    <Page title="Not built yet">
      <p>This page is not part of the console yet. The API serves its data today: see the API docs.</p>
      <p>
        <a href="/docs">API docs</a>
      </p>
    </Page>
  );
}
