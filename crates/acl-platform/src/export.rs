//! CSV export of users, keypairs, resource policies and sessions (rule A7).
//!
//! acl-core does no file I/O: the CSV is written to any `std::io::Write` the caller hands
//! in (a `Vec<u8>`, a file the adapter opened), and the file name the user chose is
//! validated by [`ExportFileName`] for the adapter to use. Columns are named in a header
//! row; secrets and password hashes are never exported.

use std::fmt;
use std::io;

use crate::account::{Account, Keypair};
use crate::policy::{Limit, Resource, ResourcePolicy, Session};
use acl_core::{Error, FieldError, FieldProblem, Result};

/// The longest export file name, in characters (rule A7).
pub const MAX_EXPORT_FILE_NAME: usize = 255;

/// A file name for a CSV export (rule A7): 1 to 255 characters, no `/`, `\`, NUL or control
/// character, not `.` or `..`. A bare name: the adapter decides the directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExportFileName(String);

impl ExportFileName {
    /// Validates `text`, naming every failing rule.
    pub fn new(text: &str) -> Result<ExportFileName> {
        const F: &str = "file name";
        let mut problems = Vec::new();
        let mut add = |problem| problems.push(FieldError { field: F, problem });
        if text.is_empty() {
            add(FieldProblem::Empty);
        }
        if text.chars().count() > MAX_EXPORT_FILE_NAME {
            add(FieldProblem::TooLong {
                max: MAX_EXPORT_FILE_NAME,
            });
        }
        if text.contains(['/', '\\']) {
            add(FieldProblem::BadSyntax {
                reason: "a file name has no `/` or `\\`: it is not a path",
            });
        }
        if text.chars().any(char::is_control) {
            add(FieldProblem::ControlCharacter);
        }
        if text == "." || text == ".." {
            add(FieldProblem::Reserved {
                reason: "`.` and `..` are directories",
            });
        }
        if problems.is_empty() {
            Ok(ExportFileName(text.to_owned()))
        } else {
            Err(Error::InvalidFields(problems))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExportFileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn csv_err(e: impl fmt::Display) -> Error {
    Error::Storage(format!("writing the csv export: {e}"))
}

/// Writes a header and rows to `out`.
fn write_csv(
    out: &mut dyn io::Write,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(header).map_err(csv_err)?;
    for row in rows {
        writer.write_record(&row).map_err(csv_err)?;
    }
    writer.flush().map_err(csv_err)
}

fn limit_text(limit: Limit) -> String {
    limit.to_string()
}

/// Writes accounts as CSV: `username,email,full_name,role,status,need_password_change,
/// domain,resource_policy,created_ms`. No password hash.
pub(crate) fn accounts_csv(accounts: &[Account], out: &mut dyn io::Write) -> Result<()> {
    write_csv(
        out,
        &[
            "username",
            "email",
            "full_name",
            "role",
            "status",
            "need_password_change",
            "domain",
            "resource_policy",
            "created_ms",
        ],
        accounts.iter().map(|a| {
            vec![
                a.user.to_string(),
                a.email.to_string(),
                a.full_name.clone(),
                a.role.to_string(),
                a.status.to_string(),
                a.need_password_change.to_string(),
                a.domain.clone(),
                a.policy.to_string(),
                a.created.0.to_string(),
            ]
        }),
    )
}

/// Writes keypairs as CSV: `access_key,username,active,resource_policy,created_ms`. No
/// secret, no hash.
pub(crate) fn keypairs_csv(keypairs: &[Keypair], out: &mut dyn io::Write) -> Result<()> {
    write_csv(
        out,
        &[
            "access_key",
            "username",
            "active",
            "resource_policy",
            "created_ms",
        ],
        keypairs.iter().map(|k| {
            vec![
                k.access_key.to_string(),
                k.user.to_string(),
                k.active.to_string(),
                k.policy.to_string(),
                k.created.0.to_string(),
            ]
        }),
    )
}

/// Writes policies as CSV: `name`, one column per [`Resource`] (a number or `unlimited`),
/// `allowed_hosts` (`*` for any, else space-separated).
pub(crate) fn policies_csv(policies: &[ResourcePolicy], out: &mut dyn io::Write) -> Result<()> {
    let mut header = vec!["name"];
    header.extend(Resource::ALL.iter().map(|r| r.as_str()));
    header.push("allowed_hosts");
    write_csv(
        out,
        &header,
        policies.iter().map(|p| {
            let mut row = vec![p.name.to_string()];
            row.extend(Resource::ALL.iter().map(|r| limit_text(p.limits.get(*r))));
            row.push(p.hosts.to_string());
            row
        }),
    )
}

/// Writes sessions as CSV: `id,username,cpu,ram_gb,gpu,fgpu_hundredths,containers,
/// started_ms,stopped_ms` (`stopped_ms` empty while running).
pub(crate) fn sessions_csv(sessions: &[Session], out: &mut dyn io::Write) -> Result<()> {
    write_csv(
        out,
        &[
            "id",
            "username",
            "cpu",
            "ram_gb",
            "gpu",
            "fgpu_hundredths",
            "containers",
            "started_ms",
            "stopped_ms",
        ],
        sessions.iter().map(|s| {
            vec![
                s.id.to_string(),
                s.user.to_string(),
                s.request.cpu.to_string(),
                s.request.ram_gb.to_string(),
                s.request.gpu.to_string(),
                s.request.fgpu_hundredths.to_string(),
                s.request.containers.to_string(),
                s.started.0.to_string(),
                s.stopped.map(|t| t.0.to_string()).unwrap_or_default(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    // rule A7: file names up to 255 characters; 256 refused
    #[test]
    fn file_name_limits() {
        assert!(ExportFileName::new(&"a".repeat(255)).is_ok());
        assert!(ExportFileName::new("users.csv").is_ok());
        let too_long = ExportFileName::new(&"é".repeat(256)).unwrap_err();
        assert_eq!(
            too_long,
            Error::InvalidFields(vec![FieldError {
                field: "file name",
                problem: FieldProblem::TooLong { max: 255 }
            }])
        );
        for bad in ["", "a/b.csv", "..", "a\nb", "c:\\x"] {
            assert!(ExportFileName::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn policies_have_a_header_and_unlimited_cells() {
        let mut out = Vec::new();
        policies_csv(&[ResourcePolicy::default_policy()], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "name,cpu,ram_gb,gpu,fgpu_hundredths,containers_per_session,idle_timeout_secs,\
             concurrent_sessions,folder_capacity_gb,folders,allowed_hosts"
        );
        assert_eq!(
            lines.next().unwrap(),
            "default,unlimited,unlimited,unlimited,unlimited,unlimited,unlimited,unlimited,\
             unlimited,unlimited,*"
        );
    }
}
