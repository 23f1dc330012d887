"""GraphQL through a real client: gql over HTTP (httpx) into the ASGI app, on both databases."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from tests.conftest import ADMIN_TOKEN

URL = "http://goalpost.test/graphql"


class Api:
    """One caller of /graphql: `await api(query, **variables)` -> data (raises on errors);
    `await api.errors(query, **variables)` -> the errors list."""

    def __init__(self, app, token: str | None):
        self.app = app
        self.token = token

    def _client(self) -> Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        transport = HTTPXAsyncTransport(url=URL, headers=headers,
                                        transport=httpx.ASGITransport(app=self.app))
        return Client(transport=transport)

    async def __call__(self, query: str, **variables):
        async with self._client() as session:
            return await session.execute(GraphQLRequest(query, variable_values=variables or None))

    async def errors(self, query: str, **variables) -> list[dict]:
        try:
            data = await self(query, **variables)
        except TransportQueryError as error:
            return error.errors
        raise AssertionError(f"expected errors, got {data}")

    async def code(self, query: str, **variables) -> str:
        errors = await self.errors(query, **variables)
        return errors[0]["extensions"]["code"]


@pytest.fixture
def admin(app) -> Api:
    return Api(app, ADMIN_TOKEN)


@pytest.fixture
def as_token(app):
    return lambda token: Api(app, token)


@pytest.fixture
async def site_key(admin, site) -> str:
    data = await admin("mutation($s: ID!) { createApiKey(siteId: $s, label: \"t\") "
                       "{ secret apiKey { id } } }", s=str(site.id))
    return data["createApiKey"]["secret"]


@pytest.fixture
async def other_site(db):
    from server.sites import service as sites
    return await sites.create(db, domain=f"o{uuid.uuid4().hex[:16]}.example")


CREATE_GOAL = """
mutation($input: CreateGoalInput!) {
  createGoal(input: $input) {
    id name type priority matchLogic countsAsConversion badge { color icon }
    conditions { field operator value }
  }
}"""


async def create_goal(api: Api, site_id, name: str, type: str = "CUSTOM_EVENT",
                      conditions=None, **extra) -> dict:
    conditions = conditions or [{"field": "EVENT_NAME", "operator": "EQUALS", "value": name}]
    data = await api(CREATE_GOAL, input={"siteId": str(site_id), "name": name, "type": type,
                                         "conditions": conditions, **extra})
    return data["createGoal"]


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def hours_ago(hours: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=hours)


class Events:
    """Stores events through POST /api/event with the admin token (so `timestamp` is allowed)."""

    def __init__(self, client, site):
        self.client = client
        self.site = site

    async def send(self, *, at: datetime | None = None, visitor: str = "v1", **fields) -> dict:
        body = {"site": self.site.domain, "url": f"https://{self.site.domain}/",
                "anonymous_id": visitor, **fields}
        if at is not None:
            body["timestamp"] = iso(at)
        response = await self.client.post("/api/event", json=body,
                                          headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
        assert response.status_code == 202, response.text
        return response.json()


@pytest.fixture
def events(client, site) -> Events:
    return Events(client, site)
