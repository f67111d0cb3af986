//! The schema and its migrations.
//!
//! The schema is the result of applying [`MIGRATIONS`] in order to an empty database. A
//! database records how many steps it has had in `PRAGMA user_version`, so the version of
//! a database is the number of steps applied. Opening a database applies the missing steps
//! in one `BEGIN IMMEDIATE` transaction, together with the new `user_version`: a crash
//! mid-migration leaves the database at its old version, never half-migrated.
//!
//! A released step is never edited: later issues append steps (the migration test keeps
//! a frozen copy of step 1 and fails if it changes).

use rusqlite::Connection;

use acl_core::{Error, Result};

use crate::sql::db_err;

/// Marks a database as an acl store (`PRAGMA application_id`): ASCII `acl1`. Opening a
/// database with another non-zero application id fails.
pub const APPLICATION_ID: i32 = 0x6163_6C31;

/// One migration step: its SQL, run as one batch inside the migration transaction.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// What the step does, for error messages.
    pub summary: &'static str,
    /// The SQL of the step.
    pub sql: &'static str,
}

/// Every migration step, oldest first. The schema version of a database is the number of
/// steps applied to it.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        summary: "tables for meta, principals, grants, edges, fences and the changelog",
        sql: V1,
    },
    Migration {
        summary: "tables for folders, shares, invitations and vms",
        sql: V2,
    },
    Migration {
        summary: "tables for resource policies, accounts, keypairs, sessions and group attributes",
        sql: V3,
    },
    Migration {
        summary: "integer principal ids, and membership edges keyed by them",
        sql: V4,
    },
    Migration {
        summary: "the edges reachable from each principal, for one-range closure reads",
        sql: V5,
    },
    Migration {
        summary: "each reach row carries its role's name, kind and active flag",
        sql: V6,
    },
    Migration {
        summary: "the principals each commit noted, for caches that survive writes",
        sql: V7,
    },
    Migration {
        summary: "every kernel row each commit wrote, pruned, for caches and follower indexes",
        sql: V8,
    },
    Migration {
        summary: "keypairs keep their secret sealed with the master key, for request signing",
        sql: V9,
    },
];

/// The schema version this build writes (`PRAGMA user_version`): the number of migration
/// steps. Opening a database with a higher version fails.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Step 1. Every table is STRICT (a value of the wrong type is refused) and every key
/// table is WITHOUT ROWID (the primary key is the storage order, so a key lookup is one
/// B-tree search). TEXT keys compare with the BINARY collation (memcmp), the byte order
/// the Store contract's "in order" results need.
const V1: &str = "
CREATE TABLE meta (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL CHECK (revision >= 0),
    cluster  TEXT CHECK (cluster IS NULL OR length(cluster) BETWEEN 1 AND 255)
) STRICT;
INSERT INTO meta (id, revision, cluster) VALUES (1, 0, NULL);

CREATE TABLE principals (
    name   TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 255),
    kind   INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 2),
    active INTEGER NOT NULL CHECK (active IN (0, 1))
) STRICT, WITHOUT ROWID;

CREATE TABLE grants (
    holder TEXT NOT NULL REFERENCES principals (name),
    uri    TEXT NOT NULL CHECK (length(uri) BETWEEN 1 AND 2048),
    level  INTEGER NOT NULL CHECK (level BETWEEN 0 AND 4),
    PRIMARY KEY (holder, uri)
) STRICT, WITHOUT ROWID;
CREATE INDEX grants_by_uri ON grants (uri, holder, level);

CREATE TABLE edges (
    member TEXT NOT NULL REFERENCES principals (name),
    role   TEXT NOT NULL REFERENCES principals (name),
    PRIMARY KEY (member, role)
) STRICT, WITHOUT ROWID;
CREATE INDEX edges_by_role ON edges (role, member);

CREATE TABLE fences (
    uri TEXT NOT NULL CHECK (length(uri) BETWEEN 1 AND 2048),
    grp TEXT NOT NULL REFERENCES principals (name),
    PRIMARY KEY (uri, grp)
) STRICT, WITHOUT ROWID;
CREATE INDEX fences_by_group ON fences (grp, uri);

CREATE TABLE changelog (
    revision INTEGER PRIMARY KEY CHECK (revision >= 1),
    at       INTEGER NOT NULL,
    actor    TEXT,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    detail   TEXT NOT NULL
) STRICT;
CREATE INDEX changelog_by_actor ON changelog (actor, revision);
";

/// Step 2 (rules F1 to F9, V1): folders, shares, invitations and VMs. Enums are kept as
/// their text forms under CHECK constraints; at most one active folder per (owner, name),
/// one share per (folder, sharee) and one pending invitation per (folder, invitee). Every
/// lookup of the Store contract is an index search.
const V2: &str = "
CREATE TABLE folders (
    id               TEXT NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    name             TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    owner            TEXT NOT NULL REFERENCES principals (name),
    kind             TEXT NOT NULL CHECK (kind IN ('user', 'group')),
    host             TEXT NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
    status           TEXT NOT NULL CHECK (status IN ('active', 'deleted')),
    group_permission TEXT CHECK (group_permission IN ('ro', 'rw')),
    CHECK ((kind = 'group') = (group_permission IS NOT NULL))
) STRICT, WITHOUT ROWID;
CREATE INDEX folders_by_owner ON folders (owner, id);
CREATE UNIQUE INDEX folders_active_name ON folders (owner, name) WHERE status = 'active';

CREATE TABLE shares (
    folder     TEXT NOT NULL REFERENCES folders (id),
    sharee     TEXT NOT NULL REFERENCES principals (name),
    permission TEXT NOT NULL CHECK (permission IN ('ro', 'rw')),
    PRIMARY KEY (folder, sharee)
) STRICT, WITHOUT ROWID;
CREATE INDEX shares_by_sharee ON shares (sharee, folder, permission);

CREATE TABLE invitations (
    id         TEXT NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    folder     TEXT NOT NULL REFERENCES folders (id),
    inviter    TEXT NOT NULL REFERENCES principals (name),
    invitee    TEXT NOT NULL REFERENCES principals (name),
    permission TEXT NOT NULL CHECK (permission IN ('ro', 'rw')),
    state      TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected', 'canceled')),
    created    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX invitations_by_invitee ON invitations (invitee, id);
CREATE INDEX invitations_by_inviter ON invitations (inviter, id);
CREATE INDEX invitations_by_folder ON invitations (folder, id);
CREATE UNIQUE INDEX invitations_one_pending ON invitations (folder, invitee)
    WHERE state = 'pending';

CREATE TABLE vms (
    id    TEXT NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    name  TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    team  TEXT NOT NULL REFERENCES principals (name),
    owner TEXT NOT NULL REFERENCES principals (name)
) STRICT, WITHOUT ROWID;
CREATE INDEX vms_by_team ON vms (team, id);
CREATE INDEX vms_by_owner ON vms (owner);
";

/// Step 3 (rules A1 to A6): resource policies, accounts, keypairs, the session ledger and
/// group attributes. A limit is NULL when unlimited, else within its maximum (CHECK); a
/// policy's hosts are NULL for any host, else the allowed hosts joined by newlines. Emails
/// and usernames are unique by their lowercase keys. An initialized database gets the
/// `default` policy, as init gives a new one.
const V3: &str = "
CREATE TABLE policies (
    name                   TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
    cpu                    INTEGER CHECK (cpu BETWEEN 0 AND 512),
    ram_gb                 INTEGER CHECK (ram_gb BETWEEN 0 AND 1024),
    gpu                    INTEGER CHECK (gpu BETWEEN 0 AND 64),
    fgpu_hundredths        INTEGER CHECK (fgpu_hundredths BETWEEN 0 AND 25600),
    containers_per_session INTEGER CHECK (containers_per_session BETWEEN 0 AND 100),
    idle_timeout_secs      INTEGER CHECK (idle_timeout_secs BETWEEN 0 AND 15552000),
    concurrent_sessions    INTEGER CHECK (concurrent_sessions BETWEEN 0 AND 100),
    folder_capacity_gb     INTEGER CHECK (folder_capacity_gb BETWEEN 0 AND 1024),
    folders                INTEGER CHECK (folders BETWEEN 0 AND 50),
    hosts                  TEXT
) STRICT, WITHOUT ROWID;
INSERT INTO policies (name) SELECT 'default' FROM meta WHERE id = 1 AND cluster IS NOT NULL;

CREATE TABLE accounts (
    username             TEXT NOT NULL PRIMARY KEY REFERENCES principals (name),
    username_key         TEXT NOT NULL UNIQUE CHECK (username_key = lower(username)),
    email                TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 64),
    email_key            TEXT NOT NULL UNIQUE CHECK (email_key = lower(email)),
    full_name            TEXT NOT NULL CHECK (length(full_name) <= 64),
    password             TEXT NOT NULL CHECK (password LIKE '$argon2id$%'),
    role                 TEXT NOT NULL CHECK (role IN ('superadmin', 'admin', 'user', 'monitor')),
    status               TEXT NOT NULL
                         CHECK (status IN ('active', 'inactive', 'before-verification')),
    need_password_change INTEGER NOT NULL CHECK (need_password_change IN (0, 1)),
    domain               TEXT NOT NULL CHECK (length(domain) BETWEEN 1 AND 64),
    policy               TEXT NOT NULL REFERENCES policies (name),
    created              INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX accounts_by_policy ON accounts (policy, username);

CREATE TABLE keypairs (
    access_key TEXT NOT NULL PRIMARY KEY CHECK (length(access_key) BETWEEN 4 AND 64),
    username   TEXT NOT NULL REFERENCES principals (name),
    secret     TEXT NOT NULL CHECK (secret LIKE '$argon2id$%'),
    active     INTEGER NOT NULL CHECK (active IN (0, 1)),
    policy     TEXT NOT NULL REFERENCES policies (name),
    created    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX keypairs_by_user ON keypairs (username, access_key);
CREATE INDEX keypairs_by_policy ON keypairs (policy, access_key);

CREATE TABLE sessions (
    id              TEXT NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    username        TEXT NOT NULL REFERENCES principals (name),
    cpu             INTEGER NOT NULL CHECK (cpu >= 0),
    ram_gb          INTEGER NOT NULL CHECK (ram_gb >= 0),
    gpu             INTEGER NOT NULL CHECK (gpu >= 0),
    fgpu_hundredths INTEGER NOT NULL CHECK (fgpu_hundredths >= 0),
    containers      INTEGER NOT NULL CHECK (containers >= 1),
    started         INTEGER NOT NULL,
    stopped         INTEGER CHECK (stopped IS NULL OR stopped >= started)
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (username, id);

CREATE TABLE group_info (
    name    TEXT NOT NULL PRIMARY KEY REFERENCES principals (name),
    domain  TEXT NOT NULL CHECK (length(domain) BETWEEN 1 AND 64),
    created INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
";

/// Step 4: principals get INTEGER ids (the rowid: a lookup by id is one B-tree search on an
/// integer key) and the membership edges are keyed by them, so the closure walk of a check
/// compares integers instead of names. Names stay the key every other table references
/// (`UNIQUE`, the parent key of their foreign keys).
///
/// SQLite cannot alter a primary key, so `principals` is rebuilt: its rows are copied
/// aside, the table dropped and created again, and the rows put back in name order. The
/// migration runs with foreign keys enforced, so the step defers them
/// (`defer_foreign_keys`, reset at the end of the transaction): dropping `principals`
/// counts the rows of other tables that lose their parent, putting the rows back finds
/// each parent again, and the commit checks that none is left without one.
const V4: &str = "
CREATE TABLE v4_principals AS SELECT name, kind, active FROM principals;
CREATE TABLE v4_edges AS SELECT member, role FROM edges;
DROP TABLE edges;
PRAGMA defer_foreign_keys = ON;
DROP TABLE principals;

CREATE TABLE principals (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
    kind   INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 2),
    active INTEGER NOT NULL CHECK (active IN (0, 1))
) STRICT;
INSERT INTO principals (name, kind, active)
    SELECT name, kind, active FROM v4_principals ORDER BY name;

CREATE TABLE edges (
    member INTEGER NOT NULL REFERENCES principals (id),
    role   INTEGER NOT NULL REFERENCES principals (id),
    PRIMARY KEY (member, role)
) STRICT, WITHOUT ROWID;
CREATE INDEX edges_by_role ON edges (role, member);
INSERT INTO edges (member, role)
    SELECT m.id, r.id FROM v4_edges AS e
    JOIN principals AS m ON m.name = e.member
    JOIN principals AS r ON r.name = e.role;

DROP TABLE v4_edges;
DROP TABLE v4_principals;
";

/// Step 5: `reach`, the transitive closure of the membership edges kept as a table, so
/// the closure walk of a check (rule P3) is one range scan instead of one statement per
/// layer of the role graph. A row `(start, member, role)` says the edge `member -> role`
/// is reachable from `start`: `member` is `start` or a role `start` reaches. It is an index
/// of `edges`, nothing more: it ignores whether principals are active (the core decides
/// what an inactive user contributes, as with `edges`), and the store rewrites it in the
/// same transaction, and the same savepoint, as every edge it inserts or deletes. A
/// principal's rows go with its edges, which the core removes before the principal.
///
/// `reach_by_role` finds the principals that reach a role (the starts whose rows change
/// when an edge from that role changes). The step fills the table from the edges present.
const V5: &str = "
CREATE TABLE reach (
    start  INTEGER NOT NULL REFERENCES principals (id),
    member INTEGER NOT NULL,
    role   INTEGER NOT NULL REFERENCES principals (id),
    PRIMARY KEY (start, member, role)
) STRICT, WITHOUT ROWID;
CREATE INDEX reach_by_role ON reach (role, start);
INSERT INTO reach (start, member, role)
    WITH RECURSIVE walk (start, id) AS (
        SELECT DISTINCT member, member FROM edges
        UNION
        SELECT walk.start, e.role FROM walk JOIN edges AS e ON e.member = walk.id
    )
    SELECT walk.start, e.member, e.role FROM walk JOIN edges AS e ON e.member = walk.id;
";

/// Step 6: each `reach` row carries its role's record (`role_name`, `role_kind`,
/// `role_active`), so a closure read is one range scan with no lookup of a principal per
/// row (88k -> 75k instructions of a 191k uncached check on the medium workload). The
/// copies are kept by the store in the same savepoint as the write that changes them: the
/// edge writes fill them from `principals`, and updating a principal's kind or active flag
/// updates the rows whose role it is (`reach_by_role`). Names never change, and a
/// principal's rows go with its edges before the principal is removed.
const V6: &str = "
CREATE TABLE reach_v6 (
    start       INTEGER NOT NULL REFERENCES principals (id),
    member      INTEGER NOT NULL,
    role        INTEGER NOT NULL REFERENCES principals (id),
    role_name   TEXT NOT NULL,
    role_kind   INTEGER NOT NULL,
    role_active INTEGER NOT NULL,
    PRIMARY KEY (start, member, role)
) STRICT, WITHOUT ROWID;
INSERT INTO reach_v6 (start, member, role, role_name, role_kind, role_active)
    SELECT r.start, r.member, r.role, p.name, p.kind, p.active
    FROM reach AS r JOIN principals AS p ON p.id = r.role;
DROP TABLE reach;
ALTER TABLE reach_v6 RENAME TO reach;
CREATE INDEX reach_by_role ON reach (role, start);
";

/// Step 7: `noted`, the principals whose record or own membership edges each commit wrote
/// (`ReadView::membership_changes`), written in the same transaction as those rows. An
/// engine's closure cache reads the notes of the commits it has not seen and keeps every
/// closure no noted principal reaches. Kept like the changelog: a row per principal or
/// edge write, none for grants. A database migrated to this step has no notes of earlier
/// commits, which no cache can need: caches live in a process, and opening migrates.
const V7: &str = "
CREATE TABLE noted (
    revision INTEGER NOT NULL CHECK (revision >= 1),
    name     TEXT NOT NULL,
    PRIMARY KEY (revision, name)
) STRICT, WITHOUT ROWID;
";

/// Step 8: `changed` generalises `noted` to every kernel row a commit writes (DESIGN rule
/// D3: `ReadView::changed_rows`, what a follower index re-reads and what the closure
/// caches forget entries by): one row `(revision, kind, a, b)` per row key, kind 0 the
/// cluster (`''`, `''`), 1 a principal (name, `''`), 2 an edge (member, role), 3 a grant
/// (holder, URI), 4 a fence (URI, group). Written in the same savepoint as the row, and
/// pruned: each commit drops the notes of revisions [`crate::sql::NOTES_KEPT_REVISIONS`]
/// back, and a commit writing more than [`crate::NOTES_PER_COMMIT`] rows keeps none. Below
/// `meta.notes_from` the notes may be gone (`changed_rows` answers `None`). The old notes
/// named only principals and edge members, too little for a follower: they are dropped,
/// and the notes start at the revision the file is migrated at.
const V8: &str = "
CREATE TABLE changed (
    revision INTEGER NOT NULL CHECK (revision >= 1),
    kind     INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 4),
    a        TEXT NOT NULL,
    b        TEXT NOT NULL,
    PRIMARY KEY (revision, kind, a, b)
) STRICT, WITHOUT ROWID;
DROP TABLE noted;
ALTER TABLE meta ADD COLUMN notes_from INTEGER NOT NULL DEFAULT 0 CHECK (notes_from >= 0);
UPDATE meta SET notes_from = revision;
";

/// Step 9 (rule B1): a keypair's secret sealed with the master key (`xc20p1:` and hex),
/// what verifying a Backend.AI request signature needs; NULL for keypairs made without a
/// master key, which cannot sign requests.
const V9: &str = "
ALTER TABLE keypairs ADD COLUMN sealed TEXT CHECK (sealed IS NULL OR sealed LIKE 'xc20p1:%');
";

/// Brings the database on `conn` to [`CURRENT_VERSION`] by applying `steps` (normally
/// [`MIGRATIONS`]) after the ones it has, all in one `BEGIN IMMEDIATE` transaction (taken
/// only when there is something to do).
///
/// Refuses, changing nothing, a database from a newer version, a database of another
/// application, and an unversioned database that already has tables.
pub(crate) fn migrate(conn: &Connection, steps: &[Migration]) -> Result<()> {
    // Fast path, without the write lock: an up-to-date database needs nothing, so opening
    // one never waits for another process's long write transaction.
    let target = i64::try_from(steps.len()).unwrap_or(i64::MAX);
    let (version, app_id) = versions(conn)?;
    if version == target && app_id == APPLICATION_ID {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(db_err("starting the migration transaction"))?;
    let outcome = migrate_in_txn(conn, steps);
    let end = if outcome.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    let ended = conn
        .execute_batch(end)
        .map_err(db_err("ending the migration transaction"));
    if ended.is_err() && !conn.is_autocommit() {
        // A failed COMMIT leaves the transaction open: undo it before reporting.
        let _ = conn.execute_batch("ROLLBACK");
    }
    outcome.and(ended)
}

/// `PRAGMA user_version` and `PRAGMA application_id`.
fn versions(conn: &Connection) -> Result<(i64, i32)> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(db_err("reading the schema version"))?;
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(db_err("reading the application id"))?;
    Ok((version, app_id))
}

fn migrate_in_txn(conn: &Connection, steps: &[Migration]) -> Result<()> {
    // Read again under the write lock: another process may have migrated meanwhile.
    let target = i64::try_from(steps.len()).unwrap_or(i64::MAX);
    let (version, app_id) = versions(conn)?;
    if app_id != 0 && app_id != APPLICATION_ID {
        return Err(Error::Storage(format!(
            "not an acl database: application id {app_id:#010x}, expected {APPLICATION_ID:#010x}"
        )));
    }
    if version > target {
        return Err(Error::Storage(format!(
            "the database has schema version {version}, newer than the {target} this build of \
             acl-sqlite knows: open it with a newer acl (refusing to downgrade)"
        )));
    }
    if version < 0 {
        return Err(Error::Storage(format!(
            "the database has an invalid schema version {version}"
        )));
    }
    if version == 0 {
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                [],
                |row| row.get(0),
            )
            .map_err(db_err("reading the schema"))?;
        if tables > 0 {
            return Err(Error::Storage(format!(
                "not an acl database: it has {tables} schema objects but no acl schema version"
            )));
        }
    }
    let start = usize::try_from(version).unwrap_or(usize::MAX);
    for (index, step) in steps.iter().enumerate().skip(start) {
        conn.execute_batch(step.sql).map_err(|e| {
            Error::Storage(format!(
                "migration step {} ({}) failed: {e}",
                index + 1,
                step.summary
            ))
        })?;
    }
    if version < target {
        // PRAGMA takes no bound parameters; `target` is an integer this code computed.
        conn.execute_batch(&format!(
            "PRAGMA user_version = {target}; PRAGMA application_id = {APPLICATION_ID};"
        ))
        .map_err(db_err("recording the schema version"))?;
    }
    Ok(())
}
