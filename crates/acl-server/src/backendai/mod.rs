//! The Backend.AI-compatible manager API (issue 20, DESIGN rule B1), built piece by piece.
//! This far: [`signature`], the request signing of the published `backend.ai-client`,
//! verified as the manager verifies it and tested on the client's own vectors.

pub mod signature;
