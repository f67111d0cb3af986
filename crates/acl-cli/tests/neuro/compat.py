"""The compatibility test of the Neu.ro-compatible API (DESIGN rule N1) with the REAL
published client, neuro-auth-client 25.8.2 from PyPI, and with the raw calls of the
Neu.ro/Apolo SDK's users module (share, revoke, shared listing, subroles, add-role,
remove-role), as tests/neuro_client.rs runs it against a real server.

Usage: compat.py BASE_URL   (env ACL_SECRET: the server's HS256 secret)

The store is the suites' seed: cluster `c`, admin `admin`, users alice, bob, carol
(carol deactivated), each with its home grants (rule P5). Exits non-zero on the first
failure, naming it.
"""

import asyncio
import os
import sys

import aiohttp
from jose import jwt
from yarl import URL

from neuro_auth_client import AuthClient, Permission, User
from neuro_auth_client.client import ClientSubTreeViewRoot

BASE = URL(sys.argv[1])
SECRET = os.environ["ACL_SECRET"]
PASSED = []


def token(name, claim="identity"):
    """A token as the Neu.ro test factories make them (rule S2)."""
    return jwt.encode({claim: name}, SECRET, algorithm="HS256")


def ok(what):
    PASSED.append(what)


async def expect_error(what, awaitable, status, message=None, contains=None):
    try:
        await awaitable
    except aiohttp.ClientResponseError as err:
        assert err.status == status, f"{what}: status {err.status} ({err.message!r}), wanted {status}"
        if message is not None:
            assert err.message == message, f"{what}: message {err.message!r}, wanted {message!r}"
        if contains is not None:
            assert contains in err.message, f"{what}: message {err.message!r} lacks {contains!r}"
        ok(what)
    else:
        raise AssertionError(f"{what}: no error, wanted {status}")


async def auth_client():
    admin = AuthClient(BASE, token("admin"))
    alice = AuthClient(BASE, token("alice"))
    bob = AuthClient(BASE, token("bob", "https://platform.neuromation.io/user"))
    anonymous = AuthClient(BASE, "")
    try:
        # ping, secured ping (rules N1, S2)
        await anonymous.ping()
        ok("ping without a token")
        await alice.secured_ping()
        await bob.secured_ping()
        ok("secured ping with both identity claims")
        await expect_error("secured ping without a token", anonymous.secured_ping(), 401)
        await expect_error("secured ping, bad token", alice.secured_ping(token="not.a.token"), 401)
        await expect_error("secured ping, unknown identity", alice.secured_ping(token=token("nobody")), 401)

        # users and roles
        await admin.add_user(User("pyuser"))
        assert await admin.get_user("pyuser") == User("pyuser")
        ok("add_user, get_user")
        await expect_error("add_user twice", admin.add_user(User("pyuser")), 409)
        await expect_error("add_user by a normal user", alice.add_user(User("pyother")), 403, "Forbidden")
        assert await alice.get_user("alice", token=token("alice")) == User("alice")
        ok("a user gets itself with its own token")
        await expect_error("get_user unknown", admin.get_user("nobody"), 404, 'user "nobody" was not found')
        await expect_error("get_user of another", bob.get_user("alice"), 403, "Forbidden")
        await alice.add_role("alice/roles/py")
        assert await alice.get_user("alice/roles/py") == User("alice/roles/py")
        ok("add_role, get_user of a role through ':'")

        # grant (201, rule M1)
        data = Permission("storage://c/alice/data/", "read")
        await alice.grant_user_permissions("bob", [data])
        await admin.grant_user_permissions("bob", [Permission("job://c/alice/j1", "write")], token=token("alice"))
        ok("grant_user_permissions, session and per-call token")
        await expect_error(
            "grant to self", alice.grant_user_permissions("alice", [Permission("job://c/alice/x", "read")]),
            403, "Adding self user is forbidden")
        await admin.grant_user_permissions("admin", [Permission("job://c/admin/x", "read")])
        ok("an admin grants to itself")
        await expect_error(
            "grant without manage", bob.grant_user_permissions("bob", [Permission("storage://c/alice/x", "read")]),
            403)
        await expect_error(
            "grant of what one does not manage", bob.grant_user_permissions("alice", [Permission("storage://c/alice/x", "read")]),
            403, "Forbidden")
        await expect_error("grant of nothing", alice.grant_user_permissions("bob", []), 400, contains="list length is less than 1")
        await expect_error(
            "grant, unknown scheme", alice.grant_user_permissions("bob", [Permission("unknown://c/x", "read")]),
            422, "Unknown resource type: unknown")
        await expect_error(
            "grant, no authority", alice.grant_user_permissions("bob", [Permission("job:job-id", "read")]),
            400, contains="authority is missing, but path part exists")
        await expect_error(
            "grant to an unknown user", admin.grant_user_permissions("nobody", [Permission("job://c/x", "read")]),
            404, 'user "nobody" was not found')

        # check (200 or 403 with `missing`, echoed as sent)
        assert await bob.check_user_permissions("bob", [data])
        assert await bob.check_user_permissions("bob", [Permission("storage://c/alice", "list")])
        assert await bob.check_user_permissions("bob", [Permission("storage://c/alice/data/deep/er", "read")])
        assert await bob.check_user_permissions("bob", [Permission("job:", "deny")])
        ok("check_user_permissions true")
        wanted = [Permission("storage://c/alice/data/", "write"), Permission("storage:", "read"), data]
        missing = await admin.get_missing_permissions("bob", wanted)
        assert list(missing) == wanted[:2], missing
        assert not await bob.check_user_permissions("bob", wanted)
        ok("get_missing_permissions echoes the failing entries")
        assert await bob.check_user_permissions("bob", [[Permission("storage:", "read"), data]])
        assert not await bob.check_user_permissions("bob", [[Permission("storage:", "read"), Permission("job:", "read")]])
        ok("alternatives")
        await expect_error(
            "check about another principal", bob.check_user_permissions("admin", [Permission("storage:", "read")]),
            403, "Forbidden")
        await expect_error(
            "check, unknown scheme", bob.get_missing_permissions("bob", [Permission("unknown:", "read")]),
            422, "Unknown resource type: unknown")

        # tree
        tree = await bob_session_tree(admin)
        assert isinstance(tree, ClientSubTreeViewRoot)
        assert tree.path == "/"
        assert tree.allows(Permission("storage://c/alice/data/x", "read"))
        assert not tree.allows(Permission("storage://c/alice/data/x", "write"))
        assert tree.allows(Permission("storage://c/bob/anything", "manage"))
        assert tree.allows(Permission("storage://c/alice", "list"))
        assert not tree.allows(Permission("storage://c/alice/other", "read"))
        ok("get_permissions_tree allows as the server decides")
        sub = await admin.get_permissions_tree("bob", "storage://c/alice", depth=1)
        assert sub.path == "/c/alice", sub.path
        assert list(sub.sub_tree.children) == ["data"], sub.sub_tree.children
        assert sub.sub_tree.children["data"].children == {}
        ok("tree depth")
        for bad in ("storage:/", "storage:///"):
            await expect_error(
                f"tree of {bad}", admin.get_permissions_tree("bob", bad), 400,
                f"Malformed URI '{bad}': authority is missing, but path part exists")

        # listing
        perms = await admin.get_permissions("bob")
        assert Permission("storage://c/alice/data", "read") in perms, perms
        assert Permission("storage://c/bob", "manage") in perms, perms
        assert all(p.action in ("read", "write", "manage") for p in perms), perms
        direct = await admin.get_permissions("bob", expand_roles=False)
        assert Permission("job://c/alice/j1", "write") in direct
        ok("get_permissions with and without roles")

        # revoke (204; `Operation has no effect`)
        await alice.revoke_user_permissions("bob", ["storage://c/alice/data/"])
        await expect_error(
            "revoke twice", alice.revoke_user_permissions("bob", ["storage://c/alice/data"]),
            400, "Operation has no effect")
        await expect_error(
            "revoke, unknown scheme", alice.revoke_user_permissions("bob", ["unknown:"]),
            422, "Malformed URI 'unknown:': Unknown resource type: unknown.")
        await expect_error(
            "revoke, no authority", alice.revoke_user_permissions("bob", ["job:job-id"]),
            400, contains="authority is missing, but path part exists")
        await expect_error(
            "revoke without manage", bob.revoke_user_permissions("bob", ["job://c/alice/j1"]), 403, "Forbidden")
        await expect_error(
            "revoke nothing", alice.revoke_user_permissions("bob", []), 400, '"uri" request parameter is missing')
        assert not await bob.check_user_permissions("bob", [data])
        ok("revoke_user_permissions")

        # roles through the session token: create on 404, set, revoke, remove
        role = "alice/roles/auto"
        await alice.grant_role_permissions(role, [Permission("storage://c/alice/r", "write")])
        assert await alice.get_user(role) == User(role)
        ok("grant_role_permissions creates the role on 404")
        await alice.set_role_permissions("alice/roles/set", [Permission("job://c/alice/s", "read")])
        wanted = [Permission("image://c/alice/i", "write"), Permission("job://c/alice/s", "manage")]
        await alice.set_role_permissions("alice/roles/set", wanted)
        got = await alice.get_permissions("alice/roles/set", expand_roles=False)
        assert sorted(got, key=lambda p: p.uri) == wanted, got
        ok("set_role_permissions replaces the set")
        await alice.revoke_role_permissions(
            "alice/roles/set", [Permission("job://c/alice/s", "manage"), Permission("job://c/alice/none", "read")])
        assert list(await alice.get_permissions("alice/roles/set", expand_roles=False)) == wanted[:1]
        ok("revoke_role_permissions swallows `Operation has no effect`")
        await alice.remove_role("alice/roles/set")
        await alice.remove_role("alice/roles/set")
        await expect_error("role removed", alice.get_user("alice/roles/set"), 404, 'user "alice/roles/set" was not found')
        ok("remove_role, twice")

        # delete_user (a user is deactivated, rule A3)
        await admin.delete_user("pyuser")
        await expect_error("deleted user", admin.get_user("pyuser"), 404, 'user "pyuser" was not found')
        await expect_error("deleted user's token", alice.secured_ping(token=token("pyuser")), 401)
        await expect_error("delete_user by a normal user", alice.delete_user("bob"), 403)

        # tokens; token:// revocation
        minted = await alice.get_user_token("alice")
        await alice.secured_ping(token=minted)
        ok("get_user_token for oneself")
        await expect_error("get_user_token for another", bob.get_user_token("alice"), 403, "Forbidden")
        await admin.grant_user_permissions("alice", [Permission("token://c/alice/t1", "read")])
        scoped = await admin.get_user_token("alice", new_token_uri="token://c/alice/t1")
        async with AuthClient(BASE, scoped) as as_alice:
            await as_alice.secured_ping()
            assert await as_alice.get_user("alice") == User("alice")
            ok("a token:// token works while readable")
            await admin.revoke_user_permissions("alice", ["token://c/alice/t1"])
            await expect_error("a token:// token after revoke", as_alice.secured_ping(), 401)
        await alice.secured_ping(token=minted)
        ok("other tokens untouched")

        # 50 concurrent checks (asyncio.gather)
        await bob_share(alice)
        asks = []
        for i in range(50):
            if i % 2:
                asks.append((Permission(f"storage://c/alice/conc/f{i}", "read"), True))
            else:
                asks.append((Permission(f"storage://c/alice/private/f{i}", "read"), False))
        answers = await asyncio.gather(*(bob.check_user_permissions("bob", [p]) for p, _ in asks))
        assert answers == [want for _, want in asks], answers
        ok("50 concurrent checks")
    finally:
        for client in (admin, alice, bob, anonymous):
            await client.close()


async def bob_session_tree(admin):
    await admin.grant_user_permissions("bob", [Permission("storage://c/alice/data", "read")], token=token("alice"))
    return await admin.get_permissions_tree("bob", "storage:", depth=10)


async def bob_share(alice):
    await alice.grant_user_permissions("bob", [Permission("storage://c/alice/conc", "read")])


async def sdk_raw_calls():
    """The SDK's users module: its URLs (api_url / "users" / name with `:`), its status
    checks (exactly 201 or 204) and the JSON it parses."""
    api = BASE / "api" / "v1"
    headers = {"Authorization": f"Bearer {token('alice')}"}

    def user_url(name):
        return api / "users" / name.replace("/", ":")

    async with aiohttp.ClientSession(headers=headers) as session:
        # acl add-role
        async with session.post(api / "users", json={"name": "alice/roles/sdk"}) as resp:
            assert resp.status == 201, resp.status
        ok("sdk add-role is 201")
        # acl grant (share): 201, payload[0] is the effective permission
        body = [{"uri": "storage://c/alice/sdk", "action": "manage"}]
        async with session.post(user_url("bob") / "permissions", json=body) as resp:
            assert resp.status == 201, resp.status
            payload = await resp.json()
            assert payload[0] == {"uri": "storage://c/alice/sdk", "action": "manage"}, payload
        body = [{"uri": "storage://c/alice/sdk/x", "action": "read"}]
        async with session.post(user_url("bob") / "permissions", json=body) as resp:
            assert resp.status == 201
            payload = await resp.json()
            assert payload[0]["action"] == "manage", payload
        ok("sdk share answers the effective permission (`already has higher permission`)")
        body = [{"uri": "role://alice/roles/sdk", "action": "read"}]
        async with session.post(user_url("bob") / "permissions", json=body) as resp:
            assert resp.status == 201
        # acl ls --shared
        async with session.get(user_url("alice") / "permissions" / "shared") as resp:
            assert resp.status == 200
            shares = await resp.json()
            assert {"user": "bob", "uri": "storage://c/alice/sdk", "action": "manage"} in shares, shares
            assert all(s["action"] in ("read", "write", "manage") for s in shares), shares
        async with session.get(user_url("alice") / "permissions" / "shared", params={"uri": "role:"}) as resp:
            shares = await resp.json()
            assert shares == [{"user": "bob", "uri": "role://alice/roles/sdk", "action": "read"}], shares
        ok("sdk shared listing")
        # acl ls
        async with session.get(user_url("alice") / "permissions", params={"uri": "storage:"}) as resp:
            assert resp.status == 200
            listing = await resp.json()
            assert {"uri": "storage://c/alice", "action": "manage"} in listing, listing
            assert all(item["uri"].startswith("storage:") for item in listing), listing
        ok("sdk acl ls with a prefix")
        # acl list-roles
        async with session.get(user_url("alice") / "subroles") as resp:
            assert resp.status == 200
            subroles = await resp.json()
            assert "alice/roles/sdk" in subroles["subroles"], subroles
        ok("sdk list-roles")
        # acl revoke: exactly 204
        async with session.delete(user_url("bob") / "permissions", params={"uri": "storage://c/alice/sdk"}) as resp:
            assert resp.status == 204, resp.status
        async with session.delete(user_url("bob") / "permissions", params={"uri": "storage://c/alice/sdk"}) as resp:
            assert resp.status == 400
            assert (await resp.json()) == {"error": "Operation has no effect"}
        ok("sdk revoke")
        # acl ls -u of a missing role
        async with session.get(user_url("alice/roles/missing") / "permissions") as resp:
            assert resp.status == 404
            assert (await resp.json()) == {"error": 'user "alice/roles/missing" was not found'}
        # acl remove-role: exactly 204
        async with session.delete(user_url("alice/roles/sdk")) as resp:
            assert resp.status == 204, resp.status
        ok("sdk remove-role")


async def main():
    await auth_client()
    await sdk_raw_calls()
    print(f"compat: {len(PASSED)} checks passed")
    for what in PASSED:
        print(f"  ok  {what}")


if __name__ == "__main__":
    asyncio.run(main())
