// Date ranges in the site's time zone (contract §7): each names calendar days of that zone;
// ranges that include today end now. A range becomes the half-open [from, to) the API takes.

export type RangeKey = "today" | "yesterday" | "7d" | "30d" | "month" | "lastmonth" | "custom";

export const RANGE_LABELS: Record<RangeKey, string> = {
  today: "Today",
  yesterday: "Yesterday",
  "7d": "Last 7 days",
  "30d": "Last 30 days",
  month: "This month",
  lastmonth: "Last month",
  custom: "Custom",
};

export type RangeChoice = { key: RangeKey; from?: string; to?: string }; // custom: YYYY-MM-DD, inclusive
export type Instants = { from: Date; to: Date };

type Ymd = { y: number; m: number; d: number };

const partsCache = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = partsCache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
      hour: "numeric", minute: "numeric", second: "numeric",
    });
    partsCache.set(timeZone, f);
  }
  return f;
}

/** The wall-clock fields of an instant in a time zone. */
function wall(at: Date, timeZone: string) {
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(at)) if (p.type !== "literal") out[p.type] = +p.value;
  return out as { year: number; month: number; day: number; hour: number; minute: number; second: number };
}

function offsetMs(at: Date, timeZone: string): number {
  const w = wall(at, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant a calendar day begins in a time zone (the first instant of that date). */
export function startOfDay(day: Ymd, timeZone: string): Date {
  const guess = Date.UTC(day.y, day.m - 1, day.d);
  let at = guess - offsetMs(new Date(guess), timeZone);
  at = guess - offsetMs(new Date(at), timeZone); // again: the offset may differ at the result
  return new Date(at);
}

export function today(timeZone: string, now = new Date()): Ymd {
  const w = wall(now, timeZone);
  return { y: w.year, m: w.month, d: w.day };
}

export function addDays(day: Ymd, n: number): Ymd {
  const t = new Date(Date.UTC(day.y, day.m - 1, day.d + n));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

export function parseYmd(s: string | undefined): Ymd | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s ?? "");
  if (!m) return null;
  const day = { y: +m[1], m: +m[2], d: +m[3] };
  const check = addDays(day, 0);
  return check.y === day.y && check.m === day.m && check.d === day.d ? day : null;
}

export function ymd(day: Ymd): string {
  return `${day.y}-${String(day.m).padStart(2, "0")}-${String(day.d).padStart(2, "0")}`;
}

export function resolve(choice: RangeChoice, timeZone: string, now = new Date()): Instants {
  const t = today(timeZone, now);
  const start = (d: Ymd) => startOfDay(d, timeZone);
  switch (choice.key) {
    case "today":
      return { from: start(t), to: now };
    case "yesterday":
      return { from: start(addDays(t, -1)), to: start(t) };
    case "7d":
      return { from: start(addDays(t, -6)), to: now };
    case "month":
      return { from: start({ ...t, d: 1 }), to: now };
    case "lastmonth": {
      const first = { ...t, d: 1 };
      return { from: start({ ...addDays(first, -1), d: 1 }), to: start(first) };
    }
    case "custom": {
      const from = parseYmd(choice.from);
      const to = parseYmd(choice.to);
      if (from && to && ymd(from) <= ymd(to)) return { from: start(from), to: start(addDays(to, 1)) };
      return { from: start(addDays(t, -29)), to: now };
    }
    default:
      return { from: start(addDays(t, -29)), to: now };
  }
}

/** The period of the same length just before. */
export function previous(range: Instants): Instants {
  const length = range.to.getTime() - range.from.getTime();
  return { from: new Date(range.from.getTime() - length), to: range.from };
}

export const TWO_DAYS_MS = 2 * 24 * 3600 * 1000;

export function interval(range: Instants): "HOUR" | "DAY" {
  return range.to.getTime() - range.from.getTime() <= TWO_DAYS_MS + 3600 * 1000 ? "HOUR" : "DAY";
}

export function toApi(range: Instants) {
  return { from: range.from.toISOString(), to: range.to.toISOString() };
}
