//! The platform over the kernel: [`Platform`] is an [`Engine`] with the workflows of
//! folders, invitations, shares, VMs, accounts, keypairs, groups, resource policies and
//! sessions (rules F1 to A7), and the [`Layer`] that keeps the platform's rows in
//! step with the kernel's mutations.

use std::ops::Deref;

use acl_core::{ClusterName, Engine, EngineOptions, Error, Layer, PrincipalName, Result};
use acl_core::{Schema, Store, Uri};

use crate::account::HashCost;
use crate::seal::MasterKey;
use crate::store::{PlatformStore, PlatformTxn, PlatformView};

/// How a [`Platform`] is tuned: the kernel's options and the cost of password and secret
/// hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlatformOptions {
    /// The kernel engine's options.
    pub engine: EngineOptions,
    /// The argon2id cost of password and secret hashes (rule A2): the recommended cost by
    /// default; tests lower it with [`HashCost::minimum`].
    pub hash_cost: HashCost,
}

/// An [`Engine`] with the platform's workflows, over a store that keeps the platform's
/// rows too ([`PlatformStore`]). It dereferences to its engine, so every kernel operation
/// (check, grant, roles, fences, ...) is called on it as on the engine.
///
/// Built only by [`Platform::new`] and [`Platform::with_options`], which register the
/// platform's [`Layer`]: a direct grant or revoke can never change the grants a folder's
/// workflow owns (rule F7), init writes the platform's initial rows (the monitor role, the
/// default resource policy) and deactivating a user deactivates its account and keypairs
/// (rule A3).
#[derive(Debug)]
pub struct Platform<S: Store> {
    engine: Engine<S>,
    pub(crate) options: PlatformOptions,
    /// The key keypair secrets are sealed with (rule B1), if one was given.
    pub(crate) master_key: Option<MasterKey>,
}

impl<S: PlatformStore> Platform<S> {
    /// The platform over `store`, enforcing `schema`, with the default options.
    pub fn new(store: S, schema: Schema) -> Platform<S> {
        Platform::with_options(store, schema, PlatformOptions::default())
    }

    /// The platform over `store`, enforcing `schema`, with `options`.
    pub fn with_options(store: S, schema: Schema, options: PlatformOptions) -> Platform<S> {
        Platform {
            engine: Engine::with_options(store, schema, options.engine).with_layer(PlatformLayer),
            options,
            master_key: None,
        }
    }

    /// The platform with `key` as its master key (rule B1): keypairs created from now on
    /// keep their secret sealed with it, and [`Platform::signing_secret`] opens them.
    pub fn with_master_key(mut self, key: MasterKey) -> Platform<S> {
        self.master_key = Some(key);
        self
    }
}

impl<S: Store> Platform<S> {
    /// The kernel engine underneath.
    pub fn engine(&self) -> &Engine<S> {
        &self.engine
    }

    /// The options the platform was built with.
    pub fn options(&self) -> &PlatformOptions {
        &self.options
    }

    /// Whether the platform has a master key (rule B1).
    pub fn has_master_key(&self) -> bool {
        self.master_key.is_some()
    }
}

impl<S: Store> Deref for Platform<S> {
    type Target = Engine<S>;

    fn deref(&self) -> &Engine<S> {
        &self.engine
    }
}

/// The platform's hooks into the kernel's mutations.
struct PlatformLayer;

impl<S: PlatformStore> Layer<S> for PlatformLayer {
    fn on_init(&self, tx: &mut S::Write<'_>, schema: &Schema, cluster: &ClusterName) -> Result<()> {
        crate::admin::init_rows(schema, tx, cluster)
    }

    fn on_active(&self, tx: &mut S::Write<'_>, user: &PrincipalName, active: bool) -> Result<()> {
        crate::admin::follow_active(tx, user, active)
    }

    fn on_remove_role(&self, tx: &mut S::Write<'_>, role: &PrincipalName) -> Result<()> {
        // Folder and VM rows keep their owner and team for the record (rules F1, V1).
        if let Some(folder) = tx.folders_of(role)?.into_iter().next() {
            return Err(Error::Conflict(format!(
                "`{role}` owns folder `{}` (folder rows are kept, deleted ones too)",
                folder.id
            )));
        }
        if let Some(vm) = tx.vms_of(role)?.into_iter().next() {
            return Err(Error::Conflict(format!(
                "`{role}` is the team of vm `{}`",
                vm.id
            )));
        }
        tx.delete_group_info(role).map(drop)
    }

    fn check_direct_grant(
        &self,
        tx: &S::Write<'_>,
        cluster: &ClusterName,
        uri: &Uri,
        holder: &PrincipalName,
        action: &'static str,
    ) -> Result<()> {
        crate::folders::refuse_folder_workflow_grant(tx, cluster, uri, holder, action)
    }
}
