//! Reads on behalf of a principal: a [`Viewer`] is a [`Reader`] bound to the principal
//! who reads, and it authorizes every answer about another principal's permissions, or
//! about who holds what, before it gives it (docs/semantics.md, "Reads for a viewer"):
//!
//! - `check`, `check_action`, `explain`, `tree`, `list` and `shared` about a principal P
//!   other than the viewer need `read` on `user://P` for a user, `role://P` for a role or
//!   group (or an unknown name). A user holds `read` on its own `user://` URI and the
//!   admins `manage` on every scheme root (rule P5), so users see themselves and admins
//!   see everyone.
//! - `who` on a URI needs `manage` there: whoever may grant there may see who holds it.
//!
//! A refusal is [`Error::Forbidden`] naming the viewer, the read, the URI and the level it
//! needed. The decision and the answer come from the same view, so they cannot see
//! different states. The kernel's [`Reader`] answers for any principal named, as a library
//! call must; adapters acting for a user (the CLI, the server) read through a `Viewer`
//! and add no rule of their own.

use crate::engine::{Engine, ListFilter, Reader, TreeNode};
use crate::error::{Error, Result};
use crate::graph::Closure;
use crate::level::Level;
use crate::name::PrincipalName;
use crate::page::{Cursor, Page, PageRequest};
use crate::resolve::Decision;
use crate::rows::{Fence, Grant, PrincipalKind, PrincipalRecord, Revision};
use crate::store::{ReadViewExt, Store};
use crate::uri::{Uri, UriContext};

/// The read of another principal's permissions, as a refusal names it.
const SEE_PERMISSIONS: &str = "read another principal's permissions";
/// The read of a URI's holders, as a refusal names it.
const SEE_HOLDERS: &str = "see who holds";

/// How many principals [`Viewer::roles`] reads from the store at a time.
const CHUNK: usize = 512;

/// A consistent read view bound to the principal who reads (see the module doc).
pub struct Viewer<'e, S: Store + 'e> {
    reader: Reader<'e, S>,
    /// The viewer, canonical (rule P1).
    viewer: PrincipalName,
}

impl<S: Store> Engine<S> {
    /// A read view of the latest state for `viewer`, which authorizes its reads.
    pub fn viewer(&self, viewer: &PrincipalName) -> Result<Viewer<'_, S>> {
        self.reader()?.bind(viewer)
    }
}

impl<'e, S: Store + 'e> Reader<'e, S> {
    /// This read view, bound to `viewer`: the same state, with reads authorized for it.
    pub fn bind(self, viewer: &PrincipalName) -> Result<Viewer<'e, S>> {
        let viewer = self.canonical_name(viewer)?.into_owned();
        Ok(Viewer {
            reader: self,
            viewer,
        })
    }
}

impl<'e, S: Store + 'e> Viewer<'e, S> {
    /// The principal who reads, canonical.
    pub fn viewer(&self) -> &PrincipalName {
        &self.viewer
    }

    /// The same view without the viewer's authorization, for reads that authorize
    /// themselves (the platform's account and folder reads take the viewer) or need none.
    pub fn reader(&self) -> &Reader<'e, S> {
        &self.reader
    }

    /// The revision this view sees.
    pub fn revision(&self) -> Result<Revision> {
        self.reader.revision()
    }

    /// A URI as the viewer writes it: short forms resolve against the view's cluster and
    /// the viewer (rule U2).
    pub fn uri(&self, text: &str) -> Result<Uri> {
        let context = UriContext {
            cluster: self.reader.cluster()?,
            user: self.viewer.clone(),
        };
        self.reader.engine().schema().uri(text, Some(&context))
    }

    /// Refuses with [`Error::Forbidden`] naming `action` unless the viewer's effective
    /// level on `uri` is at least `needed` (rules E1 to E5).
    pub fn require(&self, uri: &Uri, needed: Level, action: &'static str) -> Result<()> {
        if self.reader.check(&self.viewer, uri, needed)? {
            Ok(())
        } else {
            Err(Error::Forbidden {
                actor: self.viewer.to_string(),
                action,
                uri: uri.to_string(),
                needed,
            })
        }
    }

    /// Refuses unless the viewer may do `action` on `uri`, at the level the schema maps
    /// the action to for the URI's scheme (rule E5); the refusal names the action.
    pub fn require_action(&self, uri: &Uri, action: &'static str) -> Result<()> {
        let needed = self.reader.engine().schema().action_level(uri, action)?;
        self.require(uri, needed, action)
    }

    /// Whether the viewer may see `principal`'s permissions: it is the viewer, or the
    /// viewer holds `read` on `user://P` (a user) or `role://P` (a role, a group or a name
    /// that does not exist).
    pub fn may_see(&self, principal: &PrincipalName) -> Result<()> {
        let principal = self.reader.canonical_name(principal)?;
        if *principal == self.viewer {
            return Ok(());
        }
        let uri = match self.reader.principal(&principal)?.map(|r| r.kind) {
            Some(PrincipalKind::User) => Uri::parse(&format!("user://{principal}"))?,
            _ => Uri::of_role(&principal),
        };
        self.require(&uri, Level::Read, SEE_PERMISSIONS)
    }

    /// [`Reader::check`] about `principal`, if the viewer may see its permissions.
    pub fn check(&self, principal: &PrincipalName, uri: &Uri, level: Level) -> Result<bool> {
        self.may_see(principal)?;
        self.reader.check(principal, uri, level)
    }

    /// [`Reader::check_action`] about `principal`, if the viewer may see its permissions.
    pub fn check_action(&self, principal: &PrincipalName, uri: &Uri, action: &str) -> Result<bool> {
        self.may_see(principal)?;
        self.reader.check_action(principal, uri, action)
    }

    /// [`Reader::explain`] about `principal`, if the viewer may see its permissions.
    pub fn explain(&self, principal: &PrincipalName, uri: &Uri) -> Result<Decision> {
        self.may_see(principal)?;
        self.reader.explain(principal, uri)
    }

    /// [`Reader::tree`] about `principal`, if the viewer may see its permissions.
    pub fn tree(
        &self,
        principal: &PrincipalName,
        uri: &Uri,
        depth: usize,
    ) -> Result<Vec<TreeNode>> {
        self.may_see(principal)?;
        self.reader.tree(principal, uri, depth)
    }

    /// [`Reader::list`] about `principal`, if the viewer may see its permissions.
    pub fn list(
        &self,
        principal: &PrincipalName,
        filter: &ListFilter,
        page: &PageRequest,
    ) -> Result<Page<(Uri, Level)>> {
        self.may_see(principal)?;
        self.reader.list(principal, filter, page)
    }

    /// [`Reader::shared`] by `principal`, if the viewer may see its permissions.
    pub fn shared(&self, principal: &PrincipalName, page: &PageRequest) -> Result<Page<Grant>> {
        self.may_see(principal)?;
        self.reader.shared(principal, page)
    }

    /// [`Reader::closure`] of `principal`, if the viewer may see its permissions.
    pub fn closure(&self, principal: &PrincipalName) -> Result<Closure> {
        self.may_see(principal)?;
        self.reader.closure(principal)
    }

    /// [`Reader::who`] on `uri`, if the viewer holds `manage` there.
    pub fn who(&self, uri: &Uri, level: Level, page: &PageRequest) -> Result<Page<PrincipalName>> {
        self.require(uri, Level::Manage, SEE_HOLDERS)?;
        self.reader.who(uri, level, page)
    }

    /// The roles and groups the viewer sees that `keep` accepts, in name order, one page
    /// as `page` asks (the cursor is the last name). The viewer sees a role or group when
    /// it holds at least `list` on its `role://` URI: members hold `read`, managers
    /// `manage`, admins `manage` on `role://` (rules P2, P5).
    pub fn roles(
        &self,
        page: &PageRequest,
        mut keep: impl FnMut(&PrincipalRecord) -> bool,
    ) -> Result<Page<PrincipalRecord>> {
        let limit = page.limit.unwrap_or(usize::MAX);
        if limit == 0 {
            return Err(Error::InvalidInput(
                "a page limit must be at least 1".into(),
            ));
        }
        let mut after = page.after.clone();
        let mut items: Vec<PrincipalRecord> = Vec::new();
        loop {
            let chunk = self.reader.principals(&PageRequest {
                after: after.clone(),
                limit: Some(CHUNK),
            })?;
            for record in chunk.items {
                if record.kind == PrincipalKind::User || !keep(&record) {
                    continue;
                }
                if !self
                    .reader
                    .check(&self.viewer, &Uri::of_role(&record.name), Level::List)?
                {
                    continue;
                }
                if items.len() == limit {
                    let next = items.last().map(|r| Cursor::new(r.name.as_str()));
                    return Ok(Page { items, next });
                }
                items.push(record);
            }
            match chunk.next {
                Some(next) => after = Some(next),
                None => return Ok(Page { items, next: None }),
            }
        }
    }

    /// The fences (within `within` when given) the viewer may change: those on URIs whose
    /// scheme root it manages (rule E4: placing and removing a fence needs `manage` on the
    /// scheme root).
    pub fn fences(&self, within: Option<&Uri>) -> Result<Vec<Fence>> {
        let mut fences = Vec::new();
        for fence in self.reader.fences(within)? {
            if self
                .reader
                .check(&self.viewer, &fence.uri.scheme_root(), Level::Manage)?
            {
                fences.push(fence);
            }
        }
        Ok(fences)
    }

    /// The roles and groups `principal` is a direct member of, in name order, if the
    /// viewer may see its permissions.
    pub fn roles_of(&self, principal: &PrincipalName) -> Result<Vec<PrincipalRecord>> {
        self.may_see(principal)?;
        let principal = self.reader.canonical_name(principal)?;
        let mut roles: Vec<PrincipalRecord> = self
            .reader
            .view()
            .roles_of(std::slice::from_ref(&*principal))?
            .into_iter()
            .map(|(_, role)| role)
            .collect();
        roles.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(roles)
    }
}
