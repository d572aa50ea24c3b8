"""The permission matrix of the HTTP surfaces, generated from the application's routes.

Each surface (the feed/write API today; the console's table is added beside it) is one
:class:`Surface`: a rule per (method, path template) and the roles to try. :func:`routes_of`
lists what the FastAPI application really serves — walking included routers — so a route added
without a rule makes :func:`missing_rules` non-empty and the test fails. :func:`cells` crosses
every role with every route and says what must come back:

    public     the route answers anyone (200)
    unauth     401: no token, a malformed one, an unknown or a revoked one
    forbidden  403: a token without the scope, or not for the school named in the path
    allowed    neither 401 nor 403, and no server error (a 404/422 is the route working)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Expect = Literal["public", "unauth", "forbidden", "allowed"]
PUBLIC = None


@dataclass(frozen=True)
class Rule:
    """Who may call a route: ``scope`` (``None``: anyone); ``school`` when the path names one."""

    scope: str | None
    school: bool = False
    pupil_ok: bool = True  # a pupil's (diary) token may call it when it has the scope


@dataclass(frozen=True)
class Role:
    """A caller: no token (``scopes`` is None), a bad or revoked one, or a token's grants."""

    name: str
    scopes: tuple[str, ...] | None
    own_school: bool = True  # the path names the token's school (else another school)
    revoked: bool = False
    malformed: bool = False
    pupil: bool = False


@dataclass(frozen=True)
class Surface:
    name: str
    rules: dict[tuple[str, str], Rule]
    roles: tuple[Role, ...]
    #: routes every application of this kind serves and nobody guards (documentation)
    docs: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Cell:
    role: Role
    method: str
    path: str
    expect: Expect


def _walk(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:  # FastAPI ≥ 0.165 keeps included routers as one entry
            yield from _walk(inner.routes, prefix + route.include_context.prefix)
            continue
        inner_routes = getattr(route, "routes", None)
        if inner_routes is not None and not hasattr(route, "methods"):  # a Mount
            yield from _walk(inner_routes, prefix + getattr(route, "path", ""))
            continue
        path = getattr(route, "path", None)
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD" and path is not None:
                yield method, prefix + path


def routes_of(app: Any) -> set[tuple[str, str]]:
    """Every (method, path template) the application serves (HEAD aside: it follows GET)."""
    return set(_walk(app.routes))


def missing_rules(app: Any, surface: Surface) -> set[tuple[str, str]]:
    served = {r for r in routes_of(app) if r[1] not in surface.docs}
    return served - set(surface.rules)


def stale_rules(app: Any, surface: Surface) -> set[tuple[str, str]]:
    return set(surface.rules) - routes_of(app)


def expect(rule: Rule, role: Role) -> Expect:
    if rule.scope is PUBLIC:
        return "public"
    if role.scopes is None or role.revoked or role.malformed:
        return "unauth"
    if rule.scope not in role.scopes:
        return "forbidden"
    if rule.school and not role.own_school:
        return "forbidden"
    if role.pupil and not rule.pupil_ok:
        return "forbidden"
    return "allowed"


def cells(surface: Surface) -> list[Cell]:
    out = []
    for (method, path), rule in sorted(surface.rules.items()):
        for role in surface.roles:
            if not rule.school and not role.own_school:
                continue  # the path names no school: that role is the same as the own-school one
            out.append(Cell(role, method, path, expect(rule, role)))
    return out


def _roles(scopes: tuple[str, ...]) -> tuple[Role, ...]:
    singles = tuple(Role(f"only-{s}", (s,)) for s in scopes)
    return (
        Role("anonymous", None),
        Role("malformed", scopes, malformed=True),
        Role("revoked", scopes, revoked=True),
        *singles,
        Role("all-scopes", scopes),
        Role("all-scopes-other-school", scopes, own_school=False),
        Role("pupil-diary", ("feed", "snapshot"), pupil=True),
    )


API_SCOPES = ("feed", "snapshot", "personal", "journal")
_SNAPSHOTS = ("classes", "pupils", "lessons", "marks", "final_marks", "attendance", "subjects")
#: what a pupil's diary token may not list: the school's classes (its own class comes with it)
_NOT_IN_A_DIARY = frozenset({"classes"})
_WRITES = ("lessons", "marks", "attendance", "final_marks")

API = Surface(
    name="api",
    rules={
        ("GET", "/feed/v1/changes"): Rule("feed"),
        **{
            ("GET", f"/snapshot/v1/{{school}}/{kind}"): Rule(
                "snapshot", school=True, pupil_ok=kind not in _NOT_IN_A_DIARY
            )
            for kind in (*_SNAPSHOTS, "periods")
        },
        **{("POST", f"/journal/v1/{{school}}/{k}"): Rule("journal", school=True) for k in _WRITES},
        ("DELETE", "/journal/v1/{school}/{kind}/{record_id}"): Rule("journal", school=True),
        ("GET", "/health"): Rule(PUBLIC),
        ("GET", "/metrics"): Rule(PUBLIC),
    },
    roles=_roles(API_SCOPES),
    docs=frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}),
)

#: every surface the matrix covers; the console's table joins here when it lands
SURFACES: dict[str, Surface] = {"api": API}
