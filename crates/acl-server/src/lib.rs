//! acl-server: the HTTP service of `acl` (`acl serve`), its v1 JSON API and its OpenAPI
//! document (DESIGN section 10, rules S1 to S8).
//!
//! The main type is [`Server`]: [`Server::bind`] an address with a [`Platform`] engine on
//! SQLite or PostgreSQL ([`AnyStore`]), a [`JwtKey`] and the [`Limits`], then [`Server::run`] it until a shutdown
//! future completes. [`ApiDoc`] is the OpenAPI 3.1 document, generated from the handlers
//! and served at `/openapi.json`. docs/api.md describes every endpoint. Under `/api/v1`
//! the same listener speaks the Neu.ro-compatible auth API (rule N1, module `neuro`), so
//! the published `neuro-auth-client` and the Neu.ro/Apolo SDK work against it unchanged.
//! [`Server::with_backendai`] opens a second listener speaking, at its root, the folder
//! part of Backend.AI's manager API (rule B1, module [`backendai`]): requests signed with a
//! keypair as the published `backend.ai-client` signs them, folders by name or UUID,
//! problem+json errors.
//!
//! The key decision: **the server is an adapter and adds no rule.** A request acts as the
//! identity of its bearer token (rule S2); a mutation is the engine's mutation as that
//! identity, authorized by the engine; a read runs on one consistent read view bound to the
//! identity ([`acl_core::Viewer`]), which authorizes reads of another principal's
//! permissions in the core, exactly as the CLI's reads are. One engine is shared by every
//! worker; each engine call runs on a blocking thread (`spawn_blocking`), so SQLite's I/O
//! never stalls the async executor.
//!
//! # Example
//!
//! Serving a SQLite file until Ctrl-C (what `acl serve` does, with its flags):
//!
//! ```no_run
//! use acl_core::Schema;
//! use acl_platform::Platform;
//! use acl_server::{JwtKey, Limits, Server};
//! use acl_sqlite::SqliteStore;
//!
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Platform::new(SqliteStore::open("acl.db")?.into(), Schema::standard());
//! let key = JwtKey::new(std::env::var("ACL_JWT_SECRET")?.as_bytes())?;
//! let server = Server::bind(engine, key, Limits::default(), "127.0.0.1:8080").await?;
//! eprintln!("listening on http://{}", server.local_addr()?);
//! let engine = server
//!     .run(async {
//!         let _ = tokio::signal::ctrl_c().await;
//!     })
//!     .await;
//! drop(engine); // closes the store
//! # Ok(())
//! # }
//! ```
//!
//! # Invariants
//!
//! - No input makes the server panic or answer 500: every failure is an [`ApiError`] with
//!   a status of rule S5 and a JSON body `{"error": {"kind", "message"}}` (on the Neu.ro
//!   routes `{"error": "TEXT"}`, with the statuses and texts its clients expect); a storage
//!   failure is 503.
//! - A failed request changes nothing: each mutation (a batch included) is one engine
//!   transaction, refused before it commits. (A request timeout, 408, stops the waiting,
//!   not the work: a mutation answered 408 may still commit.)
//! - Every answer of the v1 API carries the revision it was read at or produced; every read
//!   accepts `at_least` and waits, bounded by [`Limits::max_wait`], for the store to reach
//!   it.
//! - No token or secret reaches a log or an error: logs name the method, route, status and
//!   request id, never a header; [`JwtKey`]'s `Debug` hides the secret (rule S8).
//!
//! [`Platform`]: acl_platform::Platform
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod app;
mod auth;
pub mod backendai;
mod changes;
mod error;
mod extract;
mod folders;
mod metrics;
mod neuro;
mod policies;
mod server;
mod store;
mod users;
mod writes;

pub use app::{Engine, Limits, now};
pub use auth::{JwtKey, KeyError, MIN_SECRET_BYTES, NEURO_IDENTITY_CLAIM, Verified};
pub use error::{ApiError, ErrorBody, ErrorDetail, Result, kind_status};
pub use server::{ApiDoc, ServeError, Server};
pub use store::{AnyRead, AnyStore, AnyWrite, is_postgres_url};
