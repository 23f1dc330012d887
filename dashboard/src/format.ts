// Numbers people read: 1.2k, 3.4M; money in each currency's own format; one place for all.
/** An exact amount: the decimal string the server sends. */
export type Money = { amount: string; currency: string };

const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat("en");

export function count(n: number): string {
  return Math.abs(n) < 1000 ? whole.format(n) : compact.format(n);
}

export function exact(n: number): string {
  return whole.format(n);
}

export function percent(n: number): string {
  return `${n.toFixed(n !== 0 && Math.abs(n) < 10 ? 2 : 1)}%`;
}

const moneyFormats = new Map<string, Intl.NumberFormat>();
export function money(m: Money): string {
  let f = moneyFormats.get(m.currency);
  if (!f) {
    try {
      f = new Intl.NumberFormat("en", { style: "currency", currency: m.currency });
    } catch {
      f = new Intl.NumberFormat("en", { minimumFractionDigits: 2 });
    }
    moneyFormats.set(m.currency, f);
  }
  // Intl takes the decimal string itself: no binary float between the server and the screen
  return f.format(m.amount as unknown as number);
}

export function moneyList(list: Money[]): string {
  return list.length ? list.map(money).join(" · ") : "—";
}

/** Change against the previous period, as a signed percentage; null when there is no base. */
export function change(now: number, before: number): string | null {
  if (before === 0) return now === 0 ? "0%" : null;
  const p = ((now - before) / before) * 100;
  return `${p > 0 ? "+" : ""}${p.toFixed(Math.abs(p) < 10 ? 1 : 0)}%`;
}

export function dateTime(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat("en", {
    timeZone, dateStyle: "medium", timeStyle: "short",
  }).format(new Date(iso));
}

export function time(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat("en", { timeZone, timeStyle: "medium" }).format(new Date(iso));
}

export function bucketLabel(iso: string, timeZone: string, hourly: boolean): string {
  return new Intl.DateTimeFormat("en", hourly
    ? { timeZone, month: "short", day: "numeric", hour: "numeric" }
    : { timeZone, month: "short", day: "numeric" }).format(new Date(iso));
}
