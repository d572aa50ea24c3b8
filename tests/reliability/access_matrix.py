"""The permission matrix of the HTTP surfaces, generated from the application's routes.

Each token surface (the feed/write API) is one :class:`Surface`: a rule per (method, path template) and the roles to try. :func:`routes_of`
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


# -- the web console --------------------------------------------------------------------------------
#: who may use a console route (:mod:`console.roles`):
#:   public      anyone, signed in or not (the sign-in form, the server's ``/``)
#:   signed_in   any session (lists are scoped to the user's schools; signing out)
#:   view        any role, the school of the object in the path its own (director included)
#:   audit       administrator and deputy director (a director is refused)
#:   decide      administrator, and a deputy director of the object's school
#:   administer  the administrator alone
Need = Literal["public", "signed_in", "view", "audit", "decide", "administer"]
#: what a console request tries: a GET, or a POST with no CSRF token, another session's, its own
Attempt = Literal["GET", "POST no token", "POST foreign token", "POST valid token"]
ATTEMPTS: tuple[Attempt, ...] = ("GET", "POST no token", "POST foreign token", "POST valid token")
#: what must come back:
#:   page       200
#:   redirect   307 (the server's ``/`` sends to ``/console/``)
#:   sign_in    303 to the sign-in form (a page asked without a session)
#:   done       303 back to a page: the POST was carried out (or refused as a business matter)
#:   answered   the sign-in form's POST with a valid form token: neither 403 nor 405 nor 5xx
#:   forbidden  403 (no session on a POST, a missing or foreign CSRF token, a role or school
#:              the route does not allow)
#:   method     405: the route does not take that method
ConsoleExpect = Literal["page", "redirect", "sign_in", "done", "answered", "forbidden", "method"]


@dataclass(frozen=True)
class ConsoleRule:
    need: Need
    #: the path names an object of a school (a run, a conflict, a hold…): the school must be
    #: the user's
    school: bool = False
    #: a public GET that sends elsewhere (307) rather than answering a page
    redirect: bool = False


@dataclass(frozen=True)
class ConsoleRole:
    """A person at the console: ``login`` of a user of :mod:`bench.console_world` (``None``:
    not signed in), its role, and whether the world's school is theirs."""

    name: str
    login: str | None
    role: str | None
    own_school: bool = True


CONSOLE_ROLES = (
    ConsoleRole("anonymous", None, None),
    ConsoleRole("deputy", "deputy", "deputy"),
    ConsoleRole("deputy-other-school", "other", "deputy", own_school=False),
    ConsoleRole("director", "director", "director"),
    ConsoleRole("administrator", "admin", "admin"),
)

_C = "/console"
CONSOLE_RULES: dict[tuple[str, str], ConsoleRule] = {
    ("GET", "/"): ConsoleRule("public", redirect=True),
    ("GET", f"{_C}/login"): ConsoleRule("public"),
    ("POST", f"{_C}/login"): ConsoleRule("public"),
    ("POST", f"{_C}/logout"): ConsoleRule("signed_in"),
    ("GET", f"{_C}/"): ConsoleRule("signed_in"),
    ("GET", f"{_C}/runs"): ConsoleRule("signed_in"),
    ("GET", f"{_C}/runs/{{run_id}}"): ConsoleRule("view", school=True),
    ("GET", f"{_C}/conflicts"): ConsoleRule("signed_in"),
    ("GET", f"{_C}/conflicts/{{conflict_id}}"): ConsoleRule("view", school=True),
    ("POST", f"{_C}/conflicts/{{conflict_id}}/resolve"): ConsoleRule("decide", school=True),
    ("GET", f"{_C}/holds"): ConsoleRule("signed_in"),
    ("POST", f"{_C}/holds/{{hold_id}}/{{decision}}"): ConsoleRule("decide", school=True),
    ("GET", f"{_C}/identities"): ConsoleRule("signed_in"),
    ("POST", f"{_C}/identities/{{item_id}}/{{decision}}"): ConsoleRule("decide", school=True),
    ("GET", f"{_C}/reconciliations"): ConsoleRule("signed_in"),
    ("GET", f"{_C}/reconciliations/{{rec_id}}"): ConsoleRule("view", school=True),
    ("GET", f"{_C}/reconciliations/{{rec_id}}.xlsx"): ConsoleRule("view", school=True),
    ("GET", f"{_C}/control"): ConsoleRule("signed_in"),
    ("GET", f"{_C}/periods"): ConsoleRule("signed_in"),
    ("POST", f"{_C}/periods/{{period_id}}/{{decision}}"): ConsoleRule("decide", school=True),
    ("GET", f"{_C}/audit"): ConsoleRule("audit"),
    ("GET", f"{_C}/backups"): ConsoleRule("administer"),
    ("GET", f"{_C}/users"): ConsoleRule("administer"),
    ("POST", f"{_C}/users"): ConsoleRule("administer"),
    ("POST", f"{_C}/users/{{login}}/{{what}}"): ConsoleRule("administer"),
}


@dataclass(frozen=True)
class ConsoleSurface:
    name: str
    rules: dict[tuple[str, str], ConsoleRule]
    roles: tuple[ConsoleRole, ...]

    @staticmethod
    def serves(path: str) -> bool:
        """Whether a route of the server belongs to the console (mounted at ``/console``, and
        the server's ``/`` that sends there)."""
        return path == "/" or path == _C or path.startswith(_C + "/")


CONSOLE = ConsoleSurface("console", CONSOLE_RULES, CONSOLE_ROLES)


@dataclass(frozen=True)
class ConsoleCell:
    role: ConsoleRole
    attempt: Attempt
    path: str
    expect: ConsoleExpect


def console_routes(app: Any) -> set[tuple[str, str]]:
    return {r for r in routes_of(app) if ConsoleSurface.serves(r[1])}


def console_missing_rules(app: Any, surface: ConsoleSurface = CONSOLE) -> set[tuple[str, str]]:
    return console_routes(app) - set(surface.rules)


def console_stale_rules(app: Any, surface: ConsoleSurface = CONSOLE) -> set[tuple[str, str]]:
    return set(surface.rules) - console_routes(app)


def _permitted(rule: ConsoleRule, role: ConsoleRole) -> bool:
    if rule.need in ("public", "signed_in"):
        return True
    if rule.school and not role.own_school and role.role != "admin":
        return False
    return {
        "view": True,
        "audit": role.role in ("admin", "deputy"),
        "decide": role.role in ("admin", "deputy"),
        "administer": role.role == "admin",
    }[rule.need]


def console_expect(
    methods: frozenset[str], rule: ConsoleRule, role: ConsoleRole, attempt: Attempt
) -> ConsoleExpect:
    """What ``attempt`` by ``role`` must get from a path served for ``methods`` (the rule is
    that of the attempt's method on the path, or of another when the method is not served)."""
    method = "GET" if attempt == "GET" else "POST"
    if method not in methods:
        return "method"
    if rule.need == "public":
        if method == "GET":
            return "redirect" if rule.redirect else "page"
        return "answered" if attempt == "POST valid token" else "forbidden"
    if role.login is None:
        return "sign_in" if method == "GET" else "forbidden"
    if attempt in ("POST no token", "POST foreign token"):
        return "forbidden"
    if not _permitted(rule, role):
        return "forbidden"
    return "page" if method == "GET" else "done"


def console_cells(surface: ConsoleSurface = CONSOLE) -> list[ConsoleCell]:
    """Every path × role × attempt: a GET and the three POSTs of each path, whichever methods
    it serves (the others must answer 405)."""
    by_path: dict[str, dict[str, ConsoleRule]] = {}
    for (method, path), rule in surface.rules.items():
        by_path.setdefault(path, {})[method] = rule
    out = []
    for path, rules in sorted(by_path.items()):
        methods = frozenset(rules)
        for attempt in ATTEMPTS:
            rule = rules.get("GET" if attempt == "GET" else "POST") or next(iter(rules.values()))
            out.extend(
                ConsoleCell(role, attempt, path, console_expect(methods, rule, role, attempt))
                for role in surface.roles
            )
    return out


#: every surface the matrix covers
SURFACES: dict[str, Surface | ConsoleSurface] = {"api": API, "console": CONSOLE}
