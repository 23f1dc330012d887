// §8's breakdown by source, UTM campaign and entry page; follows the chosen goal. Rendered
// only when the server's schema has Query.breakdown (see api/optional.ts).
import { useEffect, useState } from "preact/hooks";
import type { Site } from "../App";
import { breakdown, type BreakdownRow, type Dimension } from "../api/optional";
import { toApi, type Instants } from "../ranges";
import { count, moneyList, percent } from "../format";
import { Skeleton } from "../ui";

const TABS: { by: Dimension; label: string }[] = [
  { by: "SOURCE", label: "Source" },
  { by: "UTM_CAMPAIGN", label: "UTM campaign" },
  { by: "ENTRY_PAGE", label: "Entry page" },
];

export function Sources(props: { site: Site; range: Instants; goalId: string | null; tick: number }) {
  const [by, setBy] = useState<Dimension>("SOURCE");
  const [rows, setRows] = useState<BreakdownRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    breakdown({ siteId: props.site.id, by, range: toApi(props.range), goalId: props.goalId })
      .then((r) => { if (live) { setRows(r); setError(null); } }, (e: Error) => live && setError(e.message));
    return () => { live = false; };
  }, [props.site.id, by, props.range, props.goalId]);
  const label = TABS.find((t) => t.by === by)!.label;
  return (
    <section class="panel" aria-labelledby="sources-title">
      <div class="panel-head">
        <h2 id="sources-title">Sources</h2>
        <select aria-label="Break down by" value={by} onChange={(e) => setBy(e.currentTarget.value as Dimension)}>
          {TABS.map((t) => <option key={t.by} value={t.by}>{t.label}</option>)}
        </select>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {!rows ? <><Skeleton kind="line" /><Skeleton kind="line" /></> : rows.length === 0 ? (
        <p class="empty">No visits in this range.</p>
      ) : (
        <div class="scroll-x">
          <table class="data" aria-label={`Sources by ${label.toLowerCase()}`}>
            <thead><tr>
              <th scope="col">{label}</th><th scope="col">Visitors</th><th scope="col">Conversions</th>
              <th scope="col">Conversion rate</th><th scope="col" class="hide-narrow">Revenue</th>
            </tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.value ?? "(none)"}>
                  <td>{r.value ?? "(none)"}</td><td>{count(r.visitors)}</td><td>{count(r.conversions)}</td>
                  <td>{percent(r.conversionRate)}</td><td class="hide-narrow">{moneyList(r.revenue)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
