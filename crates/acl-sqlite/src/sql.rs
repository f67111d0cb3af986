//! Every SQL statement the store issues, as constants or generated from a fixed template,
//! so the query-plan test can iterate over all of them ([`all_statements`]).
//!
//! Values are always bound parameters. The only generated parts are placeholder lists
//! (`VALUES (?1), (?2), ...`) whose length is a power of two (see [`bucket`]); the texts
//! are built once per process, and there are few enough of them for every one to stay in
//! each connection's prepared statement cache.
//!
//! A bound parameter in an equality or a `LIMIT` is always written `+?n` (`name = +?1`,
//! `LIMIT +?2`), never bare. SQLite lets the planner look at the value bound to a bare
//! parameter there (is the limit small, is the key 0 or 1) and then marks the statement
//! to be prepared again whenever the binding changes; rusqlite's statement cache clears
//! the bindings each time a statement goes back to it, so such a statement was prepared
//! again on every use, which cost more than the lookup itself. The unary plus is a no-op
//! on the value and leaves index use unchanged, but makes the parameter an expression the
//! planner does not look into. The test `no_read_statement_is_prepared_again_when_rebound`
//! keeps it so.

use std::sync::OnceLock;

use acl_core::Error;

/// The most values bound in one `IN (...)` list; longer lists are split into chunks.
pub(crate) const CHUNK: usize = 512;

/// Maps a rusqlite error to [`Error::Storage`], saying what was being done.
pub(crate) fn db_err(context: &'static str) -> impl Fn(rusqlite::Error) -> Error {
    move |e| Error::Storage(format!("{context}: {e}"))
}

// ---- meta --------------------------------------------------------------------------

pub(crate) const REVISION: &str = "SELECT revision FROM meta WHERE id = 1";
pub(crate) const CLUSTER: &str = "SELECT cluster FROM meta WHERE id = 1";
pub(crate) const SET_CLUSTER: &str = "UPDATE meta SET cluster = ?1 WHERE id = 1";
pub(crate) const SET_REVISION: &str = "UPDATE meta SET revision = ?1 WHERE id = 1";

// ---- principals ----------------------------------------------------------------------

/// The id, kind and active flag of the principal named `?1`.
pub(crate) const PRINCIPAL: &str = "SELECT id, kind, active FROM principals WHERE name = +?1";
/// `?1` is the exclusive lower bound: the `after` name, or `''` (below every name).
pub(crate) const PRINCIPALS: &str =
    "SELECT name, kind, active FROM principals WHERE name > ?1 ORDER BY name LIMIT +?2";
pub(crate) const INSERT_PRINCIPAL: &str = "INSERT INTO principals (name, kind, active) \
     VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING";
pub(crate) const UPDATE_PRINCIPAL: &str =
    "UPDATE principals SET kind = ?2, active = ?3 WHERE name = +?1";
pub(crate) const DELETE_PRINCIPAL: &str = "DELETE FROM principals WHERE name = +?1";

// ---- grants --------------------------------------------------------------------------

pub(crate) const PUT_GRANT: &str = "INSERT INTO grants (holder, uri, level) VALUES (?1, ?2, ?3) \
     ON CONFLICT (holder, uri) DO UPDATE SET level = excluded.level";
pub(crate) const DELETE_GRANT: &str = "DELETE FROM grants WHERE holder = +?1 AND uri = +?2";

/// `grants_of` everywhere: `?1` holder, `?2` exclusive lower URI (`after` or `''`), `?3`
/// limit.
pub(crate) const GRANTS_OF_ALL: &str = "SELECT holder, uri, level FROM grants \
     WHERE holder = +?1 AND uri > ?2 ORDER BY uri LIMIT +?3";

/// `grants_of` within a subtree, as a point branch (the URI itself, `?2`, NULL when
/// `after` is past it) and a strict-descendant branch (exclusive bounds `?3`, `?4`), merged
/// in URI order. `?5` is the limit.
pub(crate) const GRANTS_OF_WITHIN: &str = "\
SELECT holder, uri, level FROM grants WHERE holder = +?1 AND uri = +?2
UNION ALL
SELECT holder, uri, level FROM grants WHERE holder = +?1 AND uri > ?3 AND uri < ?4
ORDER BY uri LIMIT +?5";

/// `grants_within`: a point branch (URI `?1`, NULL when not wanted, holders after `?2`)
/// and a range branch (keys after `(?3, ?4)`, URIs before `?5`), merged in (URI, holder)
/// order. `?6` is the limit.
pub(crate) const GRANTS_WITHIN: &str = "\
SELECT holder, uri, level FROM grants WHERE uri = +?1 AND holder > ?2
UNION ALL
SELECT holder, uri, level FROM grants WHERE (uri, holder) > (?3, ?4) AND uri < ?5
ORDER BY uri, holder LIMIT +?6";

// ---- edges ---------------------------------------------------------------------------

/// `?1` member and `?2` role, by name. A missing principal gives a NULL id, which the
/// NOT NULL constraint refuses.
pub(crate) const INSERT_EDGE: &str = "INSERT INTO edges (member, role) VALUES \
     ((SELECT id FROM principals WHERE name = +?1), (SELECT id FROM principals WHERE name = +?2)) \
     ON CONFLICT (member, role) DO NOTHING";
/// `?1` member and `?2` role, by id.
pub(crate) const DELETE_EDGE: &str = "DELETE FROM edges WHERE member = +?1 AND role = +?2";
/// The id of the principal named `?1`.
pub(crate) const PRINCIPAL_ID: &str = "SELECT id FROM principals WHERE name = +?1";

// ---- reach: the edges reachable from each principal (schema step 5) --------------------

/// The edges reachable from the principal named `?1` (its own, then its roles', and so on),
/// as the principal's id, the member's id, the role's id and the role's record: one range
/// of `reach`, whose rows carry the role's record (schema step 6).
pub(crate) const REACH_OF_NAME: &str = "SELECT s.id, r.member, r.role, r.role_name, \
     r.role_kind, r.role_active FROM principals AS s CROSS JOIN reach AS r \
     WHERE s.name = +?1 AND r.start = s.id";

/// [`REACH_OF_NAME`] for the principal with id `?1`, without the id column: when a lookup
/// of the principal in the same snapshot has given its id.
pub(crate) const REACH_OF_ID: &str = "SELECT member, role, role_name, role_kind, role_active \
     FROM reach WHERE start = +?1";

/// After the edge `?1 -> ?2` (member and role names) is inserted: every principal that
/// reaches the member (the member itself, and the starts of the rows whose role it is)
/// now reaches the new edge and every edge the role reaches. Rows already there are kept.
pub(crate) const REACH_INSERT_EDGE: &str = "\
WITH m (id) AS (SELECT id FROM principals WHERE name = +?1),
     t (id, name, kind, active) AS (
         SELECT id, name, kind, active FROM principals WHERE name = +?2),
     a (start) AS (
         SELECT id FROM m
         UNION
         SELECT x.start FROM m CROSS JOIN reach AS x WHERE x.role = m.id),
     d (member, role, name, kind, active) AS (
         SELECT m.id, t.id, t.name, t.kind, t.active FROM m CROSS JOIN t
         UNION ALL
         SELECT y.member, y.role, y.role_name, y.role_kind, y.role_active
         FROM t CROSS JOIN reach AS y WHERE y.start = t.id)
INSERT OR IGNORE INTO reach (start, member, role, role_name, role_kind, role_active)
SELECT a.start, d.member, d.role, d.name, d.kind, d.active FROM a CROSS JOIN d";

/// The principals whose reachable edges include an edge from the principal with id `?1`
/// (other than itself): the starts of the rows whose role it is.
pub(crate) const REACH_STARTS_OF: &str =
    "SELECT DISTINCT start FROM reach WHERE role = +?1 ORDER BY start";

/// Forgets the reachable edges of the principal with id `?1`, before they are rebuilt.
pub(crate) const REACH_CLEAR: &str = "DELETE FROM reach WHERE start = +?1";

/// Rebuilds the reachable edges of the principal with id `?1` from `edges`: walk the roles
/// it reaches (`UNION` keeps each once, so even a cycle ends), then take their edges, each
/// with its role's record.
pub(crate) const REACH_REBUILD: &str = "\
WITH RECURSIVE w (id) AS (
    SELECT +?1
    UNION
    SELECT e.role FROM w CROSS JOIN edges AS e WHERE e.member = w.id)
INSERT INTO reach (start, member, role, role_name, role_kind, role_active)
SELECT +?1, e.member, e.role, p.name, p.kind, p.active
FROM w CROSS JOIN edges AS e CROSS JOIN principals AS p
WHERE e.member = w.id AND p.id = e.role";

/// After the principal named `?1` got kind `?2` and active flag `?3`: the copies of its
/// record in the `reach` rows whose role it is.
pub(crate) const REACH_UPDATE_ROLE: &str = "UPDATE reach SET role_kind = ?2, role_active = ?3 \
     WHERE role = (SELECT id FROM principals WHERE name = +?1)";

// ---- fences --------------------------------------------------------------------------

pub(crate) const INSERT_FENCE: &str =
    "INSERT INTO fences (uri, grp) VALUES (?1, ?2) ON CONFLICT (uri, grp) DO NOTHING";
pub(crate) const DELETE_FENCE: &str = "DELETE FROM fences WHERE uri = +?1 AND grp = +?2";
/// `fences` everywhere: keys after `(?1, ?2)` (`('', '')` for all), `?3` the limit.
pub(crate) const FENCES_ALL: &str =
    "SELECT uri, grp FROM fences WHERE (uri, grp) > (?1, ?2) ORDER BY uri, grp LIMIT +?3";
/// `fences` within a subtree: the same two branches as [`GRANTS_WITHIN`].
pub(crate) const FENCES_WITHIN: &str = "\
SELECT uri, grp FROM fences WHERE uri = +?1 AND grp > ?2
UNION ALL
SELECT uri, grp FROM fences WHERE (uri, grp) > (?3, ?4) AND uri < ?5
ORDER BY uri, grp LIMIT +?6";

// ---- changelog -----------------------------------------------------------------------

pub(crate) const APPEND_CHANGE: &str = "INSERT INTO changelog \
     (revision, at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
pub(crate) const CHANGES: &str = "SELECT revision, at, actor, action, target, detail \
     FROM changelog WHERE revision > ?1 ORDER BY revision LIMIT +?2";
pub(crate) const CHANGES_BY: &str = "SELECT revision, at, actor, action, target, detail \
     FROM changelog WHERE actor = +?1 AND revision > ?2 ORDER BY revision LIMIT +?3";

// ---- changed rows (schema step 8) -----------------------------------------------------

/// How many revisions back the notes of `changed` are kept: a follower or a closure cache
/// further behind rebuilds. A process catching up every 50 ms is that far behind only
/// past 20,000 commits a second.
pub(crate) const NOTES_KEPT_REVISIONS: i64 = 1_000;

/// Notes the row key (`?1` kind, `?2`, `?3`) for the commit in progress (the revision
/// after the meta row's).
pub(crate) const NOTE: &str = "INSERT OR IGNORE INTO changed (revision, kind, a, b) \
     SELECT revision + 1, ?1, ?2, ?3 FROM meta WHERE id = 1";
/// Takes back the note (`?1`, `?2`, `?3`) of the commit in progress.
pub(crate) const UNNOTE: &str = "DELETE FROM changed WHERE revision = \
     (SELECT revision + 1 FROM meta WHERE id = 1) AND kind = ?1 AND a = ?2 AND b = ?3";
/// The row keys noted by the commits after revision `?1`.
pub(crate) const NOTED_AFTER: &str = "SELECT kind, a, b FROM changed WHERE revision > ?1";
/// The revision below which notes may be gone.
pub(crate) const NOTES_FROM: &str = "SELECT notes_from FROM meta WHERE id = 1";
/// Forgets the notes of revisions `?1` and older (pruning), and says so in the meta row.
pub(crate) const PRUNE_NOTES: &str = "DELETE FROM changed WHERE revision <= ?1";
/// Records that the notes of revision `?1` and older may be gone.
pub(crate) const SET_NOTES_FROM: &str =
    "UPDATE meta SET notes_from = max(notes_from, ?1) WHERE id = 1";
/// Forgets the notes of the one revision `?1` (a commit that wrote too many rows).
pub(crate) const FORGET_NOTES_OF: &str = "DELETE FROM changed WHERE revision = ?1";

// ---- generated batch statements ------------------------------------------------------

/// The placeholder count used for `n` values: the next power of two, so a handful of
/// statement texts serve every batch size (see [`BUCKETS`]). The extra slots are bound to
/// NULL, which equals nothing, so they add no row.
pub(crate) fn bucket(n: usize) -> usize {
    n.max(1).next_power_of_two()
}

/// The bucket sizes: 1, 2, 4, ... [`CHUNK`].
pub(crate) const BUCKETS: usize = CHUNK.trailing_zeros() as usize + 1;

/// The index of a bucket size in `0..BUCKETS`.
fn bucket_index(n: usize) -> usize {
    (bucket(n).trailing_zeros() as usize).min(BUCKETS - 1)
}

/// `VALUES (?{first}), (?{first+1}), ...` with `count` rows: the keys of a batch as a
/// table, so the statement joins it to an index (one seek per key, and no temporary index
/// as an `IN (...)` list would build).
fn values(first: usize, count: usize) -> String {
    let mut out = String::with_capacity(8 + count * 8);
    out.push_str("VALUES ");
    for i in first..first + count {
        if i > first {
            out.push_str(", ");
        }
        out.push_str("(?");
        out.push_str(&i.to_string());
        out.push(')');
    }
    out
}

/// The statement for `n` keys from a lazily built table of every bucket size.
fn one_list(
    table: &'static OnceLock<Vec<String>>,
    make: fn(usize) -> String,
    n: usize,
) -> &'static str {
    let all = table.get_or_init(|| (0..BUCKETS).map(|i| make(1 << i)).collect());
    all.get(bucket_index(n)).map_or("", String::as_str)
}

fn make_members_of(n: usize) -> String {
    format!(
        "WITH k (name) AS ({}) SELECT m.name, p.name, p.kind, p.active \
         FROM k CROSS JOIN principals AS m CROSS JOIN edges AS e CROSS JOIN principals AS p \
         WHERE m.name = k.name AND e.role = m.id AND p.id = e.member",
        values(1, n)
    )
}

fn make_grants_on(n: usize) -> String {
    format!(
        "WITH k (uri) AS ({}) SELECT g.holder, g.uri, g.level \
         FROM k CROSS JOIN grants AS g WHERE g.uri = k.uri",
        values(1, n)
    )
}

fn make_fences_at(n: usize) -> String {
    format!(
        "WITH k (uri) AS ({}) SELECT f.uri, f.grp \
         FROM k CROSS JOIN fences AS f WHERE f.uri = k.uri",
        values(1, n)
    )
}

fn make_grants_at(h: usize, u: usize) -> String {
    format!(
        "WITH h (name) AS ({}), k (uri) AS ({}) SELECT g.holder, g.uri, g.level \
         FROM h CROSS JOIN k CROSS JOIN grants AS g \
         WHERE g.holder = h.name AND g.uri = k.uri",
        values(1, h),
        values(h + 1, u)
    )
}

/// For each holder, its first allow grant strictly between the last two parameters, as
/// the text `{level}{uri}` (one index seek per holder; the caller picks the first in
/// (URI, holder) order). Holders without one give NULL (a `WHERE first IS NOT NULL` would
/// run the subquery twice).
fn make_grant_below(n: usize) -> String {
    let lo = n + 1;
    let hi = n + 2;
    format!(
        "WITH h (name) AS ({}) SELECT h.name, \
           (SELECT g.level || g.uri FROM grants AS g WHERE g.holder = h.name \
              AND g.uri > ?{lo} AND g.uri < ?{hi} AND g.level > 0 ORDER BY g.uri LIMIT 1) \
         FROM h",
        values(1, n)
    )
}

/// The grants strictly between `?1` and `?2` (a URI's descendant bounds), in (URI, holder)
/// order, at most `?3`: the subtree-first probe of `grant_below`.
pub(crate) const GRANTS_BELOW: &str = "SELECT holder, uri, level FROM grants \
     WHERE uri > ?1 AND uri < ?2 ORDER BY uri, holder LIMIT +?3";

/// The grant of one holder (`?1`) on one URI (`?2`): a point lookup on the primary key, for
/// the small `grants_at` questions a mutation asks.
pub(crate) const GRANT_AT: &str =
    "SELECT holder, uri, level FROM grants WHERE holder = +?1 AND uri = +?2";

fn make_grants_on_capped(n: usize) -> String {
    format!("{} LIMIT +?{}", make_grants_on(n), n + 1)
}

/// `grants_on` with a row cap as the last parameter (`?n+1`): the first step of
/// `grants_at`, which probes by URI and filters holders, and falls back to (holder, URI)
/// pairs when a URI holds more grants than the cap.
pub(crate) fn grants_on_capped(n: usize) -> &'static str {
    static TABLE: OnceLock<Vec<String>> = OnceLock::new();
    one_list(&TABLE, make_grants_on_capped, n)
}

/// `members_of`: the member records of the edges into `n` roles (`?1..?n`).
pub(crate) fn members_of(n: usize) -> &'static str {
    static TABLE: OnceLock<Vec<String>> = OnceLock::new();
    one_list(&TABLE, make_members_of, n)
}

/// `fences_at`: the fences on `n` URIs (`?1..?n`).
pub(crate) fn fences_at(n: usize) -> &'static str {
    static TABLE: OnceLock<Vec<String>> = OnceLock::new();
    one_list(&TABLE, make_fences_at, n)
}

/// `grant_below`: `n` holders (`?1..?n`), then the exclusive bounds `?n+1`, `?n+2`.
pub(crate) fn grant_below(n: usize) -> &'static str {
    static TABLE: OnceLock<Vec<String>> = OnceLock::new();
    one_list(&TABLE, make_grant_below, n)
}

/// `grants_at`: `h` holders (`?1..?h`) and `u` URIs (`?h+1..?h+u`).
pub(crate) fn grants_at(h: usize, u: usize) -> &'static str {
    static TABLE: OnceLock<Vec<String>> = OnceLock::new();
    let all = TABLE.get_or_init(|| {
        (0..BUCKETS * BUCKETS)
            .map(|i| make_grants_at(1 << (i / BUCKETS), 1 << (i % BUCKETS)))
            .collect()
    });
    all.get(bucket_index(h) * BUCKETS + bucket_index(u))
        .map_or("", String::as_str)
}

// ---- folders, shares, invitations, vms (rules F1 to F9, V1) ---------------------------

pub(crate) const FOLDER: &str = "SELECT id, name, owner, kind, host, status, group_permission \
     FROM folders WHERE id = +?1";
pub(crate) const FOLDERS_OF: &str = "SELECT id, name, owner, kind, host, status, \
     group_permission FROM folders WHERE owner = +?1 ORDER BY id";
pub(crate) const PUT_FOLDER: &str = "INSERT INTO folders \
     (id, name, owner, kind, host, status, group_permission) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner = excluded.owner, \
     kind = excluded.kind, host = excluded.host, status = excluded.status, \
     group_permission = excluded.group_permission";

pub(crate) const SHARES_OF_FOLDER: &str =
    "SELECT folder, sharee, permission FROM shares WHERE folder = +?1 ORDER BY sharee";
pub(crate) const SHARES_OF_USER: &str =
    "SELECT folder, sharee, permission FROM shares WHERE sharee = +?1 ORDER BY folder";
pub(crate) const PUT_SHARE: &str = "INSERT INTO shares (folder, sharee, permission) \
     VALUES (?1, ?2, ?3) ON CONFLICT (folder, sharee) DO UPDATE SET permission = excluded.permission";
pub(crate) const DELETE_SHARE: &str = "DELETE FROM shares WHERE folder = +?1 AND sharee = +?2";

pub(crate) const INVITATION: &str = "SELECT id, folder, inviter, invitee, permission, state, \
     created FROM invitations WHERE id = +?1";
pub(crate) const INVITATIONS_BY_INVITEE: &str = "SELECT id, folder, inviter, invitee, \
     permission, state, created FROM invitations WHERE invitee = +?1 ORDER BY id";
pub(crate) const INVITATIONS_BY_INVITER: &str = "SELECT id, folder, inviter, invitee, \
     permission, state, created FROM invitations WHERE inviter = +?1 ORDER BY id";
pub(crate) const INVITATIONS_BY_FOLDER: &str = "SELECT id, folder, inviter, invitee, \
     permission, state, created FROM invitations WHERE folder = +?1 ORDER BY id";
pub(crate) const PUT_INVITATION: &str = "INSERT INTO invitations \
     (id, folder, inviter, invitee, permission, state, created) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET \
     folder = excluded.folder, inviter = excluded.inviter, invitee = excluded.invitee, \
     permission = excluded.permission, state = excluded.state, created = excluded.created";

pub(crate) const VM: &str = "SELECT id, name, team, owner FROM vms WHERE id = +?1";
pub(crate) const VMS_OF: &str =
    "SELECT id, name, team, owner FROM vms WHERE team = +?1 ORDER BY id";
pub(crate) const PUT_VM: &str = "INSERT INTO vms (id, name, team, owner) VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, team = excluded.team, \
     owner = excluded.owner";

// ---- policies, accounts, keypairs, sessions, group attributes (rules A1 to A6) -------

pub(crate) const POLICY: &str = "SELECT name, cpu, ram_gb, gpu, fgpu_hundredths, \
     containers_per_session, idle_timeout_secs, concurrent_sessions, folder_capacity_gb, folders, \
     hosts FROM policies WHERE name = +?1";
pub(crate) const POLICIES: &str = "SELECT name, cpu, ram_gb, gpu, fgpu_hundredths, \
     containers_per_session, idle_timeout_secs, concurrent_sessions, folder_capacity_gb, folders, \
     hosts FROM policies WHERE name > '' ORDER BY name";
pub(crate) const PUT_POLICY: &str = "INSERT INTO policies (name, cpu, ram_gb, gpu, \
     fgpu_hundredths, containers_per_session, idle_timeout_secs, concurrent_sessions, \
     folder_capacity_gb, folders, hosts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
     ON CONFLICT (name) DO UPDATE SET cpu = excluded.cpu, ram_gb = excluded.ram_gb, \
     gpu = excluded.gpu, fgpu_hundredths = excluded.fgpu_hundredths, \
     containers_per_session = excluded.containers_per_session, \
     idle_timeout_secs = excluded.idle_timeout_secs, \
     concurrent_sessions = excluded.concurrent_sessions, \
     folder_capacity_gb = excluded.folder_capacity_gb, folders = excluded.folders, \
     hosts = excluded.hosts";
pub(crate) const DELETE_POLICY: &str = "DELETE FROM policies WHERE name = +?1";

pub(crate) const ACCOUNT: &str = "SELECT username, email, full_name, password, role, status, \
     need_password_change, domain, policy, created FROM accounts WHERE username = +?1";
pub(crate) const ACCOUNT_BY_EMAIL: &str = "SELECT username, email, full_name, password, role, \
     status, need_password_change, domain, policy, created FROM accounts WHERE email_key = +?1";
pub(crate) const ACCOUNT_BY_USERNAME: &str = "SELECT username, email, full_name, password, role, \
     status, need_password_change, domain, policy, created FROM accounts WHERE username_key = +?1";
/// `?1` is the exclusive lower bound (`after` or `''`), `?2` the limit.
pub(crate) const ACCOUNTS: &str = "SELECT username, email, full_name, password, role, status, \
     need_password_change, domain, policy, created FROM accounts WHERE username > ?1 \
     ORDER BY username LIMIT +?2";
pub(crate) const ACCOUNTS_OF_POLICY: &str =
    "SELECT username FROM accounts WHERE policy = +?1 ORDER BY username LIMIT +?2";
pub(crate) const PUT_ACCOUNT: &str = "INSERT INTO accounts (username, username_key, email, \
     email_key, full_name, password, role, status, need_password_change, domain, policy, created) \
     VALUES (?1, lower(?1), ?2, lower(?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
     ON CONFLICT (username) DO UPDATE SET email = excluded.email, \
     email_key = excluded.email_key, full_name = excluded.full_name, \
     password = excluded.password, role = excluded.role, status = excluded.status, \
     need_password_change = excluded.need_password_change, domain = excluded.domain, \
     policy = excluded.policy, created = excluded.created";

pub(crate) const KEYPAIR: &str = "SELECT access_key, username, secret, active, policy, created, \
     sealed FROM keypairs WHERE access_key = +?1";
pub(crate) const KEYPAIRS_OF: &str = "SELECT access_key, username, secret, active, policy, \
     created, sealed FROM keypairs WHERE username = +?1 ORDER BY access_key";
/// `?1` is the exclusive lower bound (`after` or `''`), `?2` the limit.
pub(crate) const KEYPAIRS: &str = "SELECT access_key, username, secret, active, policy, created, \
     sealed FROM keypairs WHERE access_key > ?1 ORDER BY access_key LIMIT +?2";
pub(crate) const KEYPAIRS_OF_POLICY: &str =
    "SELECT access_key FROM keypairs WHERE policy = +?1 ORDER BY access_key LIMIT +?2";
pub(crate) const PUT_KEYPAIR: &str = "INSERT INTO keypairs \
     (access_key, username, secret, active, policy, created, sealed) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
     ON CONFLICT (access_key) DO UPDATE SET username = excluded.username, \
     secret = excluded.secret, active = excluded.active, policy = excluded.policy, \
     created = excluded.created, sealed = excluded.sealed";

pub(crate) const SESSION: &str = "SELECT id, username, cpu, ram_gb, gpu, fgpu_hundredths, \
     containers, started, stopped FROM sessions WHERE id = +?1";
pub(crate) const SESSIONS_OF: &str = "SELECT id, username, cpu, ram_gb, gpu, fgpu_hundredths, \
     containers, started, stopped FROM sessions WHERE username = +?1 ORDER BY id";
/// `?1` is the exclusive lower bound (`after` or `''`), `?2` the limit.
pub(crate) const SESSIONS: &str = "SELECT id, username, cpu, ram_gb, gpu, fgpu_hundredths, \
     containers, started, stopped FROM sessions WHERE id > ?1 ORDER BY id LIMIT +?2";
pub(crate) const PUT_SESSION: &str = "INSERT INTO sessions (id, username, cpu, ram_gb, gpu, \
     fgpu_hundredths, containers, started, stopped) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
     ON CONFLICT (id) DO UPDATE SET username = excluded.username, cpu = excluded.cpu, \
     ram_gb = excluded.ram_gb, gpu = excluded.gpu, fgpu_hundredths = excluded.fgpu_hundredths, \
     containers = excluded.containers, started = excluded.started, stopped = excluded.stopped";

pub(crate) const GROUP_INFO: &str = "SELECT name, domain, created FROM group_info WHERE name = +?1";
pub(crate) const PUT_GROUP_INFO: &str = "INSERT INTO group_info (name, domain, created) \
     VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET domain = excluded.domain, \
     created = excluded.created";
pub(crate) const DELETE_GROUP_INFO: &str = "DELETE FROM group_info WHERE name = +?1";

/// Every statement the store can issue, named, for the query-plan test: the constants,
/// and the generated ones at a few bucket sizes.
#[cfg(test)]
pub(crate) fn all_statements() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = [
        ("REVISION", REVISION),
        ("CLUSTER", CLUSTER),
        ("SET_CLUSTER", SET_CLUSTER),
        ("SET_REVISION", SET_REVISION),
        ("PRINCIPAL", PRINCIPAL),
        ("PRINCIPALS", PRINCIPALS),
        ("INSERT_PRINCIPAL", INSERT_PRINCIPAL),
        ("UPDATE_PRINCIPAL", UPDATE_PRINCIPAL),
        ("DELETE_PRINCIPAL", DELETE_PRINCIPAL),
        ("PUT_GRANT", PUT_GRANT),
        ("DELETE_GRANT", DELETE_GRANT),
        ("GRANTS_OF_ALL", GRANTS_OF_ALL),
        ("GRANTS_OF_WITHIN", GRANTS_OF_WITHIN),
        ("GRANTS_WITHIN", GRANTS_WITHIN),
        ("INSERT_EDGE", INSERT_EDGE),
        ("DELETE_EDGE", DELETE_EDGE),
        ("PRINCIPAL_ID", PRINCIPAL_ID),
        ("REACH_OF_NAME", REACH_OF_NAME),
        ("REACH_OF_ID", REACH_OF_ID),
        ("REACH_INSERT_EDGE", REACH_INSERT_EDGE),
        ("REACH_STARTS_OF", REACH_STARTS_OF),
        ("REACH_CLEAR", REACH_CLEAR),
        ("REACH_REBUILD", REACH_REBUILD),
        ("REACH_UPDATE_ROLE", REACH_UPDATE_ROLE),
        ("INSERT_FENCE", INSERT_FENCE),
        ("DELETE_FENCE", DELETE_FENCE),
        ("FENCES_ALL", FENCES_ALL),
        ("FENCES_WITHIN", FENCES_WITHIN),
        ("APPEND_CHANGE", APPEND_CHANGE),
        ("CHANGES", CHANGES),
        ("CHANGES_BY", CHANGES_BY),
        ("NOTE", NOTE),
        ("UNNOTE", UNNOTE),
        ("NOTED_AFTER", NOTED_AFTER),
        ("NOTES_FROM", NOTES_FROM),
        ("PRUNE_NOTES", PRUNE_NOTES),
        ("SET_NOTES_FROM", SET_NOTES_FROM),
        ("FORGET_NOTES_OF", FORGET_NOTES_OF),
        ("GRANT_AT", GRANT_AT),
        ("GRANTS_BELOW", GRANTS_BELOW),
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
    .into_iter()
    .map(|(name, sql)| (name.to_owned(), sql.to_owned()))
    .collect();
    for n in [1, 2, 8, CHUNK] {
        out.push((format!("members_of({n})"), members_of(n).to_owned()));
        out.push((
            format!("grants_on_capped({n})"),
            grants_on_capped(n).to_owned(),
        ));
        out.push((format!("fences_at({n})"), fences_at(n).to_owned()));
        out.push((format!("grant_below({n})"), grant_below(n).to_owned()));
        for u in [1, 4, CHUNK] {
            out.push((format!("grants_at({n}, {u})"), grants_at(n, u).to_owned()));
        }
    }
    out
}
