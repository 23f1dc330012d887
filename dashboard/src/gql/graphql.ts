/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type BadgeInput = {
  color: string;
  icon?: string | null | undefined;
};

export type ConditionField =
  | 'ASIN'
  | 'DOMAIN'
  | 'EVENT_NAME'
  | 'FORM_ID'
  | 'FORM_NAME'
  | 'LINK_TEXT'
  | 'PAGE_URL'
  | 'PATH'
  | 'PLUGIN'
  | 'PROPERTY_KEY'
  | 'PROPERTY_VALUE'
  | 'TITLE'
  | 'URL';

export type ConditionInput = {
  field: ConditionField;
  operator: Operator;
  value?: string | null | undefined;
};

export type CreateGoalInput = {
  badge?: BadgeInput | null | undefined;
  conditions: Array<ConditionInput>;
  countsAsConversion?: boolean | null | undefined;
  matchLogic?: MatchLogic | null | undefined;
  name: string;
  /** Where to insert (goals at and after it move down); omitted or beyond the end: evaluated last. */
  priority?: number | null | undefined;
  siteId: string | number;
  type: GoalType;
};

/** Half-open [from, to). Omitted: the last 30 days up to now. */
export type DateRange = {
  from: string;
  to: string;
};

export type GoalType =
  | 'CLICK'
  | 'CUSTOM_EVENT'
  | 'FORM'
  | 'PAGEVIEW';

export type Interval =
  | 'DAY'
  | 'HOUR';

export type MatchLogic =
  | 'ALL'
  | 'ANY';

export type Operator =
  | 'CONTAINS'
  | 'ENDS_WITH'
  | 'EQUALS'
  | 'IS_EMPTY'
  | 'IS_NOT_EMPTY'
  | 'NOT_CONTAINS'
  | 'NOT_EQUALS'
  | 'STARTS_WITH';

export type SessionFilter = {
  /** true: sessions with a conversion; false: without. */
  converted?: boolean | null | undefined;
  /** Sessions with an event that recorded this goal. */
  goalId?: string | number | null | undefined;
};

/** The same fields as POST /api/event. */
export type TestEventInput = {
  click?: unknown;
  form?: unknown;
  name?: string | null | undefined;
  props?: unknown;
  type: string;
  url?: string | null | undefined;
};

/** Only what is given changes; the type of a goal never changes. */
export type UpdateGoalInput = {
  badge?: BadgeInput | null | undefined;
  conditions?: Array<ConditionInput> | null | undefined;
  countsAsConversion?: boolean | null | undefined;
  matchLogic?: MatchLogic | null | undefined;
  name?: string | null | undefined;
};

export type GoalFieldsFragment = { id: string, name: string, type: GoalType, priority: number, matchLogic: MatchLogic, countsAsConversion: boolean, badge: { color: string, icon: string | null }, conditions: Array<{ field: ConditionField, operator: Operator, value: string | null }> };

export type SitesQueryVariables = Exact<{ [key: string]: never; }>;


export type SitesQuery = { sites: Array<{ id: string, domain: string, name: string | null, timezone: string }> };

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { viewer: { admin: boolean } };

export type DashboardQueryVariables = Exact<{
  siteId: string | number;
  range: DateRange;
  previous: DateRange;
  interval: Interval;
}>;


export type DashboardQuery = { goals: Array<{ id: string, name: string, type: GoalType, priority: number, matchLogic: MatchLogic, countsAsConversion: boolean, badge: { color: string, icon: string | null }, conditions: Array<{ field: ConditionField, operator: Operator, value: string | null }> }>, kpis: { visitors: number, sessions: number, pageviews: number, conversions: number, conversionRate: number, revenue: Array<{ amount: string, currency: string }> }, previous: { visitors: number, sessions: number, pageviews: number, conversions: number, conversionRate: number, revenue: Array<{ amount: string, currency: string }> }, goalStats: Array<{ conversions: number, uniqueVisitors: number, goal: { id: string }, revenue: Array<{ amount: string, currency: string }> }>, timeseries: Array<{ start: string, visitors: number, conversions: number }> };

export type SessionsQueryVariables = Exact<{
  siteId: string | number;
  range: DateRange;
  filter?: SessionFilter | null | undefined;
  after?: string | null | undefined;
}>;


export type SessionsQuery = { sessions: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, visitorId: string, startedAt: string, lastSeenAt: string, entryPath: string | null, referrer: string | null, hasConverted: boolean, events: Array<{ id: string, type: string, name: string | null, path: string | null, occurredAt: string, revenue: { amount: string, currency: string } | null, goal: { id: string, name: string, badge: { color: string } } | null }> } }> } };

export type GoalsQueryVariables = Exact<{
  siteId: string | number;
}>;


export type GoalsQuery = { goals: Array<{ id: string, name: string, type: GoalType, priority: number, matchLogic: MatchLogic, countsAsConversion: boolean, badge: { color: string, icon: string | null }, conditions: Array<{ field: ConditionField, operator: Operator, value: string | null }> }> };

export type CreateGoalMutationVariables = Exact<{
  input: CreateGoalInput;
}>;


export type CreateGoalMutation = { createGoal: { id: string, name: string, type: GoalType, priority: number, matchLogic: MatchLogic, countsAsConversion: boolean, badge: { color: string, icon: string | null }, conditions: Array<{ field: ConditionField, operator: Operator, value: string | null }> } };

export type UpdateGoalMutationVariables = Exact<{
  id: string | number;
  input: UpdateGoalInput;
}>;


export type UpdateGoalMutation = { updateGoal: { id: string, name: string, type: GoalType, priority: number, matchLogic: MatchLogic, countsAsConversion: boolean, badge: { color: string, icon: string | null }, conditions: Array<{ field: ConditionField, operator: Operator, value: string | null }> } };

export type DeleteGoalMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteGoalMutation = { deleteGoal: string };

export type ReorderGoalsMutationVariables = Exact<{
  siteId: string | number;
  goalIds: Array<string | number> | string | number;
}>;


export type ReorderGoalsMutation = { reorderGoals: Array<{ id: string, priority: number }> };

export type TestEventQueryVariables = Exact<{
  siteId: string | number;
  event: TestEventInput;
}>;


export type TestEventQuery = { testEvent: { goal: { id: string, name: string } | null, tried: Array<{ matched: boolean, goal: { id: string, name: string }, conditions: Array<{ actual: string | null, matched: boolean, condition: { field: ConditionField, operator: Operator, value: string | null } }> }> } };

export type CreateSiteMutationVariables = Exact<{
  domain: string;
  name?: string | null | undefined;
  timezone?: string | null | undefined;
}>;


export type CreateSiteMutation = { createSite: { id: string, domain: string, name: string | null, timezone: string } };

export type UpdateSiteMutationVariables = Exact<{
  id: string | number;
  name?: string | null | undefined;
  timezone?: string | null | undefined;
}>;


export type UpdateSiteMutation = { updateSite: { id: string, domain: string, name: string | null, timezone: string } };

export type ApiKeysQueryVariables = Exact<{
  siteId: string | number;
}>;


export type ApiKeysQuery = { site: { id: string, apiKeys: Array<{ id: string, label: string | null, createdAt: string, revokedAt: string | null }> } | null };

export type CreateApiKeyMutationVariables = Exact<{
  siteId: string | number;
  label?: string | null | undefined;
}>;


export type CreateApiKeyMutation = { createApiKey: { secret: string, apiKey: { id: string, label: string | null, createdAt: string, revokedAt: string | null } } };

export type RevokeApiKeyMutationVariables = Exact<{
  id: string | number;
}>;


export type RevokeApiKeyMutation = { revokeApiKey: { id: string, revokedAt: string | null } };

export type FeaturesQueryVariables = Exact<{ [key: string]: never; }>;


export type FeaturesQuery = { query: { fields: Array<{ name: string }> | null } | null, subscription: { fields: Array<{ name: string }> | null } | null };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const GoalFieldsFragmentDoc = new TypedDocumentString(`
    fragment GoalFields on Goal {
  id
  name
  type
  priority
  matchLogic
  countsAsConversion
  badge {
    color
    icon
  }
  conditions {
    field
    operator
    value
  }
}
    `, {"fragmentName":"GoalFields"}) as unknown as TypedDocumentString<GoalFieldsFragment, unknown>;
export const SitesDocument = new TypedDocumentString(`
    query Sites {
  sites {
    id
    domain
    name
    timezone
  }
}
    `) as unknown as TypedDocumentString<SitesQuery, SitesQueryVariables>;
export const ViewerDocument = new TypedDocumentString(`
    query Viewer {
  viewer {
    admin
  }
}
    `) as unknown as TypedDocumentString<ViewerQuery, ViewerQueryVariables>;
export const DashboardDocument = new TypedDocumentString(`
    query Dashboard($siteId: ID!, $range: DateRange!, $previous: DateRange!, $interval: Interval!) {
  goals(siteId: $siteId) {
    ...GoalFields
  }
  kpis(siteId: $siteId, range: $range) {
    visitors
    sessions
    pageviews
    conversions
    conversionRate
    revenue {
      amount
      currency
    }
  }
  previous: kpis(siteId: $siteId, range: $previous) {
    visitors
    sessions
    pageviews
    conversions
    conversionRate
    revenue {
      amount
      currency
    }
  }
  goalStats(siteId: $siteId, range: $range) {
    goal {
      id
    }
    conversions
    uniqueVisitors
    revenue {
      amount
      currency
    }
  }
  timeseries(siteId: $siteId, range: $range, interval: $interval) {
    start
    visitors
    conversions
  }
}
    fragment GoalFields on Goal {
  id
  name
  type
  priority
  matchLogic
  countsAsConversion
  badge {
    color
    icon
  }
  conditions {
    field
    operator
    value
  }
}`) as unknown as TypedDocumentString<DashboardQuery, DashboardQueryVariables>;
export const SessionsDocument = new TypedDocumentString(`
    query Sessions($siteId: ID!, $range: DateRange!, $filter: SessionFilter, $after: String) {
  sessions(
    siteId: $siteId
    range: $range
    filter: $filter
    first: 20
    after: $after
  ) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      cursor
      node {
        id
        visitorId
        startedAt
        lastSeenAt
        entryPath
        referrer
        hasConverted
        events {
          id
          type
          name
          path
          occurredAt
          revenue {
            amount
            currency
          }
          goal {
            id
            name
            badge {
              color
            }
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<SessionsQuery, SessionsQueryVariables>;
export const GoalsDocument = new TypedDocumentString(`
    query Goals($siteId: ID!) {
  goals(siteId: $siteId) {
    ...GoalFields
  }
}
    fragment GoalFields on Goal {
  id
  name
  type
  priority
  matchLogic
  countsAsConversion
  badge {
    color
    icon
  }
  conditions {
    field
    operator
    value
  }
}`) as unknown as TypedDocumentString<GoalsQuery, GoalsQueryVariables>;
export const CreateGoalDocument = new TypedDocumentString(`
    mutation CreateGoal($input: CreateGoalInput!) {
  createGoal(input: $input) {
    ...GoalFields
  }
}
    fragment GoalFields on Goal {
  id
  name
  type
  priority
  matchLogic
  countsAsConversion
  badge {
    color
    icon
  }
  conditions {
    field
    operator
    value
  }
}`) as unknown as TypedDocumentString<CreateGoalMutation, CreateGoalMutationVariables>;
export const UpdateGoalDocument = new TypedDocumentString(`
    mutation UpdateGoal($id: ID!, $input: UpdateGoalInput!) {
  updateGoal(id: $id, input: $input) {
    ...GoalFields
  }
}
    fragment GoalFields on Goal {
  id
  name
  type
  priority
  matchLogic
  countsAsConversion
  badge {
    color
    icon
  }
  conditions {
    field
    operator
    value
  }
}`) as unknown as TypedDocumentString<UpdateGoalMutation, UpdateGoalMutationVariables>;
export const DeleteGoalDocument = new TypedDocumentString(`
    mutation DeleteGoal($id: ID!) {
  deleteGoal(id: $id)
}
    `) as unknown as TypedDocumentString<DeleteGoalMutation, DeleteGoalMutationVariables>;
export const ReorderGoalsDocument = new TypedDocumentString(`
    mutation ReorderGoals($siteId: ID!, $goalIds: [ID!]!) {
  reorderGoals(siteId: $siteId, goalIds: $goalIds) {
    id
    priority
  }
}
    `) as unknown as TypedDocumentString<ReorderGoalsMutation, ReorderGoalsMutationVariables>;
export const TestEventDocument = new TypedDocumentString(`
    query TestEvent($siteId: ID!, $event: TestEventInput!) {
  testEvent(siteId: $siteId, event: $event) {
    goal {
      id
      name
    }
    tried {
      goal {
        id
        name
      }
      matched
      conditions {
        condition {
          field
          operator
          value
        }
        actual
        matched
      }
    }
  }
}
    `) as unknown as TypedDocumentString<TestEventQuery, TestEventQueryVariables>;
export const CreateSiteDocument = new TypedDocumentString(`
    mutation CreateSite($domain: String!, $name: String, $timezone: String) {
  createSite(domain: $domain, name: $name, timezone: $timezone) {
    id
    domain
    name
    timezone
  }
}
    `) as unknown as TypedDocumentString<CreateSiteMutation, CreateSiteMutationVariables>;
export const UpdateSiteDocument = new TypedDocumentString(`
    mutation UpdateSite($id: ID!, $name: String, $timezone: String) {
  updateSite(id: $id, name: $name, timezone: $timezone) {
    id
    domain
    name
    timezone
  }
}
    `) as unknown as TypedDocumentString<UpdateSiteMutation, UpdateSiteMutationVariables>;
export const ApiKeysDocument = new TypedDocumentString(`
    query ApiKeys($siteId: ID!) {
  site(id: $siteId) {
    id
    apiKeys {
      id
      label
      createdAt
      revokedAt
    }
  }
}
    `) as unknown as TypedDocumentString<ApiKeysQuery, ApiKeysQueryVariables>;
export const CreateApiKeyDocument = new TypedDocumentString(`
    mutation CreateApiKey($siteId: ID!, $label: String) {
  createApiKey(siteId: $siteId, label: $label) {
    secret
    apiKey {
      id
      label
      createdAt
      revokedAt
    }
  }
}
    `) as unknown as TypedDocumentString<CreateApiKeyMutation, CreateApiKeyMutationVariables>;
export const RevokeApiKeyDocument = new TypedDocumentString(`
    mutation RevokeApiKey($id: ID!) {
  revokeApiKey(id: $id) {
    id
    revokedAt
  }
}
    `) as unknown as TypedDocumentString<RevokeApiKeyMutation, RevokeApiKeyMutationVariables>;
export const FeaturesDocument = new TypedDocumentString(`
    query Features {
  query: __type(name: "Query") {
    fields {
      name
    }
  }
  subscription: __type(name: "Subscription") {
    fields {
      name
    }
  }
}
    `) as unknown as TypedDocumentString<FeaturesQuery, FeaturesQueryVariables>;