"""The GraphQL schema (contract §4): Query and Mutation assembled from the feature modules,
with the hardening extensions. `python -m server.schema.schema` prints the SDL that is
committed as schema.graphql."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from server.goals.validation import MAX_GOALS_PER_SITE
from server.resolvers import erasure as erasure_resolvers
from server.resolvers import goals as goal_resolvers
from server.resolvers import keys as key_resolvers
from server.resolvers import sessions as session_resolvers
from server.resolvers import sites as site_resolvers
from server.resolvers import stats as stat_resolvers
from server.schema.erasure import VisitorErasure
from server.schema.errors import log_unexpected
from server.schema.guards import CostLimit, OneOperation, StorableText
from server.schema.goals import Goal, MatchResult
from server.schema.keys import ApiKey, CreatedApiKey
from server.schema.live import ShapeStreamErrors, Subscription
from server.schema.permissions import (
    CanAccessGoal,
    CanAccessSite,
    IsAdmin,
    IsAuthenticated,
)
from server.schema.scalars import SCALAR_MAP
from server.schema.sessions import SessionConnection
from server.schema.sites import Site, Viewer
from server.schema.stats import (
    BreakdownRow,
    CohortComparison,
    GoalStats,
    Kpis,
    TimeseriesBucket,
)
from server.stats.breakdown import MAX_ROWS
from server.stats.timeseries import MAX_BUCKETS

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 30

# the sizes the cost limit assumes for lists the server caps (server/schema/guards.py)
GOAL_LIST = {"max_items": MAX_GOALS_PER_SITE}

AUTH = [IsAuthenticated]
SITE = [IsAuthenticated, CanAccessSite]
ADMIN = [IsAuthenticated, IsAdmin]


@strawberry.type
class Query:
    viewer: Viewer = strawberry.field(resolver=site_resolvers.viewer, permission_classes=AUTH)
    sites: list[Site] = strawberry.field(resolver=site_resolvers.sites, permission_classes=AUTH)
    site: Site | None = strawberry.field(resolver=site_resolvers.site, permission_classes=SITE)
    goals: list[Goal] = strawberry.field(resolver=goal_resolvers.goals, permission_classes=SITE,
                                         metadata=GOAL_LIST)
    kpis: Kpis = strawberry.field(resolver=stat_resolvers.kpis, permission_classes=SITE)
    goal_stats: list[GoalStats] = strawberry.field(resolver=stat_resolvers.goal_stats,
                                                   permission_classes=SITE, metadata=GOAL_LIST)
    sessions: SessionConnection = strawberry.field(resolver=session_resolvers.sessions,
                                                   permission_classes=SITE)
    test_event: MatchResult = strawberry.field(resolver=goal_resolvers.test_event,
                                               permission_classes=SITE)
    timeseries: list[TimeseriesBucket] = strawberry.field(resolver=stat_resolvers.timeseries,
                                                          permission_classes=SITE,
                                                          metadata={"max_items": MAX_BUCKETS})
    breakdown: list[BreakdownRow] = strawberry.field(resolver=stat_resolvers.breakdown,
                                                     permission_classes=SITE,
                                                     metadata={"max_items": MAX_ROWS})
    cohort: CohortComparison = strawberry.field(resolver=stat_resolvers.cohort,
                                                permission_classes=SITE)
    live_visitors: int = strawberry.field(resolver=stat_resolvers.live_visitors,
                                          permission_classes=SITE)


@strawberry.type
class Mutation:
    create_site: Site = strawberry.field(resolver=site_resolvers.create_site,
                                         permission_classes=ADMIN)
    update_site: Site = strawberry.field(resolver=site_resolvers.update_site,
                                         permission_classes=SITE)
    # admin only (contract §4): a leaked key must not mint keys that outlive its revocation
    create_api_key: CreatedApiKey = strawberry.field(resolver=key_resolvers.create_api_key,
                                                     permission_classes=ADMIN)
    revoke_api_key: ApiKey = strawberry.field(resolver=key_resolvers.revoke_api_key,
                                              permission_classes=ADMIN)
    create_goal: Goal = strawberry.field(resolver=goal_resolvers.create_goal,
                                         permission_classes=SITE)
    update_goal: Goal = strawberry.field(resolver=goal_resolvers.update_goal,
                                         permission_classes=[IsAuthenticated, CanAccessGoal])
    delete_goal: strawberry.ID = strawberry.field(resolver=goal_resolvers.delete_goal,
                                                  permission_classes=[IsAuthenticated,
                                                                      CanAccessGoal])
    reorder_goals: list[Goal] = strawberry.field(resolver=goal_resolvers.reorder_goals,
                                                 permission_classes=SITE)
    delete_site: strawberry.ID = strawberry.field(resolver=erasure_resolvers.delete_site,
                                                  permission_classes=[IsAuthenticated, IsAdmin])
    erase_visitor: VisitorErasure = strawberry.field(resolver=erasure_resolvers.erase_visitor,
                                                     permission_classes=SITE)


class Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # ApiErrors and refused queries are the client's business; only bugs are logged here
        # (with the request id), before the HTTP view masks them (server/schema/asgi.py).
        context = execution_context.context if execution_context else None
        log_unexpected(errors, getattr(context, "request_id", None))


CACHE_SIZE = 512  # query texts parsed and validated, kept
# The depth and alias limits' validation rules, made once. Each QueryDepthLimiter or
# MaxAliasesLimiter makes a new rule class, and the validation cache is keyed by the rules as
# well as the document: with a limiter made per request it never hit, and every request was
# validated again (1.8 ms for kpis, 2.4 for a breakdown, 3.6 for a sessions page).
LIMIT_RULES = (*QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
               *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules)

schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    config=StrawberryConfig(scalar_map=SCALAR_MAP),
    extensions=[
        # factories: a fresh extension per request; the two caches are shared module-wide
        lambda: AddValidationRules(list(LIMIT_RULES)),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        # refusals before any resolver runs; Query, Mutation and Subscription alike
        OneOperation,
        StorableText,
        CostLimit,
        ShapeStreamErrors,
    ],
)


def sdl() -> str:
    return schema.as_str() + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
