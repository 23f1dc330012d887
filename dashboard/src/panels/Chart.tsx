// Visitors and conversions over the range (uPlot), with the same numbers as a table for
// screen readers.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { Data } from "../SiteView";
import type { Site } from "../App";
import { bucketLabel, exact } from "../format";
import { Skeleton } from "../ui";

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function Chart(props: { data: Data | null; site: Site; hourly: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const series = props.data?.timeseries;
  useEffect(() => {
    const el = box.current;
    if (!el || !series) return;
    const xs = series.map((b) => Date.parse(b.start) / 1000);
    const tz = props.site.timezone;
    const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--line"), width: 1 }, ticks: { show: false } };
    const opts: uPlot.Options = {
      width: el.clientWidth, height: 240, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
      legend: { show: false }, cursor: { y: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, max * 1.1)] } },
      axes: [{
        ...axis,
        // whole days or hours of the site: one tick per bucket while they fit, labelled as the table is
        splits: series.length <= Math.max(2, Math.floor(el.clientWidth / 70)) ? () => xs : undefined,
        values: (_u, vals) => vals.map((v) => bucketLabel(new Date(v * 1000).toISOString(), tz, props.hourly)),
      }, { ...axis, size: 44, values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? exact(v) : "")) }],
      series: [
        {},
        { label: "Visitors", stroke: cssVar("--visitors"), width: 2, fill: cssVar("--visitors") + "22", points: { show: false } },
        { label: "Conversions", stroke: cssVar("--conversions"), width: 2, points: { show: false } },
      ],
    };
    const plot = new uPlot(opts, [xs, series.map((b) => b.visitors), series.map((b) => b.conversions)], el);
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: 240 }));
    resize.observe(el);
    return () => { resize.disconnect(); plot.destroy(); };
  }, [series, props.site.timezone]);

  return (
    <section class="panel" aria-labelledby="chart-title">
      <div class="panel-head">
        <h2 id="chart-title">Visitors and conversions</h2>
        <div class="legend" aria-hidden="true">
          <span><span class="swatch visitors" />Visitors</span>
          <span><span class="swatch conversions" />Conversions</span>
        </div>
      </div>
      {!series && <Skeleton kind="chart" />}
      <div ref={box} class="chart" aria-hidden="true" hidden={!series} />
      {series && (
        <table class="visually-hidden">
          <caption>Visitors and conversions per {props.hourly ? "hour" : "day"}</caption>
          <thead><tr><th scope="col">{props.hourly ? "Hour" : "Day"}</th><th scope="col">Visitors</th><th scope="col">Conversions</th></tr></thead>
          <tbody>
            {series.map((b) => (
              <tr key={b.start}><th scope="row">{bucketLabel(b.start, props.site.timezone, props.hourly)}</th><td>{b.visitors}</td><td>{b.conversions}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
