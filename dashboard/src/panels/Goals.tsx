// Every goal in priority order: badge, conversions, unique visitors, conversion rate
// (its conversions ÷ the site's visitors × 100, as the KPI), revenue, a sparkline.
// Choosing a goal filters the sessions (and sources) to it.
import { useEffect, useState } from "preact/hooks";
import type { Data } from "../SiteView";
import type { Site } from "../App";
import { request } from "../api/client";
import { interval, toApi, type Instants } from "../ranges";
import { count, exact, moneyList, percent } from "../format";
import { Badge, Skeleton } from "../ui";

const MAX_SPARKLINES = 25; // the server allows 30 aliases per request

/** One request for every goal's series, an alias per goal (a query shape codegen cannot type). */
async function sparklines(siteId: string, goalIds: string[], range: Instants): Promise<Record<string, number[]>> {
  const ids = goalIds.slice(0, MAX_SPARKLINES);
  if (!ids.length) return {};
  const fields = ids.map((_, i) => `g${i}: timeseries(siteId: $s, range: $r, interval: $i, goalId: $g${i}) { conversions }`);
  const vars = ids.map((_, i) => `$g${i}: ID!`).join(", ");
  const query = `query Sparklines($s: ID!, $r: DateRange!, $i: Interval!, ${vars}) { ${fields.join(" ")} }`;
  const variables: Record<string, unknown> = { s: siteId, r: toApi(range), i: interval(range) };
  ids.forEach((id, i) => { variables[`g${i}`] = id; });
  const data = await request<Record<string, { conversions: number }[]>, typeof variables>(query, variables);
  return Object.fromEntries(ids.map((id, i) => [id, data[`g${i}`].map((b) => b.conversions)]));
}

function Sparkline({ values, color }: { values: number[]; color: string }) {
  const w = 80, h = 24;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`).join(" ");
  return (
    <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} aria-hidden="true" focusable="false">
      <polyline points={points} fill="none" stroke={color} stroke-width="1.5" />
    </svg>
  );
}

export function GoalsPanel(props: {
  data: Data | null; site: Site; range: Instants; chosen: string | null;
  onChoose: (id: string | null) => void; onConfigure: () => void;
}) {
  const { data } = props;
  const [lines, setLines] = useState<Record<string, number[]>>({});
  const goalIds = data?.goals.map((g) => g.id).join(",") ?? "";
  useEffect(() => {
    if (!data) return;
    let live = true;
    sparklines(props.site.id, data.goals.map((g) => g.id), props.range).then((l) => live && setLines(l), () => {});
    return () => { live = false; };
  }, [goalIds, props.range, data]);

  const stats = new Map(data?.goalStats.map((s) => [s.goal.id, s]) ?? []);
  const visitors = data?.kpis.visitors ?? 0;
  return (
    <section class="panel" aria-labelledby="goals-title">
      <div class="panel-head">
        <h2 id="goals-title">Goals</h2>
        {props.chosen && <button type="button" class="link" onClick={() => props.onChoose(null)}>Show all goals</button>}
      </div>
      {!data ? <><Skeleton kind="line" /><Skeleton kind="line" /><Skeleton kind="line" /></> :
        data.goals.length === 0 ? (
          <div class="empty stack">
            <p>No goals yet. A goal counts the clicks, pageviews, form submissions or custom events that matter to you.</p>
            <button type="button" class="primary" onClick={props.onConfigure}>Add a goal</button>
          </div>
        ) : (
          <div class="scroll-x">
            <table class="data" aria-label="Goals">
              <thead>
                <tr>
                  <th scope="col">Goal</th>
                  <th scope="col">Conversions</th>
                  <th scope="col" class="hide-narrow">Unique visitors</th>
                  <th scope="col">Conversion rate</th>
                  <th scope="col">Revenue</th>
                  <th scope="col" class="hide-narrow"><span class="visually-hidden">Trend</span></th>
                </tr>
              </thead>
              <tbody>
                {data.goals.map((g) => {
                  const s = stats.get(g.id);
                  const conversions = s?.conversions ?? 0;
                  const rate = visitors ? (conversions / visitors) * 100 : 0;
                  const chosen = props.chosen === g.id;
                  return (
                    <tr key={g.id} class={chosen ? "chosen" : ""} data-goal-id={g.id}>
                      <td>
                        <button type="button" class="link" aria-pressed={chosen} title={`Show sessions with ${g.name}`}
                          onClick={() => props.onChoose(chosen ? null : g.id)}>
                          <Badge name={g.name} color={g.badge.color} />
                        </button>
                      </td>
                      <td data-col="conversions" title={exact(conversions)}>{count(conversions)}</td>
                      <td data-col="visitors" class="hide-narrow">{count(s?.uniqueVisitors ?? 0)}</td>
                      <td data-col="rate">{percent(rate)}</td>
                      <td data-col="revenue">{moneyList(s?.revenue ?? [])}</td>
                      <td class="hide-narrow">{lines[g.id] && <Sparkline values={lines[g.id]} color={g.badge.color} />}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
    </section>
  );
}
