import type { Data } from "../SiteView";
import { change, count, exact, money, percent } from "../format";
import { Skeleton } from "../ui";
import type { Money } from "../format";

function Card(props: { label: string; value?: string; title?: string; raw?: string; delta?: string | null; small?: boolean }) {
  const id = `kpi-${props.label.toLowerCase().replace(/\W+/g, "-")}`;
  const dir = props.delta?.startsWith("+") ? "up" : props.delta?.startsWith("-") ? "down" : "";
  return (
    <section class="kpi" role="group" aria-labelledby={id}>
      <h2 id={id}>{props.label}</h2>
      {props.value === undefined ? <Skeleton /> : (
        <>
          <div class={`value${props.small ? " small" : ""}`} title={props.title} data-value={props.raw}>{props.value}</div>
          <div class={`change ${dir}`}>
            {props.delta === undefined ? "" : props.delta === null ? "new" : `${props.delta} vs previous period`}
          </div>
        </>
      )}
    </section>
  );
}

function revenueChange(now: Money[], before: Money[]): string | null | undefined {
  if (now.length !== 1 && before.length !== 1) return undefined;
  const cur = (now[0] ?? before[0]).currency;
  const a = Number(now.find((m) => m.currency === cur)?.amount ?? 0);
  const b = Number(before.find((m) => m.currency === cur)?.amount ?? 0);
  return change(a, b);
}

export function Kpis({ data }: { data: Data | null }) {
  const k = data?.kpis;
  const p = data?.previous;
  const conversionGoal = data?.goals.some((g) => g.countsAsConversion);
  const num = (label: string, pick: (x: NonNullable<typeof k>) => number) => (
    <Card label={label} value={k && count(pick(k))} title={k && exact(pick(k))} raw={k && String(pick(k))}
      delta={k && p && change(pick(k), pick(p))} />
  );
  return (
    <div class="kpis">
      {num("Visitors", (x) => x.visitors)}
      {num("Sessions", (x) => x.sessions)}
      {num("Pageviews", (x) => x.pageviews)}
      <Card label="Revenue" small={!!k && k.revenue.length > 1}
        value={k && (k.revenue.length ? k.revenue.map(money).join(" · ") : "0")}
        raw={k && k.revenue.map((m) => `${m.amount} ${m.currency}`).join("; ")}
        delta={k && p && revenueChange(k.revenue, p.revenue)} />
      {(!data || conversionGoal) && num("Conversions", (x) => x.conversions)}
      {(!data || conversionGoal) && (
        <Card label="Conversion rate" value={k && percent(k.conversionRate)} raw={k && String(k.conversionRate)}
          delta={k && p && change(k.conversionRate, p.conversionRate)} />
      )}
    </div>
  );
}
