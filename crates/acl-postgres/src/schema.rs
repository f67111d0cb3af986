//! The schema and its migrations.
//!
//! The schema is the result of applying [`MIGRATIONS`] in order to an empty PostgreSQL
//! schema (the connection's `current_schema()`, `public` unless the URL's `options` set a
//! `search_path`). The one-row table `acl_schema` records which application the tables
//! belong to (`acl`) and how many steps they have had. Opening applies the missing steps
//! and the new version in one transaction (PostgreSQL's DDL is transactional): a crash
//! mid-migration leaves the database at its old version, never half-migrated. Processes
//! that open the same database at once take turns on the row lock of `acl_schema`.
//!
//! Refused, and left untouched: a schema whose version is newer than this build knows, one
//! whose `acl_schema` names another application, and one with tables but no `acl_schema`.
//!
//! A released step is never edited: later issues append steps.
//!
//! Every text key is `COLLATE "C"`: it compares by bytes, the order the Store contract's
//! "in order" answers need, whatever the database's locale. Kinds and levels are
//! `SMALLINT` ranks under CHECK constraints; flags are `BOOLEAN`; times and revisions
//! `BIGINT`. Every statement is SQL that CockroachDB and YugabyteDB accept (rule D4).

use postgres::Client;

use crate::error::{PgError, sqlstate};

/// The application name recorded in `acl_schema`.
pub const APPLICATION: &str = "acl";

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
        summary: "tables for meta, principals, grants, edges, fences, the changelog and the \
                  changed-row notes",
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
        summary: "keypairs keep their secret sealed with the master key, for request signing",
        sql: V4,
    },
];

/// The schema version this build writes: the number of migration steps.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Step 1: the kernel's rows. `meta` is the one revision row every write transaction
/// advances (rule D2); `changed` the key of every kernel row each commit wrote
/// (`ReadView::changed_rows`, rule D3: 0 cluster, 1 principal, 2 edge, 3 grant, 4
/// fence), as acl-sqlite's step 8, kept for the last 1,000 revisions (`meta.notes_from`). `changelog.actor` is not a
/// foreign key: the audit trail outlives what it names.
const V1: &str = r#"
CREATE TABLE meta (
    id         SMALLINT PRIMARY KEY CHECK (id = 1),
    revision   BIGINT NOT NULL CHECK (revision >= 0),
    cluster    TEXT COLLATE "C" CHECK (cluster IS NULL OR length(cluster) BETWEEN 1 AND 255),
    notes_from BIGINT NOT NULL DEFAULT 0 CHECK (notes_from >= 0)
);
INSERT INTO meta (id, revision, cluster) VALUES (1, 0, NULL);

CREATE TABLE principals (
    name   TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 255),
    kind   SMALLINT NOT NULL CHECK (kind BETWEEN 0 AND 2),
    active BOOLEAN NOT NULL
);

CREATE TABLE grants (
    holder TEXT COLLATE "C" NOT NULL REFERENCES principals (name),
    uri    TEXT COLLATE "C" NOT NULL CHECK (length(uri) BETWEEN 1 AND 2048),
    level  SMALLINT NOT NULL CHECK (level BETWEEN 0 AND 4),
    PRIMARY KEY (holder, uri)
);
CREATE INDEX grants_by_uri ON grants (uri, holder, level);

CREATE TABLE edges (
    member TEXT COLLATE "C" NOT NULL REFERENCES principals (name),
    role   TEXT COLLATE "C" NOT NULL REFERENCES principals (name),
    PRIMARY KEY (member, role)
);
CREATE INDEX edges_by_role ON edges (role, member);

CREATE TABLE fences (
    uri TEXT COLLATE "C" NOT NULL CHECK (length(uri) BETWEEN 1 AND 2048),
    grp TEXT COLLATE "C" NOT NULL REFERENCES principals (name),
    PRIMARY KEY (uri, grp)
);
CREATE INDEX fences_by_group ON fences (grp, uri);

CREATE TABLE changelog (
    revision BIGINT PRIMARY KEY CHECK (revision >= 1),
    at       BIGINT NOT NULL,
    actor    TEXT COLLATE "C",
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX changelog_by_actor ON changelog (actor, revision);

CREATE TABLE changed (
    revision BIGINT NOT NULL CHECK (revision >= 1),
    kind     SMALLINT NOT NULL CHECK (kind BETWEEN 0 AND 4),
    a        TEXT COLLATE "C" NOT NULL,
    b        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (revision, kind, a, b)
);
"#;

/// Step 2 (rules F1 to F9, V1): folders, shares, invitations and VMs, their enums as text
/// under CHECK constraints; at most one active folder per (owner, name) and one pending
/// invitation per (folder, invitee) (partial unique indexes).
const V2: &str = r#"
CREATE TABLE folders (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    name             TEXT COLLATE "C" NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    owner            TEXT COLLATE "C" NOT NULL REFERENCES principals (name),
    kind             TEXT NOT NULL CHECK (kind IN ('user', 'group')),
    host             TEXT NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
    status           TEXT NOT NULL CHECK (status IN ('active', 'deleted')),
    group_permission TEXT CHECK (group_permission IN ('ro', 'rw')),
    CHECK ((kind = 'group') = (group_permission IS NOT NULL))
);
CREATE INDEX folders_by_owner ON folders (owner, id);
CREATE UNIQUE INDEX folders_active_name ON folders (owner, name) WHERE status = 'active';

CREATE TABLE shares (
    folder     TEXT COLLATE "C" NOT NULL REFERENCES folders (id),
    sharee     TEXT COLLATE "C" NOT NULL REFERENCES principals (name),
    permission TEXT NOT NULL CHECK (permission IN ('ro', 'rw')),
    PRIMARY KEY (folder, sharee)
);
CREATE INDEX shares_by_sharee ON shares (sharee, folder, permission);

CREATE TABLE invitations (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    folder     TEXT COLLATE "C" NOT NULL REFERENCES folders (id),
    inviter    TEXT COLLATE "C" NOT NULL REFERENCES principals (name),
    invitee    TEXT COLLATE "C" NOT NULL REFERENCES principals (name),
    permission TEXT NOT NULL CHECK (permission IN ('ro', 'rw')),
    state      TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected', 'canceled')),
    created    BIGINT NOT NULL
);
CREATE INDEX invitations_by_invitee ON invitations (invitee, id);
CREATE INDEX invitations_by_inviter ON invitations (inviter, id);
CREATE INDEX invitations_by_folder ON invitations (folder, id);
CREATE UNIQUE INDEX invitations_one_pending ON invitations (folder, invitee)
    WHERE state = 'pending';

CREATE TABLE vms (
    id    TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    name  TEXT COLLATE "C" NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    team  TEXT COLLATE "C" NOT NULL REFERENCES principals (name),
    owner TEXT COLLATE "C" NOT NULL REFERENCES principals (name)
);
CREATE INDEX vms_by_team ON vms (team, id);
CREATE INDEX vms_by_owner ON vms (owner);
"#;

/// Step 3 (rules A1 to A6): resource policies, accounts, keypairs, the session ledger and
/// group attributes. A limit is NULL when unlimited, else within its maximum; a policy's
/// hosts are NULL for any host, else the allowed hosts joined by newlines. Emails and
/// usernames are unique by their ASCII-lowercase keys. Hashes are argon2id PHC strings.
const V3: &str = r#"
CREATE TABLE policies (
    name                   TEXT COLLATE "C" NOT NULL PRIMARY KEY
                           CHECK (length(name) BETWEEN 1 AND 64),
    cpu                    BIGINT CHECK (cpu BETWEEN 0 AND 512),
    ram_gb                 BIGINT CHECK (ram_gb BETWEEN 0 AND 1024),
    gpu                    BIGINT CHECK (gpu BETWEEN 0 AND 64),
    fgpu_hundredths        BIGINT CHECK (fgpu_hundredths BETWEEN 0 AND 25600),
    containers_per_session BIGINT CHECK (containers_per_session BETWEEN 0 AND 100),
    idle_timeout_secs      BIGINT CHECK (idle_timeout_secs BETWEEN 0 AND 15552000),
    concurrent_sessions    BIGINT CHECK (concurrent_sessions BETWEEN 0 AND 100),
    folder_capacity_gb     BIGINT CHECK (folder_capacity_gb BETWEEN 0 AND 1024),
    folders                BIGINT CHECK (folders BETWEEN 0 AND 50),
    hosts                  TEXT
);

CREATE TABLE accounts (
    username             TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES principals (name),
    username_key         TEXT COLLATE "C" NOT NULL UNIQUE CHECK (username_key = lower(username)),
    email                TEXT COLLATE "C" NOT NULL CHECK (length(email) BETWEEN 3 AND 64),
    email_key            TEXT COLLATE "C" NOT NULL UNIQUE CHECK (email_key = lower(email)),
    full_name            TEXT NOT NULL CHECK (length(full_name) <= 64),
    password             TEXT NOT NULL CHECK (password LIKE '$argon2id$%'),
    role                 TEXT NOT NULL CHECK (role IN ('superadmin', 'admin', 'user', 'monitor')),
    status               TEXT NOT NULL
                         CHECK (status IN ('active', 'inactive', 'before-verification')),
    need_password_change BOOLEAN NOT NULL,
    domain               TEXT NOT NULL CHECK (length(domain) BETWEEN 1 AND 64),
    policy               TEXT COLLATE "C" NOT NULL REFERENCES policies (name),
    created              BIGINT NOT NULL
);
CREATE INDEX accounts_by_policy ON accounts (policy, username);

CREATE TABLE keypairs (
    access_key TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(access_key) BETWEEN 4 AND 64),
    username   TEXT COLLATE "C" NOT NULL REFERENCES principals (name),
    secret     TEXT NOT NULL CHECK (secret LIKE '$argon2id$%'),
    active     BOOLEAN NOT NULL,
    policy     TEXT COLLATE "C" NOT NULL REFERENCES policies (name),
    created    BIGINT NOT NULL
);
CREATE INDEX keypairs_by_user ON keypairs (username, access_key);
CREATE INDEX keypairs_by_policy ON keypairs (policy, access_key);

CREATE TABLE sessions (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    username        TEXT COLLATE "C" NOT NULL REFERENCES principals (name),
    cpu             BIGINT NOT NULL CHECK (cpu >= 0),
    ram_gb          BIGINT NOT NULL CHECK (ram_gb >= 0),
    gpu             BIGINT NOT NULL CHECK (gpu >= 0),
    fgpu_hundredths BIGINT NOT NULL CHECK (fgpu_hundredths >= 0),
    containers      BIGINT NOT NULL CHECK (containers >= 1),
    started         BIGINT NOT NULL,
    stopped         BIGINT CHECK (stopped IS NULL OR stopped >= started)
);
CREATE INDEX sessions_by_user ON sessions (username, id);

CREATE TABLE group_info (
    name    TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES principals (name),
    domain  TEXT NOT NULL CHECK (length(domain) BETWEEN 1 AND 64),
    created BIGINT NOT NULL
);
"#;

/// Step 4 (rule B1), as acl-sqlite's step 9: a keypair's secret sealed with the master
/// key, NULL for keypairs made without one.
const V4: &str = r#"
ALTER TABLE keypairs ADD COLUMN sealed TEXT CHECK (sealed IS NULL OR sealed LIKE 'xc20p1:%');
"#;

/// The table that records the schema's application and version.
const CREATE_VERSION_TABLE: &str = r#"
CREATE TABLE acl_schema (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    application TEXT NOT NULL,
    version     BIGINT NOT NULL CHECK (version >= 0)
);
INSERT INTO acl_schema (id, application, version) VALUES (1, 'acl', 0);
"#;

/// How many times a migration that lost a race with another process's is tried again.
const TRIES: u32 = 5;

/// Brings the database on `client` to the version of `steps` (normally [`MIGRATIONS`]),
/// in one transaction, retried when another process migrating at the same time made it
/// fail (a duplicate table or a serialization failure).
pub(crate) fn migrate(client: &mut Client, steps: &[Migration]) -> Result<(), PgError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        client
            .batch_execute("BEGIN")
            .map_err(PgError::query("starting the migration transaction"))?;
        let outcome = migrate_in_txn(client, steps);
        let end = if outcome.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = client
            .batch_execute(end)
            .map_err(PgError::query("ending the migration transaction"));
        match outcome.and(ended) {
            Err(e) if attempt < TRIES && e.is_race() => {
                std::thread::sleep(std::time::Duration::from_millis(20 * u64::from(attempt)));
            }
            other => return other,
        }
    }
}

fn migrate_in_txn(client: &mut Client, steps: &[Migration]) -> Result<(), PgError> {
    let target = i64::try_from(steps.len()).unwrap_or(i64::MAX);
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY table_name",
            &[],
        )
        .map_err(PgError::query("reading the schema"))?
        .iter()
        .map(|row| row.try_get::<_, String>(0))
        .collect::<Result<_, _>>()
        .map_err(PgError::query("reading the schema"))?;
    if !tables.iter().any(|t| t == "acl_schema") {
        if !tables.is_empty() {
            return Err(PgError::Schema(format!(
                "not an acl database: its schema has {} tables (`{}`...) but no `acl_schema` \
                 table",
                tables.len(),
                tables.first().map(String::as_str).unwrap_or_default()
            )));
        }
        client
            .batch_execute(CREATE_VERSION_TABLE)
            .map_err(PgError::query("creating the schema version table"))?;
    }
    let row = client
        .query_opt(
            "SELECT application, version FROM acl_schema WHERE id = 1 FOR UPDATE",
            &[],
        )
        .map_err(PgError::query("reading the schema version"))?
        .ok_or_else(|| PgError::Schema("the `acl_schema` row is missing".to_owned()))?;
    let application: String = row
        .try_get(0)
        .map_err(PgError::query("reading the schema version"))?;
    let version: i64 = row
        .try_get(1)
        .map_err(PgError::query("reading the schema version"))?;
    if application != APPLICATION {
        return Err(PgError::Schema(format!(
            "not an acl database: `acl_schema` names the application `{application}`"
        )));
    }
    if version > target {
        return Err(PgError::Schema(format!(
            "the database has schema version {version}, newer than the {target} this build of \
             acl-postgres knows: open it with a newer acl (refusing to downgrade)"
        )));
    }
    let start = usize::try_from(version).unwrap_or(usize::MAX);
    for (index, step) in steps.iter().enumerate().skip(start) {
        client
            .batch_execute(step.sql)
            .map_err(|e| PgError::Migration {
                step: index + 1,
                summary: step.summary,
                source: e,
            })?;
    }
    if version < target {
        client
            .execute(
                "UPDATE acl_schema SET version = $1 WHERE id = 1",
                &[&target],
            )
            .map_err(PgError::query("recording the schema version"))?;
    }
    Ok(())
}

/// The SQLSTATEs a migration racing another one can fail with.
pub(crate) fn is_race_state(code: &str) -> bool {
    matches!(
        code,
        sqlstate::SERIALIZATION_FAILURE
            | sqlstate::DEADLOCK
            | sqlstate::UNIQUE_VIOLATION
            | sqlstate::DUPLICATE_TABLE
    )
}
