//! Model files in your own tests: [`load`] builds an engine over any store from a model
//! file (the format of docs/model.schema.json, as `acl test` reads it) and
//! [`ModelWorld::assert_all`] runs the file's assertions, panicking with every failure and
//! the engine's explanation of it.
//!
//! ```
//! use acl_core::{Level, PrincipalName};
//! use acl_memory::MemoryStore;
//!
//! let text = r#"
//! cluster: c
//! users: [alice, bob]
//! roles: [alice/roles/readers]
//! memberships:
//!   - {member: bob, role: alice/roles/readers}
//! grants:
//!   - {principal: alice/roles/readers, uri: "storage:data", level: read, by: alice}
//! assertions:
//!   - allowed: {principal: bob, uri: "storage://c/alice/data", level: read}
//!   - denied: {principal: bob, uri: "storage://c/alice/data", level: write}
//! "#;
//! let world = acl_testing::model::load(MemoryStore::new(), text).unwrap();
//! world.assert_all();
//!
//! // Then test your own code against the engine the model built.
//! let bob = PrincipalName::new("bob").unwrap();
//! let file = world.platform.schema().uri("storage://c/alice/data/report.csv", None).unwrap();
//! assert!(world.platform.check(&bob, &file, Level::Read).unwrap());
//! ```

use acl_core::{Schema, Timestamp, Uri};
use acl_platform::model::{self, Loaded, Model, Outcome, Problem, Target};
use acl_platform::{Platform, PlatformStore};

/// An engine loaded from a model file, with the model and what loading made.
pub struct ModelWorld<S: PlatformStore> {
    /// The platform (an engine with the platform's workflows) over the store.
    pub platform: Platform<S>,
    /// The parsed model.
    pub model: Model,
    /// The ids the store gave the model's folders and VMs.
    pub loaded: Loaded,
}

/// Parses `text` as a model file (against [`Schema::standard`]), initializes `store` (which
/// must be empty) with it through the platform's mutations, and returns the world. Every
/// problem of the file, or the entry the engine refused, is the error, at its line and
/// column.
pub fn load<S: PlatformStore>(store: S, text: &str) -> Result<ModelWorld<S>, Vec<Problem>> {
    let platform = Platform::new(store, Schema::standard());
    let model = model::parse(text, platform.schema())?;
    let loaded = model::load_fresh(&platform, &model, Timestamp(0)).map_err(|p| vec![p])?;
    Ok(ModelWorld {
        platform,
        model,
        loaded,
    })
}

impl<S: PlatformStore> ModelWorld<S> {
    /// The URI of a model's target: `Target::Folder` and `Target::Vm` name what the model
    /// made.
    pub fn uri(&self, target: &Target) -> Uri {
        self.loaded.uri(target).unwrap()
    }

    /// Every assertion's outcome, answered by the engine's evaluator.
    pub fn outcomes(&self) -> Vec<Outcome> {
        model::run_assertions(&self.platform, &self.loaded, &self.model).unwrap()
    }

    /// Runs every assertion of the file; panics listing each failure, its line and the
    /// engine's explanation of the actual decision.
    pub fn assert_all(&self) {
        let failures: Vec<String> = self
            .outcomes()
            .into_iter()
            .filter_map(|o| {
                let failure = o.failure?;
                let decisions: Vec<String> = failure
                    .decisions
                    .iter()
                    .map(|(who, d)| format!("\n    {who}: {} ({:?})", d.level, d.reason))
                    .collect();
                Some(format!(
                    "line {}: {}: {}{}",
                    o.pos.line,
                    o.name,
                    failure.message,
                    decisions.concat()
                ))
            })
            .collect();
        assert!(
            failures.is_empty(),
            "{} assertion(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
