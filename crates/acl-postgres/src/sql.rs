//! Every SQL statement the store issues, as constants, so the query-plan test can run
//! `EXPLAIN` on each of them ([`all_statements`]).
//!
//! Values are always bound parameters (`$1`, `$2`, ...); nothing is ever formatted into a
//! statement. A batch lookup binds its keys as one array (`= ANY($1)`), so one statement
//! text serves every batch size and stays in each connection's statement cache. Every
//! statement correctness rests on is plain SQL that CockroachDB and YugabyteDB accept too
//! (DESIGN rule D4): no advisory lock, no PostgreSQL-only function. The one exception is
//! the wake-up hint [`NOTIFY`], sent only where the server accepted `LISTEN` when the
//! store was opened.

// ---- meta ----------------------------------------------------------------------------

pub(crate) const REVISION: &str = "SELECT revision FROM meta WHERE id = 1";
pub(crate) const CLUSTER: &str = "SELECT cluster FROM meta WHERE id = 1";
pub(crate) const SET_CLUSTER: &str = "UPDATE meta SET cluster = $1 WHERE id = 1";
/// The first statement of every write transaction (rule D2): it takes the row lock of the
/// one revision row, which the transaction holds until it ends, so writers of every
/// process are serialized by it, and answers the revision the commit will have.
pub(crate) const ADVANCE_REVISION: &str =
    "UPDATE meta SET revision = revision + 1 WHERE id = 1 RETURNING revision";

/// The channel on which each commit announces its revision (rule D4: a wake-up hint for
/// followers, never the truth, which is the changelog).
#[cfg(test)]
pub(crate) const CHANNEL: &str = "acl_changes";
/// The last statement of a write transaction where notifications are supported: the
/// server delivers it to the listeners of [`CHANNEL`] when, and only if, the transaction
/// commits. `$1` is the revision, as text.
pub(crate) const NOTIFY: &str = "SELECT pg_notify('acl_changes', $1)";
/// What a [`crate::PgListener`]'s connection runs once (no parameters; not a planned
/// statement).
pub(crate) const LISTEN: &str = "LISTEN acl_changes";
/// What opening a store runs, outside any transaction, to learn whether the server
/// delivers notifications (CockroachDB, for one, refuses `LISTEN`).
pub(crate) const PROBE_LISTEN: &str = "LISTEN acl_changes; UNLISTEN acl_changes";

// ---- principals ----------------------------------------------------------------------

pub(crate) const PRINCIPAL: &str = "SELECT kind, active FROM principals WHERE name = $1";
/// `$1` is the exclusive lower bound: the `after` name, or `''` (below every name).
pub(crate) const PRINCIPALS: &str =
    "SELECT name, kind, active FROM principals WHERE name > $1 ORDER BY name LIMIT $2";
pub(crate) const INSERT_PRINCIPAL: &str = "INSERT INTO principals (name, kind, active) \
     VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING";
pub(crate) const UPDATE_PRINCIPAL: &str =
    "UPDATE principals SET kind = $2, active = $3 WHERE name = $1";
pub(crate) const DELETE_PRINCIPAL: &str = "DELETE FROM principals WHERE name = $1";

// ---- grants --------------------------------------------------------------------------

/// Many grants written in one statement (a write transaction's queue): `$1` the holders,
/// `$2` the URIs, `$3` the levels, each (holder, URI) at most once.
pub(crate) const PUT_GRANTS: &str = "INSERT INTO grants (holder, uri, level) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::int2[]) \
     ON CONFLICT (holder, uri) DO UPDATE SET level = excluded.level";
pub(crate) const DELETE_GRANT: &str = "DELETE FROM grants WHERE holder = $1 AND uri = $2";

/// The grants of any holder of `$1` on any URI of `$2`: point seeks on the primary key.
pub(crate) const GRANTS_AT: &str = "SELECT holder, uri, level FROM grants \
     WHERE holder = ANY($1) AND uri = ANY($2)";

/// The grant on each (holder, URI) pair of `$1` (holders) and `$2` (URIs): one seek per
/// pair on the primary key.
pub(crate) const GRANTS_ON_PAIRS: &str = "SELECT g.holder, g.uri, g.level \
     FROM unnest($1::text[], $2::text[]) AS q (h, u) \
     JOIN grants g ON g.holder = q.h AND g.uri = q.u";

/// For each holder of `$1`, its first allow grant strictly between `$2` and `$3` (one seek
/// per holder on the primary key), and the first of those in (URI, holder) order: the cost
/// depends on the holders asked, never on the grants below the URI (rule E7).
pub(crate) const GRANT_BELOW: &str = "SELECT g.holder, g.uri, g.level \
     FROM unnest($1::text[]) AS h (name) \
     CROSS JOIN LATERAL (SELECT holder, uri, level FROM grants \
         WHERE holder = h.name AND uri > $2 AND uri < $3 AND level > 0 \
         ORDER BY uri LIMIT 1) AS g \
     ORDER BY g.uri, g.holder LIMIT 1";

/// `grants_of` everywhere: `$1` holder, `$2` exclusive lower URI (`after` or `''`), `$3`
/// limit.
pub(crate) const GRANTS_OF_ALL: &str = "SELECT holder, uri, level FROM grants \
     WHERE holder = $1 AND uri > $2 ORDER BY uri LIMIT $3";

/// `grants_of` within a subtree: the URI itself (`$2`, NULL when `after` is past it) and
/// the strict descendants (exclusive bounds `$3`, `$4`), in URI order. `$5` is the limit.
pub(crate) const GRANTS_OF_WITHIN: &str = "\
SELECT holder, uri, level FROM grants WHERE holder = $1 AND uri = $2
UNION ALL
SELECT holder, uri, level FROM grants WHERE holder = $1 AND uri > $3 AND uri < $4
ORDER BY uri LIMIT $5";

/// `grants_within`: the point branch (URI `$1`, NULL when not wanted, holders after `$2`)
/// and the range branch (keys after `($3, $4)`, URIs before `$5`), in (URI, holder) order.
/// `$6` is the limit.
pub(crate) const GRANTS_WITHIN: &str = "\
SELECT holder, uri, level FROM grants WHERE uri = $1 AND holder > $2
UNION ALL
SELECT holder, uri, level FROM grants WHERE (uri, holder) > ($3, $4) AND uri < $5
ORDER BY uri, holder LIMIT $6";

// ---- edges ---------------------------------------------------------------------------

pub(crate) const INSERT_EDGE: &str =
    "INSERT INTO edges (member, role) VALUES ($1, $2) ON CONFLICT (member, role) DO NOTHING";
pub(crate) const DELETE_EDGE: &str = "DELETE FROM edges WHERE member = $1 AND role = $2";

/// The direct members of the roles of `$1`: `(role, member record)` per edge.
pub(crate) const MEMBERS_OF: &str = "SELECT e.role, p.name, p.kind, p.active \
     FROM edges AS e JOIN principals AS p ON p.name = e.member WHERE e.role = ANY($1)";

/// Every edge reachable from `$1` (its own, then its roles', and so on; `UNION` keeps
/// each principal once, so even a cycle ends), each with its role's record (rule P3).
pub(crate) const REACHABLE: &str = "WITH RECURSIVE w (name) AS ( \
         SELECT CAST($1 AS TEXT) COLLATE \"C\" \
         UNION \
         SELECT e.role FROM w JOIN edges AS e ON e.member = w.name) \
     SELECT e.member, p.name, p.kind, p.active \
     FROM w JOIN edges AS e ON e.member = w.name JOIN principals AS p ON p.name = e.role";

// ---- fences --------------------------------------------------------------------------

pub(crate) const INSERT_FENCE: &str =
    "INSERT INTO fences (uri, grp) VALUES ($1, $2) ON CONFLICT (uri, grp) DO NOTHING";
pub(crate) const DELETE_FENCE: &str = "DELETE FROM fences WHERE uri = $1 AND grp = $2";
pub(crate) const FENCES_AT: &str = "SELECT uri, grp FROM fences WHERE uri = ANY($1)";
/// `fences` everywhere: keys after `($1, $2)` (`('', '')` for all), `$3` the limit.
pub(crate) const FENCES_ALL: &str =
    "SELECT uri, grp FROM fences WHERE (uri, grp) > ($1, $2) ORDER BY uri, grp LIMIT $3";
/// `fences` within a subtree: the same two branches as [`GRANTS_WITHIN`].
pub(crate) const FENCES_WITHIN: &str = "\
SELECT uri, grp FROM fences WHERE uri = $1 AND grp > $2
UNION ALL
SELECT uri, grp FROM fences WHERE (uri, grp) > ($3, $4) AND uri < $5
ORDER BY uri, grp LIMIT $6";

// ---- changelog and membership notes ----------------------------------------------------

pub(crate) const APPEND_CHANGE: &str = "INSERT INTO changelog \
     (revision, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)";
pub(crate) const CHANGES: &str = "SELECT revision, at, actor, action, target, detail \
     FROM changelog WHERE revision > $1 ORDER BY revision LIMIT $2";
pub(crate) const CHANGES_BY: &str = "SELECT revision, at, actor, action, target, detail \
     FROM changelog WHERE actor = $1 AND revision > $2 ORDER BY revision LIMIT $3";

/// Notes the row key (`$2` kind, `$3`, `$4`) for the commit in progress, at its revision `$1`.
pub(crate) const NOTE: &str = "INSERT INTO changed (revision, kind, a, b) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (revision, kind, a, b) DO NOTHING";
/// The notes of many grants (kind 3) written at once: `$2` the holders, `$3` the URIs.
pub(crate) const NOTE_GRANTS: &str = "INSERT INTO changed (revision, kind, a, b) \
     SELECT $1, 3::int2, h, u FROM unnest($2::text[], $3::text[]) AS q (h, u) \
     ON CONFLICT (revision, kind, a, b) DO NOTHING";
/// The row keys noted by the commits after revision `$1`.
pub(crate) const NOTED_AFTER: &str = "SELECT DISTINCT kind, a, b FROM changed WHERE revision > $1";
/// The revision below which notes may be gone.
pub(crate) const NOTES_FROM: &str = "SELECT notes_from FROM meta WHERE id = 1";
/// Forgets the notes of revision `$1` and older.
pub(crate) const PRUNE_NOTES: &str = "DELETE FROM changed WHERE revision <= $1";
/// Records that notes of revision `$1` and older may be gone.
pub(crate) const SET_NOTES_FROM: &str =
    "UPDATE meta SET notes_from = GREATEST(notes_from, $1) WHERE id = 1";
/// Moves the revision row to `$1` (a commit of several changelog entries, rule D5).
pub(crate) const SET_REVISION: &str = "UPDATE meta SET revision = $1 WHERE id = 1";
/// How many revisions of notes are kept.
pub(crate) const NOTES_KEPT_REVISIONS: i64 = 1_000;

// ---- folders, shares, invitations, vms (rules F1 to F9, V1) ---------------------------

pub(crate) const FOLDER: &str = "SELECT id, name, owner, kind, host, status, group_permission \
     FROM folders WHERE id = $1";
pub(crate) const FOLDERS_OF: &str = "SELECT id, name, owner, kind, host, status, \
     group_permission FROM folders WHERE owner = $1 ORDER BY id";
pub(crate) const PUT_FOLDER: &str = "INSERT INTO folders \
     (id, name, owner, kind, host, status, group_permission) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner = excluded.owner, \
     kind = excluded.kind, host = excluded.host, status = excluded.status, \
     group_permission = excluded.group_permission";

pub(crate) const SHARES_OF_FOLDER: &str =
    "SELECT folder, sharee, permission FROM shares WHERE folder = $1 ORDER BY sharee";
pub(crate) const SHARES_OF_USER: &str =
    "SELECT folder, sharee, permission FROM shares WHERE sharee = $1 ORDER BY folder";
pub(crate) const PUT_SHARE: &str = "INSERT INTO shares (folder, sharee, permission) \
     VALUES ($1, $2, $3) ON CONFLICT (folder, sharee) DO UPDATE SET permission = excluded.permission";
pub(crate) const DELETE_SHARE: &str = "DELETE FROM shares WHERE folder = $1 AND sharee = $2";

pub(crate) const INVITATION: &str = "SELECT id, folder, inviter, invitee, permission, state, \
     created FROM invitations WHERE id = $1";
pub(crate) const INVITATIONS_BY_INVITEE: &str = "SELECT id, folder, inviter, invitee, \
     permission, state, created FROM invitations WHERE invitee = $1 ORDER BY id";
pub(crate) const INVITATIONS_BY_INVITER: &str = "SELECT id, folder, inviter, invitee, \
     permission, state, created FROM invitations WHERE inviter = $1 ORDER BY id";
pub(crate) const INVITATIONS_BY_FOLDER: &str = "SELECT id, folder, inviter, invitee, \
     permission, state, created FROM invitations WHERE folder = $1 ORDER BY id";
pub(crate) const PUT_INVITATION: &str = "INSERT INTO invitations \
     (id, folder, inviter, invitee, permission, state, created) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
     folder = excluded.folder, inviter = excluded.inviter, invitee = excluded.invitee, \
     permission = excluded.permission, state = excluded.state, created = excluded.created";

pub(crate) const VM: &str = "SELECT id, name, team, owner FROM vms WHERE id = $1";
pub(crate) const VMS_OF: &str = "SELECT id, name, team, owner FROM vms WHERE team = $1 ORDER BY id";
pub(crate) const PUT_VM: &str = "INSERT INTO vms (id, name, team, owner) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, team = excluded.team, \
     owner = excluded.owner";

// ---- policies, accounts, keypairs, sessions, group attributes (rules A1 to A6) -------

pub(crate) const POLICY: &str = "SELECT name, cpu, ram_gb, gpu, fgpu_hundredths, \
     containers_per_session, idle_timeout_secs, concurrent_sessions, folder_capacity_gb, folders, \
     hosts FROM policies WHERE name = $1";
pub(crate) const POLICIES: &str = "SELECT name, cpu, ram_gb, gpu, fgpu_hundredths, \
     containers_per_session, idle_timeout_secs, concurrent_sessions, folder_capacity_gb, folders, \
     hosts FROM policies WHERE name > '' ORDER BY name";
pub(crate) const PUT_POLICY: &str = "INSERT INTO policies (name, cpu, ram_gb, gpu, \
     fgpu_hundredths, containers_per_session, idle_timeout_secs, concurrent_sessions, \
     folder_capacity_gb, folders, hosts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
     ON CONFLICT (name) DO UPDATE SET cpu = excluded.cpu, ram_gb = excluded.ram_gb, \
     gpu = excluded.gpu, fgpu_hundredths = excluded.fgpu_hundredths, \
     containers_per_session = excluded.containers_per_session, \
     idle_timeout_secs = excluded.idle_timeout_secs, \
     concurrent_sessions = excluded.concurrent_sessions, \
     folder_capacity_gb = excluded.folder_capacity_gb, folders = excluded.folders, \
     hosts = excluded.hosts";
pub(crate) const DELETE_POLICY: &str = "DELETE FROM policies WHERE name = $1";

pub(crate) const ACCOUNT: &str = "SELECT username, email, full_name, password, role, status, \
     need_password_change, domain, policy, created FROM accounts WHERE username = $1";
pub(crate) const ACCOUNT_BY_EMAIL: &str = "SELECT username, email, full_name, password, role, \
     status, need_password_change, domain, policy, created FROM accounts WHERE email_key = $1";
pub(crate) const ACCOUNT_BY_USERNAME: &str = "SELECT username, email, full_name, password, role, \
     status, need_password_change, domain, policy, created FROM accounts WHERE username_key = $1";
/// `$1` is the exclusive lower bound (`after` or `''`), `$2` the limit.
pub(crate) const ACCOUNTS: &str = "SELECT username, email, full_name, password, role, status, \
     need_password_change, domain, policy, created FROM accounts WHERE username > $1 \
     ORDER BY username LIMIT $2";
pub(crate) const ACCOUNTS_OF_POLICY: &str =
    "SELECT username FROM accounts WHERE policy = $1 ORDER BY username LIMIT $2";
/// The lowercase keys are ASCII lowercase (`COLLATE \"C\"`), whatever the database's
/// locale, as acl-sqlite's `lower()` gives.
pub(crate) const PUT_ACCOUNT: &str = "INSERT INTO accounts (username, username_key, email, \
     email_key, full_name, password, role, status, need_password_change, domain, policy, created) \
     VALUES ($1, lower($1 COLLATE \"C\"), $2, lower($2 COLLATE \"C\"), $3, $4, $5, $6, $7, $8, \
     $9, $10) \
     ON CONFLICT (username) DO UPDATE SET email = excluded.email, \
     email_key = excluded.email_key, full_name = excluded.full_name, \
     password = excluded.password, role = excluded.role, status = excluded.status, \
     need_password_change = excluded.need_password_change, domain = excluded.domain, \
     policy = excluded.policy, created = excluded.created";

pub(crate) const KEYPAIR: &str = "SELECT access_key, username, secret, active, policy, created, \
     sealed FROM keypairs WHERE access_key = $1";
pub(crate) const KEYPAIRS_OF: &str = "SELECT access_key, username, secret, active, policy, \
     created, sealed FROM keypairs WHERE username = $1 ORDER BY access_key";
/// `$1` is the exclusive lower bound (`after` or `''`), `$2` the limit.
pub(crate) const KEYPAIRS: &str = "SELECT access_key, username, secret, active, policy, created, \
     sealed FROM keypairs WHERE access_key > $1 ORDER BY access_key LIMIT $2";
pub(crate) const KEYPAIRS_OF_POLICY: &str =
    "SELECT access_key FROM keypairs WHERE policy = $1 ORDER BY access_key LIMIT $2";
pub(crate) const PUT_KEYPAIR: &str = "INSERT INTO keypairs \
     (access_key, username, secret, active, policy, created, sealed) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (access_key) DO UPDATE SET username = excluded.username, \
     secret = excluded.secret, active = excluded.active, policy = excluded.policy, \
     created = excluded.created, sealed = excluded.sealed";

pub(crate) const SESSION: &str = "SELECT id, username, cpu, ram_gb, gpu, fgpu_hundredths, \
     containers, started, stopped FROM sessions WHERE id = $1";
pub(crate) const SESSIONS_OF: &str = "SELECT id, username, cpu, ram_gb, gpu, fgpu_hundredths, \
     containers, started, stopped FROM sessions WHERE username = $1 ORDER BY id";
/// `$1` is the exclusive lower bound (`after` or `''`), `$2` the limit.
pub(crate) const SESSIONS: &str = "SELECT id, username, cpu, ram_gb, gpu, fgpu_hundredths, \
     containers, started, stopped FROM sessions WHERE id > $1 ORDER BY id LIMIT $2";
pub(crate) const PUT_SESSION: &str = "INSERT INTO sessions (id, username, cpu, ram_gb, gpu, \
     fgpu_hundredths, containers, started, stopped) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (id) DO UPDATE SET username = excluded.username, cpu = excluded.cpu, \
     ram_gb = excluded.ram_gb, gpu = excluded.gpu, fgpu_hundredths = excluded.fgpu_hundredths, \
     containers = excluded.containers, started = excluded.started, stopped = excluded.stopped";

pub(crate) const GROUP_INFO: &str = "SELECT name, domain, created FROM group_info WHERE name = $1";
pub(crate) const PUT_GROUP_INFO: &str = "INSERT INTO group_info (name, domain, created) \
     VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET domain = excluded.domain, \
     created = excluded.created";
pub(crate) const DELETE_GROUP_INFO: &str = "DELETE FROM group_info WHERE name = $1";

/// Every statement the store issues, named, for the query-plan test.
#[cfg(test)]
pub(crate) fn all_statements() -> Vec<(&'static str, &'static str)> {
    vec![
        ("REVISION", REVISION),
        ("CLUSTER", CLUSTER),
        ("SET_CLUSTER", SET_CLUSTER),
        ("ADVANCE_REVISION", ADVANCE_REVISION),
        ("NOTIFY", NOTIFY),
        ("PRINCIPAL", PRINCIPAL),
        ("PRINCIPALS", PRINCIPALS),
        ("INSERT_PRINCIPAL", INSERT_PRINCIPAL),
        ("UPDATE_PRINCIPAL", UPDATE_PRINCIPAL),
        ("DELETE_PRINCIPAL", DELETE_PRINCIPAL),
        ("PUT_GRANTS", PUT_GRANTS),
        ("DELETE_GRANT", DELETE_GRANT),
        ("GRANTS_AT", GRANTS_AT),
        ("GRANTS_ON_PAIRS", GRANTS_ON_PAIRS),
        ("GRANT_BELOW", GRANT_BELOW),
        ("GRANTS_OF_ALL", GRANTS_OF_ALL),
        ("GRANTS_OF_WITHIN", GRANTS_OF_WITHIN),
        ("GRANTS_WITHIN", GRANTS_WITHIN),
        ("INSERT_EDGE", INSERT_EDGE),
        ("DELETE_EDGE", DELETE_EDGE),
        ("MEMBERS_OF", MEMBERS_OF),
        ("REACHABLE", REACHABLE),
        ("INSERT_FENCE", INSERT_FENCE),
        ("DELETE_FENCE", DELETE_FENCE),
        ("FENCES_AT", FENCES_AT),
        ("FENCES_ALL", FENCES_ALL),
        ("FENCES_WITHIN", FENCES_WITHIN),
        ("APPEND_CHANGE", APPEND_CHANGE),
        ("CHANGES", CHANGES),
        ("CHANGES_BY", CHANGES_BY),
        ("NOTE", NOTE),
        ("NOTE_GRANTS", NOTE_GRANTS),
        ("NOTED_AFTER", NOTED_AFTER),
        ("NOTES_FROM", NOTES_FROM),
        ("PRUNE_NOTES", PRUNE_NOTES),
        ("SET_NOTES_FROM", SET_NOTES_FROM),
        ("SET_REVISION", SET_REVISION),
        ("FOLDER", FOLDER),
        ("FOLDERS_OF", FOLDERS_OF),
        ("PUT_FOLDER", PUT_FOLDER),
        ("SHARES_OF_FOLDER", SHARES_OF_FOLDER),
        ("SHARES_OF_USER", SHARES_OF_USER),
        ("PUT_SHARE", PUT_SHARE),
        ("DELETE_SHARE", DELETE_SHARE),
        ("INVITATION", INVITATION),
        ("INVITATIONS_BY_INVITEE", INVITATIONS_BY_INVITEE),
        ("INVITATIONS_BY_INVITER", INVITATIONS_BY_INVITER),
        ("INVITATIONS_BY_FOLDER", INVITATIONS_BY_FOLDER),
        ("PUT_INVITATION", PUT_INVITATION),
        ("VM", VM),
        ("VMS_OF", VMS_OF),
        ("PUT_VM", PUT_VM),
        ("POLICY", POLICY),
        ("POLICIES", POLICIES),
        ("PUT_POLICY", PUT_POLICY),
        ("DELETE_POLICY", DELETE_POLICY),
        ("ACCOUNT", ACCOUNT),
        ("ACCOUNT_BY_EMAIL", ACCOUNT_BY_EMAIL),
        ("ACCOUNT_BY_USERNAME", ACCOUNT_BY_USERNAME),
        ("ACCOUNTS", ACCOUNTS),
        ("ACCOUNTS_OF_POLICY", ACCOUNTS_OF_POLICY),
        ("PUT_ACCOUNT", PUT_ACCOUNT),
        ("KEYPAIR", KEYPAIR),
        ("KEYPAIRS_OF", KEYPAIRS_OF),
        ("KEYPAIRS", KEYPAIRS),
        ("KEYPAIRS_OF_POLICY", KEYPAIRS_OF_POLICY),
        ("PUT_KEYPAIR", PUT_KEYPAIR),
        ("SESSION", SESSION),
        ("SESSIONS_OF", SESSIONS_OF),
        ("SESSIONS", SESSIONS),
        ("PUT_SESSION", PUT_SESSION),
        ("GROUP_INFO", GROUP_INFO),
        ("PUT_GROUP_INFO", PUT_GROUP_INFO),
        ("DELETE_GROUP_INFO", DELETE_GROUP_INFO),
    ]
}
