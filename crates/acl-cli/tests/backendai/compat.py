"""The compatibility test of the Backend.AI-compatible folder API (DESIGN rule B1) with the
REAL published client, backend.ai-client 26.9.6 from PyPI, as tests/backendai_client.rs
runs it against `acl serve --backendai-listen`.

Usage: compat.py ENDPOINT   (env ACL_BAI_KEYS: a JSON file {user: {access_key, secret_key}};
ACL_BAI_VERBOSE=1 prints every answer; ACL_BAI_KEEP_GOING=1 goes on after a failed check,
to list them all, and still exits non-zero)

The store is the one backendai_client.rs seeds: admin `admin` (superadmin), users alice,
bob, carol, dave, erin (deactivated) and frank (his keypair deactivated), all
NAME@example.org; project `proj` (domain `default`) with members alice, bob and carol;
resource policies `small` (dave's) and `spare` (nobody's); one keypair per user, sealed
with the master key, and `legacy`, a keypair of carol made before the master key existed.

Every call goes through the client: its `session.VFolder` and `KeypairResourcePolicy`
functions where one exists, else its own `Request(...)`, so every request is signed by the
client. The status of each answer is observed through an aiohttp trace on the session the
client is given. Exits non-zero on the first failure, naming it.
"""

import asyncio
import contextlib
import json
import os
import sys
import traceback
import uuid
from datetime import datetime, timedelta

import aiohttp
from dateutil.tz import tzutc

from ai.backend.client.config import APIConfig
from ai.backend.client.exceptions import BackendAPIError
from ai.backend.client.request import Request
from ai.backend.client.session import AsyncSession, api_session

ENDPOINT = sys.argv[1]
with open(os.environ["ACL_BAI_KEYS"]) as _keys:
    KEYS = json.load(_keys)
PROBS = "https://api.backend.ai/probs/"
VERSION = "v9.20250722"
VERBOSE = bool(os.environ.get("ACL_BAI_VERBOSE"))  # print every answer
KEEP_GOING = bool(os.environ.get("ACL_BAI_KEEP_GOING"))  # report every failed check
FAILURES = []
FOLDER_FIELDS = {
    "id", "name", "quota_scope_id", "host", "status", "usage_mode", "permission",
    "is_owner", "user", "group", "user_email", "group_name", "creator", "ownership_type",
    "type", "cloneable", "max_files", "max_size", "cur_size", "created_at",
}
INVITATION_FIELDS = {
    "id", "inviter", "invitee", "perm", "state", "created_at", "modified_at", "vfolder_id",
    "vfolder_name",
}

# the titles the spec quotes, checked on every problem of the slug unless a call names
# another
TITLES = {
    "generic-forbidden": "Forbidden operation.",
    "object-not-found": "No such virtual folder.",
}
NO_USER = "No such user."
NO_PROJECT = "No such user group (or project)."
NO_SHARE = "No such shared virtual folder."

CHECKS = 0
LAST = {}  # the last answer seen on the wire: method, url, status, content type
SESSIONS = {}
STATE = {}


class Failure(Exception):
    pass


def check(condition, what):
    global CHECKS
    if not condition:
        if KEEP_GOING:
            FAILURES.append(what)
            print(f"  FAILED: {what}", file=sys.stderr)
            return
        raise Failure(what)
    CHECKS += 1


def email(user):
    return f"{user}@example.org"


def dashed(hex_id):
    return str(uuid.UUID(hex_id))


def is_uuid(text):
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


def same_uuid(a, b):
    try:
        return uuid.UUID(str(a)) == uuid.UUID(str(b))
    except ValueError:
        return False


# --- sessions: one per keypair, the contextvar switched per call --------------------------

async def on_request_end(_session, _ctx, params):
    LAST["method"] = params.method
    LAST["url"] = str(params.url)
    LAST["status"] = params.response.status
    LAST["content_type"] = params.response.headers.get("Content-Type", "")


def traced_http():
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(), trace_configs=[trace])


async def open_session(name, access_key, secret_key):
    config = APIConfig(
        endpoint=ENDPOINT,
        endpoint_type="api",
        access_key=access_key,
        secret_key=secret_key,
    )
    session = AsyncSession(config=config, aiohttp_session=traced_http())
    await session.open()
    SESSIONS[name] = session


async def open_all():
    for user, key in KEYS.items():
        await open_session(user, key["access_key"], key["secret_key"])
    alice = KEYS["alice"]
    await open_session("wrong-secret", alice["access_key"], "not-" + alice["secret_key"])
    await open_session("unknown-key", "AKIANOSUCHKEY0000000", alice["secret_key"])
    await open_session("anonymous", "", "")


async def close_all():
    for session in reversed(list(SESSIONS.values())):
        http = session.aiohttp_session
        await session.close()
        await http.close()


@contextlib.contextmanager
def acting(user):
    token = api_session.set(SESSIONS[user])
    try:
        yield SESSIONS[user]
    finally:
        api_session.reset(token)


def describe():
    return f"{LAST.get('method')} {LAST.get('url')} -> {LAST.get('status')}"


async def ok(user, call, what, status=None):
    """`call(session)` as `user`, which must succeed (with `status`, if given)."""
    try:
        with acting(user) as session:
            result = await call(session)
    except BackendAPIError as err:
        raise Failure(f"{what}: refused {err.status} {err.data} ({describe()})") from err
    if status is not None:
        check(LAST.get("status") == status, f"{what}: status {describe()}, wanted {status}")
    if VERBOSE:
        print(f"  {what}: {describe()}: {result!r}")
    return result


async def refused(user, call, status, slug, what, contains=None, title=None):
    """`call(session)` as `user`, which must be refused with `status` and `slug`, as
    application/problem+json {type, title, msg}; returns the problem."""
    try:
        with acting(user) as session:
            result = await call(session)
    except BackendAPIError as err:
        data = err.data
        check(
            err.status == status and isinstance(data, dict) and data.get("type") == PROBS + slug,
            f"{what}: got {err.status} {data} ({describe()}), wanted {status} {slug}",
        )
        check(
            str(data.get("type", "")).startswith(PROBS)
            and isinstance(data.get("title"), str)
            and isinstance(data.get("msg"), str),
            f"{what}: the problem is not {{type, title, msg}}: {data}",
        )
        media = LAST.get("content_type", "").split(";")[0].strip()
        check(
            media == "application/problem+json",
            f"{what}: content type {LAST.get('content_type')!r}, wanted application/problem+json",
        )
        if VERBOSE:
            print(f"  {what}: {describe()}: {data!r}")
        if contains is not None:
            check(contains in data["msg"], f"{what}: msg {data['msg']!r} lacks {contains!r}")
        if title is None:
            title = TITLES.get(slug)
        if title is not None:
            check(data["title"] == title, f"{what}: title {data['title']!r}, wanted {title!r}")
        return data
    raise Failure(f"{what}: not refused ({describe()}): {result!r}, wanted {status} {slug}")


async def raw(method, path, body=None, params=None):
    """A request the v1 SDK has no function for, made and signed by the client's own
    `Request`: the JSON answer (None when empty)."""
    rqst = Request(method, path, params=params)
    if body is not None:
        rqst.set_json(body)
    async with rqst.fetch() as resp:
        text = await resp.text()
        return json.loads(text) if text else None


def upload(piece):
    return lambda s: raw("POST", f"/folders/{piece}/request-upload", {"path": "a.txt", "size": 1})


def download(piece):
    return lambda s: raw(
        "POST", f"/folders/{piece}/request-download", {"path": "a.txt", "archive": False}
    )


def ticket_ok(answer, what):
    check(
        isinstance(answer, dict) and isinstance(answer.get("token"), str) and answer["token"]
        and "url" in answer,
        f"{what}: not a ticket {{token, url}}: {answer!r}",
    )


def find(folders, name):
    return [f for f in folders if f.get("name") == name]


def pending_ids(answer):
    return [i["id"] for i in answer["invitations"]]


# --- the flows ----------------------------------------------------------------------------

async def flow_version():
    async with aiohttp.ClientSession() as http:
        async with http.get(ENDPOINT + "/") as resp:
            check(resp.status == 200, f"GET /: status {resp.status}")
            answer = await resp.json()
    check(answer.get("version") == VERSION, f"GET /: version {answer}")
    check(str(answer.get("manager", "")).startswith("acl "), f"GET /: manager {answer}")
    check(
        SESSIONS["alice"].api_version == (9, "20250722"),
        f"the client negotiated {SESSIONS['alice'].api_version}",
    )


async def flow_auth():
    listed = await ok("alice", lambda s: s.VFolder.list(), "a signed list()", 200)
    check(listed == [], f"alice's first list() is empty: {listed}")
    await refused("wrong-secret", lambda s: s.VFolder.list(), 401, "auth-failed",
                  "a wrong signature (wrong secret key)")
    await refused("unknown-key", lambda s: s.VFolder.list(), 401, "auth-failed",
                  "an unknown access key")
    # no Authorization at all is the manager's `auth_required` refusal; a malformed one is
    # 400
    await refused("anonymous", lambda s: s.VFolder.list(), 401, "auth-failed",
                  "an unsigned request")

    async def malformed(header):
        rqst = Request("GET", "/folders")
        rqst.headers["Authorization"] = header
        async with rqst.fetch() as resp:
            return await resp.json()

    for header in ["BackendAI signMethod=HMAC-SHA256", "Bearer x",
                   "BackendAI signMethod=HMAC-NOPE, credential=AK:00"]:
        await refused("anonymous", lambda s: malformed(header), 400, "invalid-auth-params",
                      f"a malformed Authorization {header!r}")

    async def dated(minutes):
        rqst = Request("GET", "/folders")
        fetching = rqst.fetch()
        # fetch() dates the request; it is signed when sent, so the signature is valid
        # for the older date
        rqst.date = datetime.now(tzutc()) - timedelta(minutes=minutes)
        rqst.headers["Date"] = rqst.date.isoformat()
        async with fetching as resp:
            return await resp.json()

    await refused("alice", lambda s: dated(20), 400, "invalid-auth-params",
                  "a Date 20 minutes old")
    await ok("alice", lambda s: dated(10), "a Date 10 minutes old", 200)

    async def unversioned():
        rqst = Request("GET", "/folders")
        fetching = rqst.fetch()
        # a request without the header, signed as sent (the signature covers the
        # version, and the manager checks the signature first)
        rqst.headers.popall("X-BackendAI-Version")
        rqst.api_version = ""
        async with fetching as resp:
            return await resp.json()

    await refused("alice", lambda s: unversioned(), 400, "generic-bad-request",
                  "no X-BackendAI-Version")
    await refused("erin", lambda s: s.VFolder.list(), 401, "auth-failed",
                  "the keypair of a deactivated user (erin)")
    await refused("frank", lambda s: s.VFolder.list(), 401, "auth-failed",
                  "an inactive keypair (frank's)")
    await refused("legacy", lambda s: s.VFolder.list(), 401, "auth-failed",
                  "a keypair made before the master key (carol's legacy one)",
                  contains="created before a master key")


async def flow_seed():
    """Seeds 000/001: alice shares `tests` read-only with bob by invitation, bob accepts,
    bob's writes are refused by name and by UUID, alice switches him to Read & Write."""
    made = await ok("alice", lambda s: s.VFolder.create("tests"), "alice creates tests", 201)
    missing = FOLDER_FIELDS - set(made)
    check(not missing, f"create: the folder lacks {sorted(missing)}: {made}")
    hex_id = made["id"]
    check(len(hex_id) == 32 and int(hex_id, 16) >= 0, f"create: id {hex_id!r} is not 32 hex")
    check(made["name"] == "tests" and made["permission"] == "wd" and made["is_owner"] is True,
          f"create: {made}")
    check(made["type"] == "user" and made["ownership_type"] == "user" and made["group"] is None,
          f"create: a user folder: {made}")
    check(made["status"] == "ready" and made["usage_mode"] == "general"
          and made["cloneable"] is False and made["cur_size"] == 0, f"create: {made}")
    check(made["quota_scope_id"] == f"user:{made['user']}" and is_uuid(made["user"]),
          f"create: quota_scope_id {made['quota_scope_id']!r} for user {made['user']!r}")
    STATE["tests"] = hex_id
    STATE["alice_uuid"] = made["user"]
    await refused("alice", lambda s: s.VFolder.create("tests"), 409, "vfolder-already-exists",
                  "a name already taken")
    got = await ok("alice", lambda s: s.VFolder("tests").get_id(), "get_id", 200)
    check(got == uuid.UUID(hex_id), f"get_id: {got} != {hex_id}")

    # bob sees nothing of it yet, by name or by UUID
    await refused("bob", lambda s: s.VFolder("tests").info(), 404, "object-not-found",
                  "bob's info on tests before any share")
    await refused("bob", lambda s: s.VFolder("tests", id=uuid.UUID(hex_id)).info(), 404,
                  "object-not-found", "bob's info on tests by UUID before any share")

    invited = await ok("alice", lambda s: s.VFolder("tests").invite("ro", [email("bob")]),
                       "alice invites bob read-only", 201)
    check(invited == {"invited_ids": [email("bob")]}, f"invite: {invited}")
    # already pending ones are skipped; a username is a user too
    invited = await ok("alice", lambda s: s.VFolder("tests").invite("ro", [email("bob"), "carol"]),
                       "alice invites bob again and carol", 201)
    check(invited == {"invited_ids": ["carol"]}, f"invite skips the pending one: {invited}")
    received = await ok("bob", lambda s: s.VFolder.invitations(), "bob lists his invitations", 200)
    check(len(received["invitations"]) == 1, f"bob's invitations: {received}")
    invitation = received["invitations"][0]
    missing = INVITATION_FIELDS - set(invitation)
    check(not missing, f"an invitation lacks {sorted(missing)}: {invitation}")
    check(invitation["perm"] == "ro" and invitation["state"] == "pending"
          and invitation["vfolder_name"] == "tests" and same_uuid(invitation["vfolder_id"], hex_id),
          f"bob's invitation: {invitation}")
    check(invitation["invitee"] == email("bob") and invitation["inviter"] == "alice",
          f"bob's invitation names himself by email, alice by username: {invitation}")
    inv_bob = invitation["id"]

    # only the invitee accepts or rejects (24.09 let anyone with the id)
    await refused("carol", lambda s: s.VFolder.accept_invitation(inv_bob), 403, "generic-forbidden",
                  "carol accepting bob's invitation")
    await refused("carol", lambda s: s.VFolder.delete_invitation(inv_bob), 403, "generic-forbidden",
                  "carol rejecting bob's invitation")
    still = await ok("bob", lambda s: s.VFolder.invitations(), "bob's invitations again")
    check(pending_ids(still) == [inv_bob], f"bob's invitation is still pending: {still}")
    carols = await ok("carol", lambda s: s.VFolder.invitations(), "carol's invitations")
    check(len(carols["invitations"]) == 1 and carols["invitations"][0]["invitee"] == email("carol"),
          f"carol's invitations: {carols}")
    accepted = await ok("bob", lambda s: s.VFolder.accept_invitation(inv_bob), "bob accepts", 200)
    check(accepted == {"msg": ""}, f"accept: {accepted}")
    await refused("bob", lambda s: s.VFolder.accept_invitation(inv_bob), 404,
                  "vfolder-invitation-not-found", "accepting twice")
    await ok("carol", lambda s: s.VFolder.accept_invitation(carols["invitations"][0]["id"]),
             "carol accepts hers", 200)
    empty = await ok("bob", lambda s: s.VFolder.invitations(), "bob's invitations after")
    check(empty == {"invitations": []}, f"no pending invitation left: {empty}")

    mine = await ok("bob", lambda s: s.VFolder.list(), "bob lists his folders", 200)
    shared = find(mine, "tests")
    check(len(shared) == 1 and shared[0]["permission"] == "ro" and shared[0]["is_owner"] is False
          and shared[0]["id"] == hex_id, f"bob's list() shows tests read-only: {mine}")
    info = await ok("bob", lambda s: s.VFolder("tests").info(), "bob's info on tests", 200)
    check(info["permission"] == "ro" and info["is_owner"] is False, f"bob's info: {info}")

    # a read-only share refuses writes by every path (FR-3800: a UUID path skipped it)
    for piece in ["tests", hex_id, dashed(hex_id)]:
        await refused("bob", upload(piece), 403, "generic-forbidden",
                      f"bob's request-upload on /folders/{piece} (read-only)")
        ticket_ok(await ok("bob", download(piece), f"bob's request-download on /folders/{piece}",
                           200), f"bob's request-download on /folders/{piece}")
    await refused("bob", lambda s: s.VFolder("tests").rename("bobs"), 403, "generic-forbidden",
                  "a read-only sharee renames")
    await refused("bob", lambda s: s.VFolder("tests").delete(), 403, "generic-forbidden",
                  "a read-only sharee deletes (by id)")
    await refused("bob", lambda s: raw("DELETE", "/folders/tests"), 403, "generic-forbidden",
                  "a read-only sharee deletes (by name)")
    await refused("bob", lambda s: s.VFolder("tests").invite("ro", [email("dave")]), 403,
                  "generic-forbidden", "a read-only sharee invites")
    await refused("bob", lambda s: s.VFolder("tests").update_options("tests"), 403,
                  "generic-forbidden", "a read-only sharee's update-options")
    await refused("bob", lambda s: s.VFolder("tests", id=uuid.UUID(hex_id)).rename("bobs"), 403,
                  "generic-forbidden", "a read-only sharee renames by UUID")

    # alice switches bob to Read & Write
    listing = await ok("alice", lambda s: s.VFolder.list_shared_vfolders(),
                       "alice's shared listing", 200)
    rows = {row["shared_to"]["email"]: row for row in listing["shared"]}
    check(set(rows) == {"bob", "carol"},
          f"alice's shares, sharees by username (she cannot read their accounts): {listing}")
    for row in listing["shared"]:
        check(row["vfolder_name"] == "tests" and same_uuid(row["vfolder_id"], hex_id)
              and row["perm"] == "ro" and {"status", "owner", "type"} <= set(row),
              f"a share row: {row}")
    STATE["bob_uuid"] = rows["bob"]["shared_to"]["uuid"]
    STATE["carol_uuid"] = rows["carol"]["shared_to"]["uuid"]
    check(is_uuid(STATE["bob_uuid"]), f"bob's uuid: {rows['bob']}")
    changed = await ok(
        "alice",
        lambda s: s.VFolder.update_shared_vfolder(dashed(hex_id), STATE["bob_uuid"], "rw"),
        "alice switches bob to rw", 200)
    check(changed == {"msg": "shared vfolder permission updated"}, f"update_shared: {changed}")
    for piece in ["tests", hex_id, dashed(hex_id)]:
        ticket_ok(await ok("bob", upload(piece), f"bob's request-upload on /folders/{piece} (rw)",
                           200), "bob's upload ticket")
    info = await ok("bob", lambda s: s.VFolder("tests").info(), "bob's info on tests (rw)")
    check(info["permission"] == "rw", f"bob's info after the switch: {info}")


async def flow_group():
    """Seed 002: project folders, seen by the members, not left, shared with members only."""
    await refused("alice", lambda s: s.VFolder.create("nope", group="proj"), 403,
                  "generic-forbidden", "a non-admin creates a group folder")
    made = await ok("admin", lambda s: s.VFolder.create("projdata", group="proj", permission="ro"),
                    "admin creates projdata in proj (by name)", 201)
    missing = FOLDER_FIELDS - set(made)
    check(not missing, f"group create lacks {sorted(missing)}: {made}")
    group = made["group"]
    check(made["permission"] == "wd" and made["is_owner"] is False,
          f"the folder answer shows the caller's permission, wd for a manager (the admin): {made}")
    check(made["type"] == "group" and made["ownership_type"] == "group"
          and made["group_name"] == "proj" and is_uuid(group)
          and made["quota_scope_id"] == f"project:{group}", f"a group folder: {made}")
    STATE["projdata"] = made["id"]
    STATE["proj_uuid"] = group
    more = await ok("admin", lambda s: s.VFolder.create("projmore", group=group),
                    "admin creates projmore in proj (by UUID)", 201)
    check(more["group_name"] == "proj" and same_uuid(more["group"], group), f"by UUID: {more}")
    STATE["projmore"] = more["id"]
    await refused("admin", lambda s: s.VFolder.create("x", group=str(uuid.UUID(int=0))), 404,
                  "object-not-found", "a group folder in an unknown project", title=NO_PROJECT)
    await refused("admin", lambda s: s.VFolder.create("x", group="noproj"), 404,
                  "object-not-found", "a group folder in an unknown project (by name)",
                  title=NO_PROJECT)
    info = await ok("admin", lambda s: s.VFolder("projdata").info(), "admin's info on projdata")
    check(info["permission"] == "wd",
          f"a manager of a project folder (the admin) holds wd on it: {info}")
    for user in ["alice", "bob", "carol"]:
        listed = await ok(user, lambda s: s.VFolder.list(), f"{user} lists folders")
        data = find(listed, "projdata")
        check(len(data) == 1 and data[0]["permission"] == "ro" and data[0]["type"] == "group",
              f"{user} sees projdata read-only: {listed}")
        check(len(find(listed, "projmore")) == 1, f"{user} sees projmore: {listed}")
        info = await ok(user, lambda s: s.VFolder("projdata").info(), f"{user}'s info on projdata")
        check(info["permission"] == "ro" and info["type"] == "group", f"{user}'s info: {info}")
    in_proj = await ok("bob", lambda s: raw("GET", "/folders", params={"group_id": group}),
                       "bob lists the folders of proj", 200)
    check(sorted(f["name"] for f in in_proj) == ["projdata", "projmore"],
          f"GET /folders?group_id: {in_proj}")
    daves = await ok("dave", lambda s: s.VFolder.list(), "dave lists folders")
    check(daves == [], f"dave, no member, sees no project folder: {daves}")
    await refused("dave", lambda s: s.VFolder("projdata").info(), 404, "object-not-found",
                  "a non-member's info on projdata")
    await refused("bob", lambda s: s.VFolder("projdata").leave(), 400, "invalid-api-params",
                  "leaving a group folder")
    for piece in ["projdata", STATE["projdata"], dashed(STATE["projdata"])]:
        await refused("bob", upload(piece), 403, "generic-forbidden",
                      f"a read-only member's request-upload on /folders/{piece}")
        ticket_ok(await ok("bob", download(piece), f"a member's request-download on {piece}", 200),
                  "a member's download ticket")
    ticket_ok(await ok("alice", upload("projmore"), "a member uploads to projmore (rw)", 200),
              "projmore upload ticket")
    # a read-only member does not share
    await refused("bob", lambda s: s.VFolder("projdata").share("rw", [email("bob")]), 403,
                  "generic-forbidden", "a read-only member shares")
    await refused("bob", lambda s: s.VFolder("projdata").rename("mine"), 403,
                  "generic-forbidden", "a read-only member renames")
    # members only, all or nothing
    await refused("admin", lambda s: s.VFolder("projdata").share("rw", [email("dave")]), 404,
                  "object-not-found", "sharing with a non-member (dave)", title=NO_USER)
    await refused("admin",
                  lambda s: s.VFolder("projdata").share("rw", [email("bob"), email("dave")]),
                  404, "object-not-found", "sharing with a member and a non-member",
                  title=NO_USER)
    await refused("bob", upload("projdata"), 403, "generic-forbidden",
                  "bob still read-only after the refused share")
    await refused("admin", lambda s: s.VFolder("projdata").share("wd", [email("bob")]), 400,
                  "invalid-api-params", "sharing wd")
    shared = await ok("admin", lambda s: s.VFolder("projdata").share("rw", [email("bob")]),
                      "admin shares projdata rw with bob", 201)
    check(shared == {"shared_emails": [email("bob")]}, f"share: {shared}")
    for piece in ["projdata", STATE["projdata"], dashed(STATE["projdata"])]:
        ticket_ok(await ok("bob", upload(piece), f"bob uploads to {piece} once shared rw", 200),
                  "bob's projdata upload ticket")
    await refused("carol", upload("projdata"), 403, "generic-forbidden",
                  "carol, unshared, still read-only")
    # a Read & Write sharee of a project folder neither renames nor deletes it (#4189)
    await refused("bob", lambda s: s.VFolder("projdata").rename("mine"), 403,
                  "generic-forbidden", "a rw sharee renames a project folder")
    await refused("bob", lambda s: s.VFolder("projdata").delete(), 403,
                  "generic-forbidden", "a rw sharee deletes a project folder")
    listing = await ok("admin", lambda s: s.VFolder.shared_vfolder_info(dashed(STATE["projdata"])),
                       "admin's shared listing of projdata", 200)
    check(len(listing["shared"]) == 1 and listing["shared"][0]["perm"] == "rw"
          and listing["shared"][0]["shared_to"]["email"] == email("bob")
          and listing["shared"][0]["vfolder_name"] == "projdata",
          f"projdata's shares, bob by email for an admin: {listing}")
    unshared = await ok("admin", lambda s: s.VFolder("projdata").unshare([email("bob")]),
                        "admin unshares bob", 200)
    check(unshared == {"unshared_emails": [email("bob")]}, f"unshare: {unshared}")
    # unsharing ends the write at once (#5853); bob is still a read-only member
    await refused("bob", upload("projdata"), 403, "generic-forbidden", "bob's upload once unshared")
    await refused("bob", upload(STATE["projdata"]), 403, "generic-forbidden",
                  "bob's upload by UUID once unshared")
    await refused("admin", lambda s: s.VFolder("projdata").unshare([email("bob")]), 404,
                  "object-not-found", "unsharing a share that is gone", title=NO_SHARE)
    # a name two visible folders share is ambiguous: the UUID names one
    own = await ok("bob", lambda s: s.VFolder.create("projdata"),
                   "bob creates a folder of his own named projdata", 201)
    await refused("bob", lambda s: s.VFolder("projdata").info(), 409, "too-many-vfolders",
                  "a name two visible folders share")
    info = await ok("bob", lambda s: s.VFolder("projdata", id=uuid.UUID(own["id"])).info(),
                    "bob's own projdata by UUID", 200)
    check(info["is_owner"] is True and info["type"] == "user", f"his own: {info}")
    await ok("bob", lambda s: s.VFolder.delete_by_id(own["id"]), "bob deletes his projdata", 204)
    info = await ok("bob", lambda s: s.VFolder("projdata").info(), "projdata by name again")
    check(info["type"] == "group", f"the name is the project folder's again: {info}")
    listing = await ok("admin", lambda s: s.VFolder.shared_vfolder_info(dashed(STATE["projdata"])),
                       "admin's shared listing of projdata after")
    check(listing == {"shared": []}, f"no share left: {listing}")


async def flow_routes():
    """Every route of the table not met above, as the client calls it."""
    made = await ok("alice", lambda s: s.VFolder.create("scratch"), "create scratch", 201)
    by_query = await ok("alice", lambda s: raw("GET", "/folders/_/id", params={"name": "scratch"}),
                        "GET /folders/_/id?name=", 200)
    check(same_uuid(by_query["id"], made["id"]) and by_query["name"] == "scratch",
          f"_/id: {by_query}")
    await refused("alice", lambda s: s.VFolder("nosuch").get_id(), 404, "object-not-found",
                  "get_id of an unknown name")
    info = await ok("alice", lambda s: s.VFolder("scratch").info(), "info", 200)
    check(info["num_files"] == 0 and info["used_bytes"] == 0 and info["permission"] == "wd"
          and info["is_owner"] is True and info["name"] == "scratch" and info["type"] == "user",
          f"info: {info}")
    await refused("alice", lambda s: s.VFolder.create("bad/name"), 400, "invalid-api-params",
                  "a bad folder name")
    await refused("alice", lambda s: s.VFolder.create("x", permission="xx"), 400,
                  "invalid-api-params", "a bad permission")
    listed = await ok("alice", lambda s: s.VFolder.list(), "list()", 200)
    check({"tests", "scratch", "projmore"} <= {f["name"] for f in listed}, f"list: {listed}")
    for folder in listed:
        missing = FOLDER_FIELDS - set(folder)
        check(not missing, f"a listed folder lacks {sorted(missing)}: {folder}")
    await refused("alice", lambda s: raw("GET", "/folders", params={"all": "true"}), 400,
                  "invalid-api-params", "GET /folders?all=true")

    renamed = await ok("alice", lambda s: s.VFolder("scratch").rename("scratch2"), "rename", 200)
    check(json.loads(renamed) == {"msg": ""}, f"rename: {renamed!r}")
    await refused("alice", lambda s: s.VFolder("scratch").get_id(), 404, "object-not-found",
                  "the old name after a rename")
    again = await ok("alice", lambda s: s.VFolder("scratch2").get_id(), "the new name")
    check(again == uuid.UUID(made["id"]), "a rename keeps the id")
    await refused("alice", lambda s: s.VFolder("scratch2").rename("tests"), 409,
                  "vfolder-already-exists", "renaming onto a taken name")
    options = await ok("alice", lambda s: s.VFolder("scratch2").update_options("scratch2"),
                       "update-options changing nothing", 200)
    check(json.loads(options) == {"msg": ""}, f"update-options: {options!r}")
    await refused("alice", lambda s: s.VFolder("scratch2").update_options("scratch2", "ro"), 400,
                  "invalid-api-params", "update-options changing the permission")
    await refused("alice",
                  lambda s: s.VFolder("scratch2").update_options("scratch2", cloneable=True), 400,
                  "invalid-api-params", "update-options making it cloneable")

    # delete by name, by id (hex, dashed alias), by the SDK's delete()
    await ok("alice", lambda s: raw("DELETE", "/folders/scratch2"), "DELETE /folders/{name}", 204)
    await refused("alice", lambda s: s.VFolder("scratch2").info(), 404, "object-not-found",
                  "a folder deleted by name")
    gone = await ok("alice", lambda s: s.VFolder.create("gone2"), "create gone2")
    await ok("alice", lambda s: s.VFolder.delete_by_id(gone["id"]), "delete_by_id", 204)
    await refused("alice", lambda s: s.VFolder("gone2").get_id(), 404, "object-not-found",
                  "a folder deleted by id")
    await ok("alice", lambda s: s.VFolder.create("gone3"), "create gone3")
    await ok("alice", lambda s: s.VFolder("gone3").delete(), "delete()", 204)
    await refused("alice", lambda s: s.VFolder("gone3").get_id(), 404, "object-not-found",
                  "a folder deleted by delete()")
    gone = await ok("alice", lambda s: s.VFolder.create("gone4"), "create gone4")
    await ok("alice", lambda s: raw("DELETE", "/folders", {"vfolder_id": dashed(gone["id"])}),
             "DELETE /folders {vfolder_id}", 204)
    await refused("alice", lambda s: s.VFolder.delete_by_id(gone["id"]), 404, "object-not-found",
                  "deleting a deleted folder")

    # invitations: list-sent, update, reject by the invitee, cancel by the inviter
    await ok("alice", lambda s: s.VFolder.create("lab"), "create lab")
    invited = await ok("alice", lambda s: s.VFolder("lab").invite("rw", [email("dave")]),
                       "invite dave to lab", 201)
    check(invited == {"invited_ids": [email("dave")]}, f"invite: {invited}")
    await refused("alice", lambda s: s.VFolder("lab").invite("wd", [email("carol")]), 400,
                  "invalid-api-params", "inviting with wd")
    await refused("alice", lambda s: s.VFolder("lab").invite("ro", ["nobody@example.org"]), 404,
                  "object-not-found", "inviting an unknown user", title=NO_USER)
    daves = await ok("dave", lambda s: s.VFolder.invitations(), "dave's invitations", 200)
    check(len(daves["invitations"]) == 1, f"dave's invitations: {daves}")
    inv = daves["invitations"][0]
    check(inv["vfolder_name"] == "lab" and inv["perm"] == "rw" and inv["state"] == "pending"
          and inv["inviter"] == "alice" and inv["invitee"] == email("dave"), f"dave's: {inv}")
    sent = await ok("alice", lambda s: raw("GET", "/folders/invitations/list-sent"),
                    "GET /folders/invitations/list-sent", 200)
    check(pending_ids(sent) == [inv["id"]], f"alice's sent invitations: {sent}")
    row = sent["invitations"][0]
    check(not (INVITATION_FIELDS - set(row)) and row["inviter"] == email("alice")
          and row["invitee"] == "dave" and row["vfolder_name"] == "lab",
          f"a sent invitation: alice by email (her own), dave by username: {row}")
    legacy = await ok("alice", lambda s: raw("GET", "/folders/invitations/list_sent"),
                      "GET /folders/invitations/list_sent", 200)
    check(pending_ids(legacy) == [inv["id"]], f"list_sent: {legacy}")
    none = await ok("dave", lambda s: raw("GET", "/folders/invitations/list-sent"),
                    "dave's sent invitations")
    check(none == {"invitations": []}, f"dave sent none: {none}")
    updated = await ok("alice", lambda s: raw("POST", f"/folders/invitations/update/{inv['id']}",
                                              {"perm": "ro"}),
                       "POST /folders/invitations/update/{id}", 200)
    check(updated == {"msg": f"vfolder invitation updated: {inv['id']}."}, f"update: {updated}")
    daves = await ok("dave", lambda s: s.VFolder.invitations(), "dave's invitations after update")
    check(daves["invitations"][0]["perm"] == "ro", f"the invitation is ro now: {daves}")
    await refused("dave", lambda s: raw("POST", f"/folders/invitations/update/{inv['id']}",
                                        {"permission": "rw"}),
                  403, "generic-forbidden", "the invitee updates an invitation")
    await refused("alice", lambda s: raw("POST", f"/folders/invitations/update/{inv['id']}",
                                         {"perm": "wd"}),
                  400, "invalid-api-params", "updating an invitation to wd")
    rejected = await ok("dave", lambda s: s.VFolder.delete_invitation(inv["id"]),
                        "dave rejects (delete_invitation by the invitee)", 200)
    check(rejected == {"msg": ""}, f"reject: {rejected}")
    daves = await ok("dave", lambda s: s.VFolder.invitations(), "dave's after rejecting")
    check(daves == {"invitations": []}, f"rejected: {daves}")
    await refused("dave", lambda s: s.VFolder.accept_invitation(inv["id"]), 404,
                  "vfolder-invitation-not-found", "accepting a rejected invitation")
    sent = await ok("alice", lambda s: raw("GET", "/folders/invitations/list-sent"), "sent after")
    check(sent == {"invitations": []}, f"a rejected invitation is not pending: {sent}")
    await ok("alice", lambda s: s.VFolder("lab").invite("ro", [email("dave")]), "invite again", 201)
    daves = await ok("dave", lambda s: s.VFolder.invitations(), "dave's second invitation")
    second = daves["invitations"][0]["id"]
    check(second != inv["id"], "a new invitation has a new id")
    canceled = await ok("alice", lambda s: s.VFolder.delete_invitation(second),
                        "alice cancels (delete_invitation by the inviter)", 200)
    check(canceled == {"msg": ""}, f"cancel: {canceled}")
    daves = await ok("dave", lambda s: s.VFolder.invitations(), "dave's after the cancel")
    check(daves == {"invitations": []}, f"canceled: {daves}")
    await refused("dave", lambda s: s.VFolder.accept_invitation(second), 404,
                  "vfolder-invitation-not-found", "accepting a canceled invitation")
    await refused("dave", lambda s: s.VFolder("lab").info(), 404, "object-not-found",
                  "dave never got lab")

    # hosts, allowed types, the routes not served
    hosts = await ok("alice", lambda s: s.VFolder.list_hosts(), "list_hosts", 200)
    check(hosts.get("default") == "local" and isinstance(hosts.get("allowed"), list)
          and "local" in hosts["allowed"] and hosts.get("volume_info") == {},
          f"_/hosts: {hosts}")
    small = await ok("dave", lambda s: s.VFolder.list_hosts(), "dave's list_hosts", 200)
    check(sorted(small.get("allowed", [])) == ["local", "nfs"],
          f"_/hosts names the hosts of dave's policy `small`: {small}")
    types = await ok("alice", lambda s: s.VFolder.list_allowed_types(), "list_allowed_types", 200)
    check(types == ["user", "group"], f"_/allowed_types: {types}")
    await refused("alice", lambda s: s.VFolder("tests").list_files(), 404, "generic-not-found",
                  "a file route (not served)")
    await refused("alice", lambda s: raw("PUT", "/folders"), 405, "method-not-allowed",
                  "PUT /folders")


async def flow_failures():
    """Backend.AI's historical failures, each a refusal here (issue 20, item 6)."""
    hex_id = STATE["tests"]
    # a Read & Write sharee neither renames nor deletes (#4189)
    await refused("bob", lambda s: s.VFolder("tests").rename("bobs"), 403, "generic-forbidden",
                  "a rw sharee renames")
    await refused("bob", lambda s: s.VFolder("tests").delete(), 403, "generic-forbidden",
                  "a rw sharee deletes (by id)")
    await refused("bob", lambda s: raw("DELETE", "/folders/tests"), 403, "generic-forbidden",
                  "a rw sharee deletes (by name)")
    await refused("bob", lambda s: raw("DELETE", f"/folders/{dashed(hex_id)}"), 403,
                  "generic-forbidden", "a rw sharee deletes (by UUID path)")
    await refused("bob", lambda s: s.VFolder("tests").invite("ro", [email("dave")]), 403,
                  "generic-forbidden", "a rw sharee invites")

    # the shared listing shows only the caller's own shares (#14319)
    his = await ok("bob", lambda s: s.VFolder.list_shared_vfolders(), "bob's shared listing", 200)
    check(his == {"shared": []}, f"bob, who manages nothing, sees no share: {his}")
    his = await ok("bob", lambda s: s.VFolder.shared_vfolder_info(dashed(hex_id)),
                   "bob's shared listing of tests", 200)
    check(his == {"shared": []}, f"bob does not see tests' shares: {his}")
    hers = await ok("alice", lambda s: s.VFolder.shared_vfolder_info(dashed(hex_id)),
                    "alice's shared listing of tests", 200)
    perms = {row["shared_to"]["email"]: row["perm"] for row in hers["shared"]}
    check(perms == {"bob": "rw", "carol": "ro"}, f"tests' shares: {hers}")

    # only the owner or a manager changes or removes a share (#608)
    carol = STATE["carol_uuid"]
    await refused("bob", lambda s: s.VFolder.update_shared_vfolder(dashed(hex_id), carol, "rw"),
                  403, "generic-forbidden", "a sharee changes another's share")
    await refused("bob", lambda s: s.VFolder.update_shared_vfolder(dashed(hex_id), carol, None),
                  403, "generic-forbidden", "a sharee removes another's share")
    await refused("bob", lambda s: s.VFolder("tests").leave(carol), 403, "generic-forbidden",
                  "a sharee leaves with another user's uuid")
    info = await ok("carol", lambda s: s.VFolder("tests").info(), "carol still reads tests")
    check(info["permission"] == "ro", f"carol's share unchanged: {info}")
    await refused("alice", lambda s: s.VFolder.update_shared_vfolder(dashed(hex_id), carol, "wd"),
                  400, "invalid-api-params", "changing a share to wd")
    same = await ok("alice", lambda s: s.VFolder.update_shared_vfolder(dashed(hex_id), carol, "ro"),
                    "changing a share to the permission it has", 200)
    check(same == {"msg": "shared vfolder permission updated"}, f"no-op change: {same}")
    removed = await ok("alice",
                       lambda s: s.VFolder.update_shared_vfolder(dashed(hex_id), carol, None),
                       "alice removes carol's share (perm null)", 200)
    check(removed == {"msg": "shared vfolder permission updated"}, f"removal: {removed}")
    await refused("carol", lambda s: s.VFolder("tests", id=uuid.UUID(hex_id)).info(), 404,
                  "object-not-found", "carol's info right after her share is removed")
    await refused("carol", download(hex_id), 404, "object-not-found",
                  "carol's request-download right after her share is removed")
    await refused("alice", lambda s: s.VFolder.update_shared_vfolder(dashed(hex_id), carol, None),
                  404, "object-not-found", "removing a share that is gone", title=NO_SHARE)

    # leaving ends access at once (#5853)
    left = await ok("bob", lambda s: s.VFolder("tests").leave(), "bob leaves tests", 200)
    check(left == {"msg": "left the shared vfolder"}, f"leave: {left}")
    await refused("bob", lambda s: s.VFolder("tests", id=uuid.UUID(hex_id)).info(), 404,
                  "object-not-found", "bob's info right after leaving")
    await refused("bob", download(hex_id), 404, "object-not-found",
                  "bob's request-download right after leaving")
    await refused("bob", upload("tests"), 404, "object-not-found",
                  "bob's request-upload by name right after leaving")
    mine = await ok("bob", lambda s: s.VFolder.list(), "bob's list() after leaving")
    check(not find(mine, "tests"), f"tests is gone from bob's list: {mine}")
    hers = await ok("alice", lambda s: s.VFolder.list_shared_vfolders(), "alice's shares after")
    check(not [r for r in hers["shared"] if r["vfolder_name"] == "tests"],
          f"tests has no share left: {hers}")

    # a manager removes another's share with leave
    await ok("alice", lambda s: s.VFolder("tests").invite("ro", [email("bob")]), "re-invite bob")
    inv = (await ok("bob", lambda s: s.VFolder.invitations(), "bob's new invitation"))
    await ok("bob", lambda s: s.VFolder.accept_invitation(inv["invitations"][0]["id"]),
             "bob accepts again")
    await ok("alice", lambda s: s.VFolder("tests").leave(STATE["bob_uuid"]),
             "the owner removes bob's share with leave(uuid)", 200)
    await refused("bob", lambda s: s.VFolder("tests", id=uuid.UUID(hex_id)).info(), 404,
                  "object-not-found", "bob's info after the owner's leave(uuid)")

    # deleting a folder cancels its invitations and removes its shares (#2780)
    doomed = await ok("alice", lambda s: s.VFolder.create("doomed"), "create doomed")
    await ok("alice", lambda s: s.VFolder("doomed").invite("rw", [email("bob")]), "invite bob")
    inv = await ok("bob", lambda s: s.VFolder.invitations(), "bob's invitation to doomed")
    await ok("bob", lambda s: s.VFolder.accept_invitation(inv["invitations"][0]["id"]),
             "bob accepts doomed")
    await ok("alice", lambda s: s.VFolder("doomed").invite("ro", [email("dave")]), "invite dave")
    inv = await ok("dave", lambda s: s.VFolder.invitations(), "dave's invitation to doomed")
    check(len(inv["invitations"]) == 1, f"dave's invitations: {inv}")
    dave_inv = inv["invitations"][0]["id"]
    await ok("alice", lambda s: s.VFolder("doomed").delete(), "alice deletes doomed", 204)
    inv = await ok("dave", lambda s: s.VFolder.invitations(), "dave's after the delete")
    check(inv == {"invitations": []}, f"the invitation is canceled: {inv}")
    await refused("dave", lambda s: s.VFolder.accept_invitation(dave_inv), 404,
                  "vfolder-invitation-not-found", "accepting an invitation to a deleted folder")
    sent = await ok("alice", lambda s: raw("GET", "/folders/invitations/list-sent"), "sent")
    check(sent == {"invitations": []}, f"alice's sent invitations: {sent}")
    mine = await ok("bob", lambda s: s.VFolder.list(), "bob's list() after the delete")
    check(not find(mine, "doomed"), f"the share is removed: {mine}")
    await refused("bob", lambda s: s.VFolder("doomed", id=uuid.UUID(doomed["id"])).info(), 404,
                  "object-not-found", "bob's info on a deleted folder")
    hers = await ok("alice", lambda s: s.VFolder.list_shared_vfolders(), "alice's shares")
    check(not [r for r in hers["shared"] if r["vfolder_name"] == "doomed"], f"shares: {hers}")

    # a project folder deleted by its manager is gone for its members at once
    await ok("admin", lambda s: raw("DELETE", "/folders/projmore"), "admin deletes projmore", 204)
    for user in ["alice", "bob"]:
        mine = await ok(user, lambda s: s.VFolder.list(), f"{user}'s list() after")
        check(not find(mine, "projmore"), f"projmore is gone for {user}: {mine}")
        await refused(user, upload(STATE["projmore"]), 404, "object-not-found",
                      f"{user}'s upload to a deleted project folder")


async def flow_policy():
    """A resource policy in use cannot be deleted, and the refusal names its users (#14531)."""
    answer = await ok("admin", lambda s: s.KeypairResourcePolicy.delete("small"),
                      "delete_keypair_resource_policy(small)", 200)
    check(answer.get("ok") is False and "dave" in str(answer.get("msg")),
          f"a policy in use is kept and its user named: {answer}")
    answer = await ok("alice", lambda s: s.KeypairResourcePolicy.delete("spare"),
                      "a user's delete_keypair_resource_policy(spare)", 200)
    check(answer.get("ok") is False and answer.get("msg"), f"a user deletes no policy: {answer}")
    answer = await ok("admin", lambda s: s.KeypairResourcePolicy.delete("spare"),
                      "delete_keypair_resource_policy(spare)", 200)
    check(answer.get("ok") is True, f"an unused policy is deleted: {answer}")
    answer = await ok("admin", lambda s: s.KeypairResourcePolicy.delete("spare"),
                      "deleting it again", 200)
    check(answer.get("ok") is False and answer.get("msg"), f"a deleted policy: {answer}")


FLOWS = [flow_version, flow_auth, flow_seed, flow_group, flow_routes, flow_failures, flow_policy]


async def main():
    await open_all()
    try:
        for flow in FLOWS:
            try:
                await flow()
            except Failure as failure:
                print(f"FAILED in {flow.__name__}: {failure}", file=sys.stderr)
                return 1
            except Exception:
                print(f"FAILED in {flow.__name__} ({describe()}):", file=sys.stderr)
                traceback.print_exc()
                return 1
            print(f"{flow.__name__}: ok")
    finally:
        await close_all()
    if FAILURES:
        print(f"{len(FAILURES)} checks FAILED, {CHECKS} passed", file=sys.stderr)
        return 1
    print(f"{CHECKS} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
