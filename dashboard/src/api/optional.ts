// Operations of contract §8 that the committed schema.graphql may not have yet: `breakdown`
// (the sources panel) and `Subscription.events` (live updates). The app asks the server's schema
// at start (features()) and uses each only where the server has it; their documents and types
// are written here by hand from §8, since codegen checks documents against schema.graphql.
import { request } from "./client";
import { FeaturesDocument } from "../gql/graphql";
import type { DateRange } from "../gql/graphql";
import type { Money } from "../format";

export type Features = { breakdown: boolean; liveEvents: boolean };

export async function features(): Promise<Features> {
  const data = await request(FeaturesDocument);
  const queries = new Set(data.query?.fields?.map((f) => f.name) ?? []);
  const subscriptions = new Set(data.subscription?.fields?.map((f) => f.name) ?? []);
  return { breakdown: queries.has("breakdown"), liveEvents: subscriptions.has("events") };
}

export type Dimension = "SOURCE" | "UTM_CAMPAIGN" | "ENTRY_PAGE";
export type BreakdownRow = {
  value: string | null;
  visitors: number;
  conversions: number;
  conversionRate: number;
  revenue: Money[];
};

const BREAKDOWN = `query Breakdown($siteId: ID!, $by: Dimension!, $range: DateRange, $goalId: ID) {
  breakdown(siteId: $siteId, by: $by, range: $range, goalId: $goalId, first: 10) {
    value visitors conversions conversionRate revenue { amount currency }
  }
}`;

export async function breakdown(vars: {
  siteId: string;
  by: Dimension;
  range: DateRange;
  goalId: string | null;
}): Promise<BreakdownRow[]> {
  const data = await request<{ breakdown: BreakdownRow[] }, typeof vars>(BREAKDOWN, vars);
  return data.breakdown;
}

export const LIVE_EVENTS = `subscription Live($siteId: ID!) { events(siteId: $siteId) { id } }`;
