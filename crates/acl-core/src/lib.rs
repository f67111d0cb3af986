//! acl-core: the pure domain of `acl` (crate docs are completed with the engine).

mod error;
mod level;
mod name;
mod schema;
mod store;
mod uri;

pub use error::{Error, ErrorKind, NameProblem, Result, UriProblem};
pub use level::Level;
pub use name::{ClusterName, MAX_NAME_BYTES, PrincipalName};
pub use schema::{HomeGrant, Schema, SchemeDef, ShareScope};
pub use store::{
    Change, ChangeEntry, Edge, Fence, Grant, PrincipalKind, PrincipalRecord, ReadView, Revision,
    Store, Timestamp, WriteTxn,
};
pub use uri::{MAX_SEGMENT_BYTES, MAX_URI_BYTES, Uri, UriContext, UriForm};
