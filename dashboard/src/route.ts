// What the dashboard shows lives in the URL: /site/<id>?range=7d (custom: &from=…&to=…,
// inclusive dates of the site's time zone). pushState on each choice, so Back returns to it.
import { useEffect, useState } from "preact/hooks";
import type { RangeChoice, RangeKey } from "./ranges";
import { RANGE_LABELS } from "./ranges";

export type Route = { siteId: string | null; range: RangeChoice };

export function parse(location: Location): Route {
  const m = /^\/site\/([^/]+)\/?$/.exec(location.pathname);
  const q = new URLSearchParams(location.search);
  const key = (q.get("range") ?? "30d") as RangeKey;
  const range: RangeChoice = key in RANGE_LABELS ? { key } : { key: "30d" };
  if (range.key === "custom") {
    range.from = q.get("from") ?? undefined;
    range.to = q.get("to") ?? undefined;
  }
  return { siteId: m ? decodeURIComponent(m[1]) : null, range };
}

export function href(route: Route): string {
  const q = new URLSearchParams({ range: route.range.key });
  if (route.range.key === "custom") {
    if (route.range.from) q.set("from", route.range.from);
    if (route.range.to) q.set("to", route.range.to);
  }
  return route.siteId ? `/site/${encodeURIComponent(route.siteId)}?${q}` : `/?${q}`;
}

export function navigate(route: Route, replace = false) {
  const url = href(route);
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location));
  useEffect(() => {
    const update = () => setRoute(parse(location));
    addEventListener("popstate", update);
    return () => removeEventListener("popstate", update);
  }, []);
  return route;
}
