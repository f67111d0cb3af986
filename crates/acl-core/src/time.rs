//! Time as the core sees it: a number passed in by the caller. The core reads no clock.

use serde::{Deserialize, Serialize};

/// A point in time, in milliseconds since the Unix epoch. The core never reads a clock:
/// callers pass the time of each mutation in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);
