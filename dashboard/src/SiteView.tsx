// One site over one range: KPI cards, chart, goals, sources, sessions.
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Dialog, Site } from "./App";
import type { Features } from "./api/optional";
import { request } from "./api/client";
import { DashboardDocument, type DashboardQuery } from "./gql/graphql";
import { interval, previous, resolve, toApi, type Instants } from "./ranges";
import type { Route } from "./route";
import { useLiveTick } from "./live";
import { Kpis } from "./panels/Kpis";
import { Chart } from "./panels/Chart";
import { GoalsPanel } from "./panels/Goals";
import { Sources } from "./panels/Sources";
import { Sessions } from "./panels/Sessions";
import { Snippet } from "./settings/Snippet";

export type Data = DashboardQuery;

export function SiteView(props: { site: Site; route: Route; features: Features; onDialog: (d: Dialog) => void }) {
  const { site, route, features } = props;
  const tick = useLiveTick(site.id, features.liveEvents);
  // ranges that end now move with each live tick
  const range: Instants = useMemo(() => resolve(route.range, site.timezone), [route.range.key, route.range.from, route.range.to, site.timezone, tick]);
  const [data, setData] = useState<Data | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [goalId, setGoalId] = useState<string | null>(null);
  const [goalsVersion, setGoalsVersion] = useState(0);

  useEffect(() => {
    let live = true;
    request(DashboardDocument, {
      siteId: site.id, range: toApi(range), previous: toApi(previous(range)), interval: interval(range),
    }).then((d) => { if (live) { setData(d); setError(null); } }, (e: Error) => live && setError(e.message));
    return () => { live = false; };
  }, [site.id, range, goalsVersion]);

  // the goals dialog changes goals: read them again when it closes
  useEffect(() => {
    const onChange = () => setGoalsVersion((v) => v + 1);
    addEventListener("goalpost:goals-changed", onChange);
    return () => removeEventListener("goalpost:goals-changed", onChange);
  }, []);

  const empty = data && data.kpis.visitors === 0 && data.previous.visitors === 0;
  return (
    <main aria-busy={!data}>
      {error && <p class="error" role="alert">{error}</p>}
      <Kpis data={data} />
      {empty && (
        <section class="panel empty stack" aria-labelledby="start-title">
          <h2 id="start-title">No visitors yet</h2>
          <p>Put this snippet in the &lt;head&gt; of every page of {site.domain}; visits appear here within seconds.
            Then add goals (Settings → Goals) for the clicks, forms and events that matter.</p>
          <Snippet site={site} />
        </section>
      )}
      <Chart data={data} site={site} hourly={interval(range) === "HOUR"} />
      <div class={features.breakdown ? "grid-2" : ""}>
        <GoalsPanel data={data} site={site} range={range} chosen={goalId} onChoose={setGoalId}
          onConfigure={() => props.onDialog("goals")} />
        {features.breakdown && <Sources site={site} range={range} goalId={goalId} tick={tick} />}
      </div>
      <Sessions site={site} range={range} goals={data?.goals ?? []} goalId={goalId} onGoal={setGoalId} tick={tick} />
    </main>
  );
}
