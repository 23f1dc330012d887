import { useEffect, useState } from "preact/hooks";
import type { Dialog, Site } from "./App";
import { navigate, type Route } from "./route";
import { RANGE_LABELS, type RangeKey, today, addDays, ymd } from "./ranges";
import { Menu } from "./ui";

export function Header(props: {
  sites: Site[]; site: Site | null; route: Route; admin: boolean;
  onDialog: (d: Dialog) => void; onSignOut: () => void;
}) {
  const { sites, site, route, admin } = props;
  const menu = [
    { label: "Goals", onSelect: () => props.onDialog("goals") },
    { label: "Site settings", onSelect: () => props.onDialog("site") },
    ...(admin ? [{ label: "API keys", onSelect: () => props.onDialog("keys") }] : []),
  ];
  const chooseRange = (key: RangeKey) => {
    if (key !== "custom") return navigate({ ...route, range: { key } });
    const t = today(site?.timezone ?? "UTC");
    navigate({ ...route, range: { key, from: ymd(addDays(t, -6)), to: ymd(t) } });
  };
  return (
    <header class="top">
      <h1>Goalpost</h1>
      <div class="controls">
        <label>
          <span class="visually-hidden">Site</span>
          <select aria-label="Site" value={site?.id ?? ""} disabled={!sites.length}
            onChange={(e) => navigate({ ...route, siteId: e.currentTarget.value })}>
            {sites.map((s) => <option key={s.id} value={s.id}>{s.name ? `${s.name} (${s.domain})` : s.domain}</option>)}
          </select>
        </label>
        {admin && <button type="button" onClick={() => props.onDialog("add-site")}>Add site</button>}
        <select aria-label="Date range" value={route.range.key}
          onChange={(e) => chooseRange(e.currentTarget.value as RangeKey)}>
          {(Object.keys(RANGE_LABELS) as RangeKey[]).map((k) => <option key={k} value={k}>{RANGE_LABELS[k]}</option>)}
        </select>
        {route.range.key === "custom" && <CustomRange route={route} />}
        {site && <Menu label="Settings" items={menu} />}
        <button type="button" onClick={props.onSignOut}>Sign out</button>
      </div>
    </header>
  );
}

function CustomRange({ route }: { route: Route }) {
  const [from, setFrom] = useState(route.range.from ?? "");
  const [to, setTo] = useState(route.range.to ?? "");
  useEffect(() => { setFrom(route.range.from ?? ""); setTo(route.range.to ?? ""); }, [route.range.from, route.range.to]);
  const apply = (f: string, t: string) => {
    if (f && t && f <= t) navigate({ ...route, range: { key: "custom", from: f, to: t } });
  };
  return (
    <div class="custom-range">
      <label class="row">From <input type="date" value={from} max={to || undefined}
        onChange={(e) => { setFrom(e.currentTarget.value); apply(e.currentTarget.value, to); }} /></label>
      <label class="row">To <input type="date" value={to} min={from || undefined}
        onChange={(e) => { setTo(e.currentTarget.value); apply(from, e.currentTarget.value); }} /></label>
    </div>
  );
}
