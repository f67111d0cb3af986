//! [`AnyStore`]: the durable store an `acl` service runs on, chosen at start by the
//! database's address: a SQLite file, or a PostgreSQL database (`postgres://...`) that
//! several servers share (DESIGN section 12).
//!
//! It is one engine type for both (`Platform<AnyStore>`), so every command of the CLI and
//! every handler of the server work on either: each call is forwarded to the backend's
//! own view or transaction by one `match`, and nothing else is added.

use acl_core::{
    Change, ChangeEntry, ClusterName, Edge, Fence, Grant, PrincipalName, PrincipalRecord, ReadView,
    Result, Revision, RoleGraph, RowKey, Store, Uri, WriteTxn,
};
use acl_platform::{
    AccessKey, Account, AccountKey, Folder, FolderId, GroupInfo, Invitation, InvitationId,
    InvitationKey, Keypair, PlatformTxn, PlatformView, PolicyName, ResourcePolicy, Session,
    SessionId, Share, Vm, VmId,
};
use acl_postgres::{PgRead, PgStore, PgWrite};
use acl_sqlite::{SqliteRead, SqliteStore, SqliteWrite};

/// Whether `db` names a PostgreSQL database (a `postgres://` or `postgresql://` URL)
/// rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    let lower = db.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The store of a service: SQLite or PostgreSQL.
#[derive(Debug)]
pub enum AnyStore {
    /// A SQLite file, owned by this machine.
    Sqlite(SqliteStore),
    /// A PostgreSQL database, which other engines may share.
    Postgres(PgStore),
}

impl From<SqliteStore> for AnyStore {
    fn from(store: SqliteStore) -> Self {
        AnyStore::Sqlite(store)
    }
}

impl From<PgStore> for AnyStore {
    fn from(store: PgStore) -> Self {
        AnyStore::Postgres(store)
    }
}

impl AnyStore {
    /// Opens the store `db` names: a PostgreSQL URL ([`is_postgres_url`]) or else the path
    /// of a SQLite file (created if missing), migrated to the current schema.
    pub fn open(db: &str) -> Result<AnyStore> {
        if is_postgres_url(db) {
            PgStore::open(db).map(AnyStore::Postgres)
        } else {
            SqliteStore::open(db).map(AnyStore::Sqlite)
        }
    }

    /// What the store is on, for messages: the file's path, or the server and database
    /// without any password.
    pub fn describe(&self) -> String {
        match self {
            AnyStore::Sqlite(store) => store.path().display().to_string(),
            AnyStore::Postgres(store) => store.target().to_owned(),
        }
    }
}

/// A read view of an [`AnyStore`].
pub enum AnyRead<'a> {
    /// On SQLite.
    Sqlite(SqliteRead<'a>),
    /// On PostgreSQL (boxed: a pooled connection is large).
    Postgres(Box<PgRead<'a>>),
}

/// A write transaction of an [`AnyStore`].
pub enum AnyWrite<'a> {
    /// On SQLite.
    Sqlite(SqliteWrite<'a>),
    /// On PostgreSQL (boxed: a pooled connection is large).
    Postgres(Box<PgWrite<'a>>),
}

impl Store for AnyStore {
    type Read<'a> = AnyRead<'a>;
    type Write<'a> = AnyWrite<'a>;

    fn read(&self) -> Result<AnyRead<'_>> {
        match self {
            AnyStore::Sqlite(s) => s.read().map(AnyRead::Sqlite),
            AnyStore::Postgres(s) => s.read().map(|v| AnyRead::Postgres(Box::new(v))),
        }
    }

    fn write(&self) -> Result<AnyWrite<'_>> {
        match self {
            AnyStore::Sqlite(s) => s.write().map(AnyWrite::Sqlite),
            AnyStore::Postgres(s) => s.write().map(|w| AnyWrite::Postgres(Box::new(w))),
        }
    }
}

/// Forwards each listed method to the backend's value.
macro_rules! forward {
    ($enum:ident; $(fn $name:ident(&$self_:ident $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        $(
            fn $name(&self $(, $arg: $ty)*) -> $ret {
                match self {
                    $enum::Sqlite(v) => v.$name($($arg),*),
                    $enum::Postgres(v) => v.$name($($arg),*),
                }
            }
        )*
    };
    (mut $enum:ident; $(fn $name:ident(&mut $self_:ident $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        $(
            fn $name(&mut self $(, $arg: $ty)*) -> $ret {
                match self {
                    $enum::Sqlite(v) => v.$name($($arg),*),
                    $enum::Postgres(v) => v.$name($($arg),*),
                }
            }
        )*
    };
}

/// [`ReadView`] and [`PlatformView`] for a view enum, by forwarding.
macro_rules! views {
    ($enum:ident) => {
        impl ReadView for $enum<'_> {
            fn index(&self) -> Option<&acl_core::Index> {
                match self {
                    $enum::Sqlite(v) => v.index(),
                    $enum::Postgres(v) => v.index(),
                }
            }

            forward! { $enum;
                fn revision(&self) -> Result<Revision>;
                fn cluster(&self) -> Result<Option<ClusterName>>;
                fn principal(&self, name: &PrincipalName) -> Result<Option<PrincipalRecord>>;
                fn principals(&self, after: Option<&PrincipalName>, limit: usize)
                    -> Result<Vec<PrincipalRecord>>;
                fn reachable_graph(&self, start: &PrincipalName) -> Result<RoleGraph>;
                fn members_of(&self, roles: &[PrincipalName])
                    -> Result<Vec<(PrincipalName, PrincipalRecord)>>;
                fn grants_at(&self, holders: &[PrincipalName], uris: &[Uri]) -> Result<Vec<Grant>>;
                fn grants_on_pairs(&self, pairs: &[(PrincipalName, Uri)]) -> Result<Vec<Grant>>;
                fn grant_below(&self, holders: &[PrincipalName], uri: &Uri) -> Result<Option<Grant>>;
                fn grants_of(&self, holder: &PrincipalName, within: Option<&Uri>,
                    after: Option<&Uri>, limit: usize) -> Result<Vec<Grant>>;
                fn grants_within(&self, within: &Uri, after: Option<(&Uri, &PrincipalName)>,
                    limit: usize) -> Result<Vec<Grant>>;
                fn fences_at(&self, uris: &[Uri]) -> Result<Vec<Fence>>;
                fn fences(&self, within: Option<&Uri>, after: Option<&Fence>, limit: usize)
                    -> Result<Vec<Fence>>;
                fn changed_rows(&self, after: Revision) -> Result<Option<Vec<RowKey>>>;
                fn changes(&self, after: Revision, actor: Option<&PrincipalName>, limit: usize)
                    -> Result<Vec<ChangeEntry>>;
            }
        }

        impl PlatformView for $enum<'_> {
            forward! { $enum;
                fn folder(&self, id: &FolderId) -> Result<Option<Folder>>;
                fn folders_of(&self, owner: &PrincipalName) -> Result<Vec<Folder>>;
                fn shares_of_folder(&self, folder: &FolderId) -> Result<Vec<Share>>;
                fn shares_of_user(&self, user: &PrincipalName) -> Result<Vec<Share>>;
                fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>>;
                fn invitations(&self, key: &InvitationKey) -> Result<Vec<Invitation>>;
                fn vm(&self, id: &VmId) -> Result<Option<Vm>>;
                fn vms_of(&self, team: &PrincipalName) -> Result<Vec<Vm>>;
                fn account(&self, user: &PrincipalName) -> Result<Option<Account>>;
                fn account_by(&self, key: &AccountKey) -> Result<Option<Account>>;
                fn accounts(&self, after: Option<&PrincipalName>, limit: usize) -> Result<Vec<Account>>;
                fn accounts_of_policy(&self, policy: &PolicyName, limit: usize)
                    -> Result<Vec<PrincipalName>>;
                fn keypair(&self, key: &AccessKey) -> Result<Option<Keypair>>;
                fn keypairs_of(&self, user: &PrincipalName) -> Result<Vec<Keypair>>;
                fn keypairs(&self, after: Option<&AccessKey>, limit: usize) -> Result<Vec<Keypair>>;
                fn keypairs_of_policy(&self, policy: &PolicyName, limit: usize)
                    -> Result<Vec<AccessKey>>;
                fn policy(&self, name: &PolicyName) -> Result<Option<ResourcePolicy>>;
                fn policies(&self) -> Result<Vec<ResourcePolicy>>;
                fn session(&self, id: &SessionId) -> Result<Option<Session>>;
                fn sessions_of(&self, user: &PrincipalName) -> Result<Vec<Session>>;
                fn sessions(&self, after: Option<&SessionId>, limit: usize) -> Result<Vec<Session>>;
                fn group_info(&self, name: &PrincipalName) -> Result<Option<GroupInfo>>;
            }
        }
    };
}

views!(AnyRead);
views!(AnyWrite);

impl WriteTxn for AnyWrite<'_> {
    forward! { mut AnyWrite;
        fn set_cluster(&mut self, cluster: &ClusterName) -> Result<()>;
        fn insert_principal(&mut self, record: &PrincipalRecord) -> Result<()>;
        fn update_principal(&mut self, record: &PrincipalRecord) -> Result<()>;
        fn delete_principal(&mut self, name: &PrincipalName) -> Result<()>;
        fn put_grant(&mut self, grant: &Grant) -> Result<()>;
        fn delete_grant(&mut self, holder: &PrincipalName, uri: &Uri) -> Result<bool>;
        fn set_edge(&mut self, edge: &Edge, present: bool) -> Result<bool>;
        fn set_fence(&mut self, fence: &Fence, present: bool) -> Result<bool>;
    }

    fn commit(self, change: Change) -> Result<Revision> {
        match self {
            AnyWrite::Sqlite(w) => w.commit(change),
            AnyWrite::Postgres(w) => (*w).commit(change),
        }
    }

    fn commit_history(self, history: &[ChangeEntry]) -> Result<Revision> {
        match self {
            AnyWrite::Sqlite(w) => w.commit_history(history),
            AnyWrite::Postgres(w) => (*w).commit_history(history),
        }
    }
}

impl PlatformTxn for AnyWrite<'_> {
    forward! { mut AnyWrite;
        fn put_folder(&mut self, folder: &Folder) -> Result<()>;
        fn put_share(&mut self, share: &Share) -> Result<()>;
        fn delete_share(&mut self, folder: &FolderId, user: &PrincipalName) -> Result<bool>;
        fn put_invitation(&mut self, invitation: &Invitation) -> Result<()>;
        fn put_vm(&mut self, vm: &Vm) -> Result<()>;
        fn put_account(&mut self, account: &Account) -> Result<()>;
        fn put_keypair(&mut self, keypair: &Keypair) -> Result<()>;
        fn put_policy(&mut self, policy: &ResourcePolicy) -> Result<()>;
        fn delete_policy(&mut self, name: &PolicyName) -> Result<bool>;
        fn put_session(&mut self, session: &Session) -> Result<()>;
        fn put_group_info(&mut self, info: &GroupInfo) -> Result<()>;
        fn delete_group_info(&mut self, name: &PrincipalName) -> Result<bool>;
    }
}
