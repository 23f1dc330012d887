// Sessions, newest first; converted ones marked; filters converted / not / by goal; a session
// expands into its events in order, each matching event with its goal's badge; "Load more"
// pages by cursor.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Site } from "../App";
import { request } from "../api/client";
import { SessionsDocument, type SessionsQuery, type GoalFieldsFragment } from "../gql/graphql";
import { toApi, type Instants } from "../ranges";
import { dateTime, exact, money, time } from "../format";
import { Badge, Skeleton } from "../ui";

type Page = SessionsQuery["sessions"];
type SessionNode = Page["edges"][number]["node"];
type Converted = "" | "yes" | "no";

export function Sessions(props: {
  site: Site; range: Instants; goals: GoalFieldsFragment[]; goalId: string | null;
  onGoal: (id: string | null) => void; tick: number;
}) {
  const { site, range, goalId } = props;
  const [converted, setConverted] = useState<Converted>("");
  const [nodes, setNodes] = useState<SessionNode[] | null>(null);
  const [page, setPage] = useState<Page | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const filter = {
    ...(converted ? { converted: converted === "yes" } : {}),
    ...(goalId ? { goalId } : {}),
  };
  const load = (after: string | null) =>
    request(SessionsDocument, { siteId: site.id, range: toApi(range), filter, after }).then((d) => d.sessions);

  // the first page again whenever the view or a filter changes, or new events may have come
  // (unless the reader has paged further: their list stays put)
  const view = `${site.id} ${range.from.toISOString()} ${goalId} ${converted}`;
  const lastView = useRef("");
  // the reader asked for more of this view: a refresh of its first page, even one already on
  // its way when they did, must not take their list back to one page
  const paged = useRef(false);
  useEffect(() => {
    const refresh = view === lastView.current;
    if (refresh && paged.current) return;
    if (!refresh) paged.current = false;
    lastView.current = view;
    let live = true;
    load(null).then((p) => {
      if (!live || (refresh && paged.current)) return;
      setPage(p); setNodes(p.edges.map((e) => e.node)); setError(null);
    }, (e: Error) => live && setError(e.message));
    return () => { live = false; };
  }, [site.id, range, goalId, converted]);

  const more = async () => {
    if (!page?.pageInfo.endCursor) return;
    paged.current = true;
    setBusy(true);
    try {
      const next = await load(page.pageInfo.endCursor);
      setPage(next);
      setNodes([...(nodes ?? []), ...next.edges.map((e) => e.node)]);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="sessions-title">
      <div class="panel-head">
        <h2 id="sessions-title">Sessions{page ? <span class="muted"> ({exact(page.totalCount)})</span> : null}</h2>
        <div class="row">
          <select aria-label="Conversion filter" value={converted} onChange={(e) => setConverted(e.currentTarget.value as Converted)}>
            <option value="">All sessions</option>
            <option value="yes">Converted</option>
            <option value="no">Not converted</option>
          </select>
          <select aria-label="Goal filter" value={goalId ?? ""} onChange={(e) => props.onGoal(e.currentTarget.value || null)}>
            <option value="">Any goal</option>
            {props.goals.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
          </select>
        </div>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {!nodes ? <><Skeleton kind="line" /><Skeleton kind="line" /><Skeleton kind="line" /></> :
        nodes.length === 0 ? <p class="empty">No sessions in this range{goalId || converted ? " with these filters" : ""}.</p> : (
          <ul class="sessions" aria-label="Sessions">
            {nodes.map((s) => <SessionItem key={s.id} session={s} timeZone={site.timezone} />)}
          </ul>
        )}
      {page?.pageInfo.hasNextPage && (
        <button type="button" onClick={more} disabled={busy}>{busy ? "Loading…" : "Load more"}</button>
      )}
    </section>
  );
}

function SessionItem({ session, timeZone }: { session: SessionNode; timeZone: string }) {
  const [open, setOpen] = useState(false);
  const id = `session-${session.id}`;
  return (
    <li>
      <button type="button" class="session-toggle" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
        <span class="where">{session.entryPath ?? "/"} <span class="muted">· {session.referrer ? new URL(session.referrer, "http://x").host || session.referrer : "Direct"}</span></span>
        <span>{session.hasConverted && <span class="converted">Converted</span>}</span>
        <span class="muted"><time dateTime={session.startedAt}>{dateTime(session.startedAt, timeZone)}</time></span>
        <span class="muted">{session.events.length} {session.events.length === 1 ? "event" : "events"}</span>
      </button>
      {open && (
        <ol id={id} class="events" aria-label="Events">
          {session.events.map((e) => (
            <li key={e.id}>
              <time dateTime={e.occurredAt}>{time(e.occurredAt, timeZone)}</time>
              <span>{e.type === "custom" ? e.name : e.type}{e.path ? ` ${e.path}` : ""}</span>
              {e.revenue && <span>{money(e.revenue)}</span>}
              {e.goal && <Badge name={e.goal.name} color={e.goal.badge.color} />}
            </li>
          ))}
        </ol>
      )}
    </li>
  );
}
