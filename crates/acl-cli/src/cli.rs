//! The command line (clap derive). The names and argument orders are the contract of
//! docs/cli.md.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// acl: access control from a shell, on an embedded SQLite file.
#[derive(Debug, Clone, Parser)]
#[command(name = "acl", version, about, long_about = None)]
pub struct Cli {
    /// The database: a SQLite file, or a PostgreSQL URL (`postgres://user:pw@host/db`)
    /// [default: $ACL_DB, else ./acl.db].
    #[arg(long, global = true, env = "ACL_DB", value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// The acting user [default: $ACL_AS, else the admin created by `init`].
    #[arg(long = "as", global = true, env = "ACL_AS", value_name = "PRINCIPAL")]
    pub acting: Option<String>,
    /// A file holding the master key that seals keypair secrets, so they can verify
    /// Backend.AI request signatures: 64 hexadecimal digits, e.g. from
    /// `openssl rand -hex 32` [default: $ACL_MASTER_KEY; give one, not both].
    #[arg(long, global = true, value_name = "PATH")]
    pub master_key_file: Option<PathBuf>,
    /// Print results (and errors, on stderr) as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The database path: `--db`, `$ACL_DB`, else `./acl.db`.
    pub fn db_path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(|| PathBuf::from("acl.db"))
    }

    /// The master key (rule B1): `--master-key-file`, else `$ACL_MASTER_KEY`, else none;
    /// both given, or a bad key, is an error naming where it came from (never the key).
    pub fn master_key(&self) -> crate::error::Result<Option<acl_platform::MasterKey>> {
        crate::ctx::master_key(self.master_key_file.as_deref())
    }

    /// The database as messages name it: the file's path, or the PostgreSQL URL with
    /// every password replaced by `***`.
    pub fn db_shown(&self) -> String {
        shown_db(&self.db_path())
    }
}

/// `db` as messages name it: a PostgreSQL URL without its password, or a file's path.
pub fn shown_db(db: &std::path::Path) -> String {
    let text = db.display().to_string();
    if acl_server::is_postgres_url(&text) {
        acl_postgres::redact(&text)
    } else {
        text
    }
}

/// `--limit N` and `--cursor C` of the listing commands.
#[derive(Debug, Clone, Args)]
pub struct PageArgs {
    /// Print at most N results (every result when left out).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Start after this cursor (printed by the previous page).
    #[arg(long, value_name = "C")]
    pub cursor: Option<String>,
}

/// Every command.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Create and initialize the database: the cluster, its roles and the first admin.
    Init {
        /// The cluster's name.
        #[arg(long, default_value = "default", value_name = "NAME")]
        cluster: String,
        /// The first admin's username.
        #[arg(long, default_value = "admin", value_name = "USERNAME")]
        admin: String,
        /// The superadmin's email: with `--admin-password`, init creates its account.
        #[arg(long, value_name = "EMAIL", requires = "admin_password")]
        admin_email: Option<String>,
        /// The superadmin's password.
        #[arg(long, value_name = "PW", requires = "admin_email")]
        admin_password: Option<String>,
    },
    /// Users: create, update, activate, deactivate, show, list.
    #[command(subcommand)]
    User(UserCommand),
    /// Verify a user's password (by email or username).
    Login {
        /// The user (email or username).
        user: String,
        /// The password.
        #[arg(long, value_name = "P")]
        password: String,
    },
    /// Keypairs: access keys with a secret shown once.
    #[command(subcommand)]
    Keypair(KeypairCommand),
    /// Groups (projects, teams): create, membership, listing.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Roles: named permission sets.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Set PRINCIPAL's direct grant on URI to LEVEL (list|read|write|manage|deny).
    Grant {
        /// The URI (short forms resolve against the acting user).
        uri: String,
        /// The grantee: a user, role or group.
        principal: String,
        /// list, read, write, manage, or deny (a forbid).
        level: String,
    },
    /// Remove PRINCIPAL's direct grant or forbid on exactly URI.
    Revoke {
        /// The URI.
        uri: String,
        /// The holder of the grant.
        principal: String,
    },
    /// The URIs a principal holds, with its effective level on each.
    List {
        /// Only URIs at or below this one.
        uri: Option<String>,
        /// Only URIs of this scheme.
        #[arg(short = 's', long, value_name = "SCHEME", conflicts_with = "uri")]
        scheme: Option<String>,
        /// Instead: the grants the principal made on what it manages.
        #[arg(long, conflicts_with_all = ["uri", "scheme"])]
        shared: bool,
        /// Whose permissions [default: the acting user].
        #[arg(short = 'u', long, value_name = "PRINCIPAL")]
        user: Option<String>,
        /// Pagination.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Whether PRINCIPAL may do LEVEL or ACTION on URI: prints allowed or denied.
    Check {
        /// The principal.
        principal: String,
        /// The URI.
        uri: String,
        /// A level (list, read, write, manage) or an action of the URI's scheme.
        level: String,
    },
    /// PRINCIPAL's effective level on URI and why.
    Explain {
        /// The principal.
        principal: String,
        /// The URI.
        uri: String,
    },
    /// URI's subtree of PRINCIPAL's effective levels.
    Tree {
        /// The principal.
        principal: String,
        /// The root of the tree.
        uri: String,
        /// How many segments below URI.
        #[arg(long, default_value_t = 255, value_name = "N")]
        depth: usize,
    },
    /// The users whose effective level on URI is at least LEVEL.
    Who {
        /// The URI.
        uri: String,
        /// The least level.
        #[arg(long, default_value = "read", value_name = "LEVEL")]
        level: String,
        /// Pagination.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Fences: mandatory project boundaries.
    #[command(subcommand)]
    Fence(FenceCommand),
    /// Storage folders, their sharing and mounting.
    #[command(subcommand)]
    Folder(FolderCommand),
    /// Folder invitations.
    #[command(subcommand)]
    Invitation(InvitationCommand),
    /// Virtual machines and their sharing.
    #[command(subcommand)]
    Vm(VmCommand),
    /// Resource policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Compute sessions, admitted against the user's resource policy.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Export users, keypairs, policies or sessions to a CSV file; with `--model`, the
    /// permission model as a model file.
    Export {
        /// What to export.
        #[arg(required_unless_present = "model")]
        what: Option<ExportWhat>,
        /// The CSV file to write (with `--model`: the model file; stdout when left out).
        #[arg(long, value_name = "FILE", required_unless_present = "model")]
        output: Option<PathBuf>,
        /// Instead: the whole permission model as a model file (docs/cli.md, "Model files").
        #[arg(long, conflicts_with = "what")]
        model: bool,
    },
    /// The changelog (audit trail).
    Log {
        /// Only changes after this revision.
        #[arg(long, default_value_t = 0, value_name = "REV")]
        since: u64,
        /// Only changes made by this user.
        #[arg(long, value_name = "USER")]
        actor: Option<String>,
        /// Pagination.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Load grants from a file of JSON lines `{"uri": ..., "principal": ..., "level": ...}`;
    /// with `--model`, the entries of a model file.
    Import {
        /// The file (`-` for stdin).
        file: PathBuf,
        /// Commit every N grants (default: the whole file in one transaction).
        #[arg(long, value_name = "N", conflicts_with = "model")]
        batch: Option<usize>,
        /// FILE is a model file: load its entries into the database.
        #[arg(long)]
        model: bool,
    },
    /// Run the assertions of model files, each on a fresh in-memory store: exit 0 when all
    /// pass, 1 otherwise.
    Test {
        /// The model files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also write a JUnit XML report to FILE.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Check model files (syntax and meaning) without touching any database: every
    /// problem with its file, line and column; exit 65 when there is one.
    Validate {
        /// The model files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write the whole database (every row and the changelog, hashes included) to FILE as
    /// checksummed JSON lines, readable by its owner only (admins only).
    Dump {
        /// The dump file to write.
        file: PathBuf,
    },
    /// Load a dump into an empty database (created when absent), in one transaction: a bad
    /// checksum or a non-empty database changes nothing.
    Restore {
        /// The dump file to read.
        file: PathBuf,
    },
    /// Walk through the whole system on a fresh database, printing each command.
    Demo,
    /// Serve the database over HTTP: the v1 JSON API (docs/api.md).
    Serve(crate::cmd::serve::ServeArgs),
    /// Mint a bearer token acting as PRINCIPAL for `acl serve` (admins only).
    Token(crate::cmd::serve::TokenArgs),
}

/// `acl user ...`
#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Create a user with its account.
    Create {
        /// The email (unique, immutable).
        #[arg(long, value_name = "E")]
        email: String,
        /// The username (unique).
        #[arg(long, value_name = "U")]
        username: String,
        /// The password (8 or more characters with a letter, a digit and a special one).
        #[arg(long, value_name = "P")]
        password: String,
        /// The full name.
        #[arg(long, value_name = "N")]
        full_name: Option<String>,
        /// superadmin, admin, user or monitor.
        #[arg(long, value_name = "R", default_value = "user")]
        role: String,
        /// Flag the account as needing a password change (descriptive only).
        #[arg(long)]
        need_password_change: bool,
        /// The resource policy.
        #[arg(long, value_name = "NAME")]
        policy: Option<String>,
    },
    /// Change a user's account.
    Update {
        /// The user (email or username).
        user: String,
        /// A new username: refused, since the username is the principal name every grant,
        /// folder and changelog entry refers to (docs/semantics.md, A1).
        #[arg(long, value_name = "U")]
        username: Option<String>,
        /// A new full name.
        #[arg(long, value_name = "N")]
        full_name: Option<String>,
        /// A new password.
        #[arg(long, value_name = "P")]
        password: Option<String>,
        /// A new role.
        #[arg(long, value_name = "R")]
        role: Option<String>,
        /// true or false.
        #[arg(long, value_name = "true|false")]
        need_password_change: Option<bool>,
        /// A new resource policy.
        #[arg(long, value_name = "NAME")]
        policy: Option<String>,
    },
    /// Deactivate a user: every check and login is denied.
    Deactivate {
        /// The user.
        user: String,
    },
    /// Reactivate a user.
    Activate {
        /// The user.
        user: String,
    },
    /// A user's details and groups.
    Show {
        /// The user.
        user: String,
    },
    /// Every user.
    List {
        /// The inactive users instead of the active ones.
        #[arg(long)]
        inactive: bool,
        /// Only users whose email or username contains TEXT (ignoring case).
        #[arg(long, value_name = "TEXT")]
        filter: Option<String>,
        /// Pagination.
        #[command(flatten)]
        page: PageArgs,
    },
}

/// `acl group ...`
#[derive(Debug, Clone, Subcommand)]
pub enum GroupCommand {
    /// Create a group.
    Create {
        /// The group's name.
        name: String,
    },
    /// Make USER a member of group NAME.
    AddMember {
        /// The group.
        name: String,
        /// The user.
        user: String,
    },
    /// Remove USER from group NAME.
    RemoveMember {
        /// The group.
        name: String,
        /// The user.
        user: String,
    },
    /// The direct members of group NAME.
    Members {
        /// The group.
        name: String,
    },
    /// Every group.
    List {
        /// Pagination.
        #[command(flatten)]
        page: PageArgs,
    },
}

/// `acl role ...`
#[derive(Debug, Clone, Subcommand)]
pub enum RoleCommand {
    /// Add a role.
    Add {
        /// The role's name (`alice/roles/ops`, ...).
        name: String,
    },
    /// Remove a role with its grants and memberships.
    Remove {
        /// The role's name.
        name: String,
    },
    /// The roles and groups the acting user can see.
    List {
        /// Only names starting with PREFIX.
        prefix: Option<String>,
        /// Pagination.
        #[command(flatten)]
        page: PageArgs,
    },
}

/// `acl fence ...`
#[derive(Debug, Clone, Subcommand)]
pub enum FenceCommand {
    /// Fence URI: only members of GROUP reach anything under it.
    Add {
        /// The fenced subtree.
        uri: String,
        /// The group.
        group: String,
    },
    /// Remove a fence.
    Remove {
        /// The fenced subtree.
        uri: String,
        /// The group.
        group: String,
    },
    /// The fences the acting user may change.
    List,
}

/// `acl folder ...`
#[derive(Debug, Clone, Subcommand)]
pub enum FolderCommand {
    /// Create a folder owned by the acting user, or a group folder with `--group`.
    Create {
        /// The folder's name.
        name: String,
        /// The owning group (an admin creates group folders).
        #[arg(long, value_name = "G")]
        group: Option<String>,
        /// What the group's members get (ro or rw).
        #[arg(long, value_name = "ro|rw", requires = "group", default_value = "ro")]
        permission: String,
        /// The storage host.
        #[arg(long, value_name = "H", default_value = "local")]
        host: String,
    },
    /// The folders the acting user sees: owned, shared with it, its groups'.
    List,
    /// Rename a folder.
    Rename {
        /// The folder.
        name: String,
        /// Its new name.
        new: String,
    },
    /// Delete a folder, its shares and pending invitations.
    Delete {
        /// The folder.
        name: String,
    },
    /// Invite users to share a folder.
    Invite {
        /// The folder.
        name: String,
        /// The invitees.
        #[arg(required = true)]
        users: Vec<String>,
        /// ro or rw.
        #[arg(long, value_name = "ro|rw")]
        permission: String,
    },
    /// The users a folder is shared with.
    SharedUsers {
        /// The folder.
        name: String,
    },
    /// Change a sharee's permission.
    SetPermission {
        /// The folder.
        name: String,
        /// The sharee.
        user: String,
        /// ro or rw.
        permission: String,
    },
    /// Stop sharing a folder with a user.
    Unshare {
        /// The folder.
        name: String,
        /// The sharee.
        user: String,
    },
    /// Leave a folder shared with the acting user.
    Leave {
        /// The folder.
        name: String,
    },
    /// Whether the acting user may do ACTION on the folder: prints allowed or denied.
    Can {
        /// The folder.
        name: String,
        /// list, read, mount-ro, write, mount-rw, delete-file, rename, delete, share.
        action: String,
    },
    /// Ask to mount the folder ro or rw; refused above the effective permission.
    Mount {
        /// The folder.
        name: String,
        /// ro or rw.
        mode: String,
    },
}

/// `acl invitation ...`
#[derive(Debug, Clone, Subcommand)]
pub enum InvitationCommand {
    /// Pending invitations received (or sent, with `--sent`).
    List {
        /// Those the acting user sent.
        #[arg(long)]
        sent: bool,
    },
    /// Accept an invitation.
    Accept {
        /// The invitation's id.
        id: String,
    },
    /// Reject an invitation.
    Reject {
        /// The invitation's id.
        id: String,
    },
    /// Cancel an invitation.
    Cancel {
        /// The invitation's id.
        id: String,
    },
    /// Change a pending invitation's permission.
    Update {
        /// The invitation's id.
        id: String,
        /// ro or rw.
        #[arg(long, value_name = "ro|rw")]
        permission: String,
    },
}

/// `acl vm ...`
#[derive(Debug, Clone, Subcommand)]
pub enum VmCommand {
    /// Create a VM in a team.
    Create {
        /// The VM's name.
        name: String,
        /// The team (a group the acting user is in).
        #[arg(long, value_name = "GROUP")]
        team: String,
    },
    /// Share a VM with a user of the same team.
    Share {
        /// The VM (name or id).
        name: String,
        /// The user.
        user: String,
        /// use (launch it) or co-own (drives, sharing).
        #[arg(long, value_name = "use|co-own")]
        mode: String,
    },
    /// A VM's users and managers.
    Members {
        /// The VM (name or id).
        name: String,
    },
    /// Whether the acting user may do ACTION on the VM: prints allowed or denied.
    Can {
        /// The VM (name or id).
        name: String,
        /// launch, access-drives, share, or a level.
        action: String,
    },
}

/// `acl keypair ...`
#[derive(Debug, Clone, Subcommand)]
pub enum KeypairCommand {
    /// Create a keypair for USER; its secret is printed this once.
    Create {
        /// The user (email or username).
        user: String,
    },
    /// USER's keypairs [default: the acting user].
    List {
        /// The user (email or username).
        user: Option<String>,
    },
    /// Activate a keypair.
    Activate {
        /// The access key.
        key: String,
    },
    /// Deactivate a keypair.
    Deactivate {
        /// The access key.
        key: String,
    },
}

/// The limits of `acl policy create|update`; a limit is a number or `unlimited`.
#[derive(Debug, Clone, Args)]
pub struct PolicyLimits {
    /// CPU cores.
    #[arg(long, value_name = "N")]
    pub cpu: Option<String>,
    /// RAM in GB.
    #[arg(long, value_name = "GB")]
    pub ram: Option<String>,
    /// GPUs.
    #[arg(long, value_name = "N")]
    pub gpu: Option<String>,
    /// Fractional GPUs (two decimals at most).
    #[arg(long, value_name = "N")]
    pub fgpu: Option<String>,
    /// Containers per session.
    #[arg(long, value_name = "N")]
    pub containers_per_session: Option<String>,
    /// Idle timeout in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub idle_timeout: Option<String>,
    /// Concurrent sessions.
    #[arg(long, value_name = "N")]
    pub concurrent_sessions: Option<String>,
    /// Folders.
    #[arg(long, value_name = "N")]
    pub max_folders: Option<String>,
    /// Folder capacity in GB.
    #[arg(long, value_name = "GB")]
    pub folder_capacity: Option<String>,
    /// Allowed storage hosts, comma separated, or `any`.
    #[arg(long, value_name = "H,H")]
    pub allowed_hosts: Option<String>,
}

/// `acl policy ...`
#[derive(Debug, Clone, Subcommand)]
pub enum PolicyCommand {
    /// Create a resource policy; a limit left out is unlimited.
    Create {
        /// Its name (immutable).
        name: String,
        /// The limits.
        #[command(flatten)]
        limits: PolicyLimits,
    },
    /// Change a policy's limits; a limit left out keeps its value.
    Update {
        /// Its name.
        name: String,
        /// The limits.
        #[command(flatten)]
        limits: PolicyLimits,
    },
    /// Delete a policy no user or keypair uses.
    Delete {
        /// Its name.
        name: String,
    },
    /// Every policy.
    List,
}

/// `acl session ...`
#[derive(Debug, Clone, Subcommand)]
pub enum SessionCommand {
    /// Start a session owned by USER, admitted against USER's policy: the acting user's
    /// own, or another user's on its behalf (needs `manage` on `user://USER`, an admin's).
    Start {
        /// The session's owner: the acting user, or a user it manages.
        user: String,
        /// CPU cores.
        #[arg(long, value_name = "N")]
        cpu: u64,
        /// RAM in GB.
        #[arg(long, value_name = "GB")]
        ram: u64,
        /// GPUs.
        #[arg(long, value_name = "N", default_value_t = 0)]
        gpu: u64,
        /// Fractional GPUs (two decimals at most).
        #[arg(long, value_name = "N", default_value = "0")]
        fgpu: String,
        /// Containers.
        #[arg(long, value_name = "N", default_value_t = 1)]
        containers: u64,
    },
    /// Stop a session.
    Stop {
        /// The session's id.
        id: String,
    },
    /// USER's sessions [default: the acting user].
    List {
        /// The user.
        user: Option<String>,
    },
    /// USER's policy and the usage of its running sessions, recalculated.
    Recalculate {
        /// The user [default: the acting user].
        user: Option<String>,
    },
}

/// What `acl export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportWhat {
    /// Users (accounts).
    Users,
    /// Keypairs.
    Keypairs,
    /// Resource policies.
    Policies,
    /// Sessions.
    Sessions,
}
