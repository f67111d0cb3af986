//! The accumulator of field problems: a record's validation names every failing rule of
//! every field at once, in one [`Error::InvalidFields`].

use acl_core::{Error, FieldError, FieldProblem, Result};

/// Collects the problems of fields into one [`Error::InvalidFields`].
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<FieldError>);

impl Problems {
    pub(crate) fn add(&mut self, field: &'static str, problem: FieldProblem) {
        self.0.push(FieldError { field, problem });
    }

    /// Keeps the field problems of `result`; returns its value when it had none. Any other
    /// error is returned as it is.
    pub(crate) fn take<T>(&mut self, result: Result<T>) -> Result<Option<T>> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(Error::InvalidFields(found)) => {
                self.0.extend(found);
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// The problems as an error, even when there are none (for code paths where a missing
    /// value implies a recorded problem).
    pub(crate) fn into_error(self) -> Error {
        Error::InvalidFields(self.0)
    }

    pub(crate) fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidFields(self.0))
        }
    }
}
