//! The schema: which schemes exist, what their actions mean, their share-scope rules and
//! the home namespaces every new user receives.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, UriProblem};
use crate::level::Level;
use crate::name::{ClusterName, PrincipalName};
use crate::text::clip;
use crate::uri::{Uri, UriContext, UriForm};

/// A restriction on who may receive a grant on a scheme (rule V2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ShareScope {
    /// The granter and the grantee must share a group: some principal of kind
    /// [`crate::PrincipalKind::Group`] must be in both closures. A grant outside it is
    /// refused as forbidden.
    SameGroup,
}

/// What the schema knows of one scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemeDef {
    /// Action name to the level it requires (rule E5). Level words (`read`, ...) are
    /// accepted as actions for every scheme unless this table redefines them.
    pub actions: IndexMap<String, Level>,
    /// Who may receive grants on the scheme, if restricted (rule V2).
    pub share_scope: Option<ShareScope>,
    /// Whether short forms (`scheme:a/b`) are refused (rule U2: `role:` and `user:`).
    pub absolute_only: bool,
    /// Whether forbids and fences are refused on this scheme (rule E3: `role:`).
    pub no_forbids: bool,
}

impl SchemeDef {
    /// A scheme with no actions beyond the level words and no restrictions.
    pub fn plain() -> SchemeDef {
        SchemeDef {
            actions: IndexMap::new(),
            share_scope: None,
            absolute_only: false,
            no_forbids: false,
        }
    }

    /// Adds actions, each requiring `level`.
    pub fn with_actions(mut self, names: &[&str], level: Level) -> SchemeDef {
        for name in names {
            self.actions.insert((*name).to_owned(), level);
        }
        self
    }
}

/// A grant every new user receives (rule P5): `template` with `{cluster}` and `{user}`
/// replaced, at `level`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeGrant {
    /// A URI template, e.g. `storage://{cluster}/{user}`.
    pub template: String,
    /// The level the user receives there.
    pub level: Level,
}

/// Up to this many schemes, [`Schema::scheme`] compares names instead of hashing.
const LINEAR_SCHEMES: usize = 16;

/// The schema an engine enforces: known schemes, their action tables and share scopes, and
/// the home namespaces of new users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// foldhash, not SipHash: every check looks its URI's scheme up here.
    schemes: IndexMap<String, SchemeDef, foldhash::fast::RandomState>,
    homes: Vec<HomeGrant>,
}

/// Schemes whose roots the user home namespaces live under (rule P5).
const HOME_SCHEMES: [&str; 6] = ["storage", "job", "image", "secret", "disk", "blob"];

impl Default for Schema {
    fn default() -> Self {
        Schema::standard()
    }
}

impl Schema {
    /// An empty schema with only the `role`, `user` and `policy` schemes every engine
    /// needs (`policy://{name}` names a resource policy, rule A6), and no home grants.
    pub fn minimal() -> Schema {
        let mut schemes = IndexMap::default();
        schemes.insert(
            "role".to_owned(),
            SchemeDef {
                absolute_only: true,
                no_forbids: true,
                ..SchemeDef::plain()
            },
        );
        schemes.insert(
            "user".to_owned(),
            SchemeDef {
                absolute_only: true,
                ..SchemeDef::plain()
            },
        );
        schemes.insert(
            "policy".to_owned(),
            SchemeDef {
                absolute_only: true,
                ..SchemeDef::plain()
            },
        );
        Schema {
            schemes,
            homes: Vec::new(),
        }
    }

    /// The default schema: the Neu.ro schemes (storage, job, image, secret, disk, blob,
    /// role, user, token, flow), `vfolder` with the folder actions of rule F3, and `vm` with the actions
    /// of rule V1 and the team share scope of rule V2; home grants as rule P5.
    pub fn standard() -> Schema {
        let mut schema = Schema::minimal();
        for scheme in HOME_SCHEMES {
            schema.add_scheme(scheme, SchemeDef::plain());
            schema.add_home(&format!("{scheme}://{{cluster}}/{{user}}"), Level::Manage);
        }
        schema.add_home("role://{user}/roles", Level::Manage);
        schema.add_home("user://{user}", Level::Read);
        // Neu.ro's other schemes: `token://` (a token minted for such a URI works while its
        // holder can read the URI, rule N1) and `flow://`; no home grants.
        for scheme in ["token", "flow"] {
            schema.add_scheme(scheme, SchemeDef::plain());
        }
        schema.add_scheme(
            "vfolder",
            SchemeDef::plain()
                .with_actions(&["list", "read", "mount-ro"], Level::Read)
                .with_actions(&["write", "mount-rw"], Level::Write)
                .with_actions(&["delete-file", "rename", "delete", "share"], Level::Manage),
        );
        schema.add_scheme(
            "vm",
            SchemeDef {
                share_scope: Some(ShareScope::SameGroup),
                ..SchemeDef::plain()
                    .with_actions(&["launch"], Level::Write)
                    .with_actions(&["access-drives", "share"], Level::Manage)
            },
        );
        schema
    }

    /// Adds or replaces a scheme. The name must be a valid URI scheme.
    pub fn add_scheme(&mut self, name: &str, def: SchemeDef) -> &mut Schema {
        self.schemes.insert(name.to_ascii_lowercase(), def);
        self
    }

    /// Adds a home grant for every user created from now on (rule P5).
    pub fn add_home(&mut self, template: &str, level: Level) -> &mut Schema {
        self.homes.push(HomeGrant {
            template: template.to_owned(),
            level,
        });
        self
    }

    /// The scheme's definition, if known.
    pub fn scheme(&self, name: &str) -> Option<&SchemeDef> {
        // A schema has a handful of schemes, and every check looks one up: comparing the
        // names costs less than hashing one.
        if self.schemes.len() <= LINEAR_SCHEMES {
            return self
                .schemes
                .iter()
                .find(|(known, _)| crate::bytes::same(known.as_bytes(), name.as_bytes()))
                .map(|(_, def)| def);
        }
        self.schemes.get(name)
    }

    /// The known scheme names, in definition order.
    pub fn scheme_names(&self) -> impl Iterator<Item = &str> {
        self.schemes.keys().map(String::as_str)
    }

    /// The root URI of every known scheme, in definition order.
    pub fn scheme_roots(&self) -> Result<Vec<Uri>, Error> {
        self.scheme_names().map(Uri::root).collect()
    }

    /// The home grants of rule P5.
    pub fn homes(&self) -> &[HomeGrant] {
        &self.homes
    }

    /// The home grants of `user` in `cluster`, rendered.
    pub fn home_grants(
        &self,
        cluster: &ClusterName,
        user: &PrincipalName,
    ) -> Result<Vec<(Uri, Level)>, Error> {
        self.homes
            .iter()
            .map(|home| {
                let text = home
                    .template
                    .replace("{cluster}", cluster.as_str())
                    .replace("{user}", user.as_str());
                let uri = Uri::parse(&text)?;
                self.check_uri(&uri, UriForm::Absolute)?;
                Ok((uri, home.level))
            })
            .collect()
    }

    /// Parses `text` as a URI of a known scheme, resolving short forms against `context`
    /// when given (rules U1 to U3).
    pub fn uri(&self, text: &str, context: Option<&UriContext>) -> Result<Uri, Error> {
        let (uri, form) = Uri::parse_form(text, context)?;
        self.check_uri(&uri, form)
            .map(|()| uri)
            .map_err(|e| match e {
                Error::InvalidUri { problem, .. } => Error::InvalidUri {
                    input: clip(text),
                    problem,
                },
                other => other,
            })
    }

    /// Checks that an already parsed URI's scheme is known (rule U3).
    #[inline]
    pub fn validate(&self, uri: &Uri) -> Result<(), Error> {
        self.check_uri(uri, UriForm::Absolute)
    }

    #[inline]
    fn check_uri(&self, uri: &Uri, form: UriForm) -> Result<(), Error> {
        // Every check validates its URI: the error is built out of line, only on failure.
        let problem = match self.scheme(uri.scheme()) {
            None => UriProblem::UnknownScheme,
            Some(def) if def.absolute_only && form == UriForm::Short => {
                UriProblem::NeedsAbsoluteForm
            }
            Some(_) => return Ok(()),
        };
        Err(invalid_uri(uri, problem))
    }

    /// The level `action` requires on `uri` (rule E5): the scheme's action table first, then
    /// the level words `list`, `read`, `write`, `manage`. An unknown action is an error, not
    /// a denial; `deny` is not an action.
    pub fn action_level(&self, uri: &Uri, action: &str) -> Result<Level, Error> {
        let unknown = || Error::UnknownAction {
            scheme: uri.scheme().to_owned(),
            action: clip(action),
        };
        let def = self.scheme(uri.scheme()).ok_or_else(unknown)?;
        if let Some(level) = def.actions.get(action) {
            return Ok(*level);
        }
        match action.parse::<Level>() {
            Ok(level) if level.is_allow() => Ok(level),
            _ => Err(unknown()),
        }
    }
}

/// The error for `uri` refused for `problem`.
#[cold]
fn invalid_uri(uri: &Uri, problem: UriProblem) -> Error {
    Error::InvalidUri {
        input: clip(uri.as_str()),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        Uri::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    // Both ways of finding a scheme (a scan for a few, the hash past LINEAR_SCHEMES)
    // answer the same.
    #[test]
    fn schemes_are_found_however_many_there_are() {
        let mut schema = Schema::standard();
        let first = schema.scheme_names().count();
        for i in 0..=LINEAR_SCHEMES {
            let name = format!("extra{i}");
            assert!(schema.scheme(&name).is_none(), "{name}");
            schema.add_scheme(&name, SchemeDef::plain());
            assert!(schema.scheme(&name).is_some(), "{name}");
            assert!(schema.validate(&uri(&format!("{name}://c/x"))).is_ok());
            assert!(schema.scheme("storage").is_some());
            assert!(schema.scheme("nosuch").is_none());
        }
        assert!(schema.scheme_names().count() > LINEAR_SCHEMES.max(first));
    }

    // rule E5: actions map to levels per scheme; unknown actions are errors
    #[test]
    fn action_levels() {
        let schema = Schema::standard();
        let table: &[(&str, &str, Option<Level>)] = &[
            ("vfolder://c/f1", "list", Some(Level::Read)),
            ("vfolder://c/f1", "mount-ro", Some(Level::Read)),
            ("vfolder://c/f1", "mount-rw", Some(Level::Write)),
            ("vfolder://c/f1", "write", Some(Level::Write)),
            ("vfolder://c/f1", "delete-file", Some(Level::Manage)),
            ("vfolder://c/f1", "rename", Some(Level::Manage)),
            ("vfolder://c/f1", "delete", Some(Level::Manage)),
            ("vfolder://c/f1", "share", Some(Level::Manage)),
            ("vm://c/v1", "launch", Some(Level::Write)),
            ("vm://c/v1", "access-drives", Some(Level::Manage)),
            ("vm://c/v1", "share", Some(Level::Manage)),
            ("storage://c/u", "read", Some(Level::Read)),
            ("storage://c/u", "list", Some(Level::List)),
            ("storage://c/u", "manage", Some(Level::Manage)),
            ("storage://c/u", "deny", None),
            ("storage://c/u", "launch", None),
            ("storage://c/u", "", None),
        ];
        for (u, action, want) in table {
            let got = schema.action_level(&uri(u), action);
            match want {
                Some(level) => assert_eq!(got.ok(), Some(*level), "{u} {action}"),
                None => assert!(
                    matches!(got, Err(Error::UnknownAction { .. })),
                    "{u} {action}: {got:?}"
                ),
            }
        }
    }

    // rule U3: a scheme not in the schema is refused; rule U2: role: and user: need the
    // absolute form
    #[test]
    fn schema_checks_schemes_and_forms() {
        let schema = Schema::standard();
        let ctx = UriContext {
            cluster: ClusterName::new("c").unwrap_or_else(|e| panic!("{e}")),
            user: PrincipalName::new("u").unwrap_or_else(|e| panic!("{e}")),
        };
        assert!(schema.uri("storage:x", Some(&ctx)).is_ok());
        assert!(schema.uri("role://u/roles/x", Some(&ctx)).is_ok());
        assert!(schema.uri("role:", Some(&ctx)).is_ok());
        let problem = |t: &str| match schema.uri(t, Some(&ctx)) {
            Err(Error::InvalidUri { problem, .. }) => Some(problem),
            _ => None,
        };
        assert_eq!(problem("ftp://x"), Some(UriProblem::UnknownScheme));
        assert_eq!(
            problem("role:u/roles/x"),
            Some(UriProblem::NeedsAbsoluteForm)
        );
        assert_eq!(problem("user:/bob"), Some(UriProblem::NeedsAbsoluteForm));
    }

    // rule P5: home namespaces
    #[test]
    fn home_grants_render() {
        let schema = Schema::standard();
        let cluster = ClusterName::new("c").unwrap_or_else(|e| panic!("{e}"));
        let user = PrincipalName::new("alice").unwrap_or_else(|e| panic!("{e}"));
        let homes = schema
            .home_grants(&cluster, &user)
            .unwrap_or_else(|e| panic!("{e}"));
        let text: Vec<String> = homes.iter().map(|(u, l)| format!("{u} {l}")).collect();
        assert_eq!(
            text,
            [
                "storage://c/alice manage",
                "job://c/alice manage",
                "image://c/alice manage",
                "secret://c/alice manage",
                "disk://c/alice manage",
                "blob://c/alice manage",
                "role://alice/roles manage",
                "user://alice read",
            ]
        );
    }
}
