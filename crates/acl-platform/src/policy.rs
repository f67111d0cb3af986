//! Resource policies, the session ledger and admission (rule A6): typed rows and the pure
//! decision whether a session or a folder is admitted.
//!
//! Amounts are integers: CPU cores, RAM in GB, GPUs, fractional GPUs in hundredths
//! (`fgpu_hundredths: 150` is 1.5 fGPU), containers, seconds, sessions, GB and folders.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::problems::Problems;
use acl_core::PrincipalName;
use acl_core::Timestamp;
use acl_core::{Error, FieldError, FieldProblem, Result, clip};

/// A resource policy's name (rule A6): 1 to 64 characters of `[A-Za-z0-9._-]`, not starting
/// with `.`; its immutable key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PolicyName(String);

impl PolicyName {
    /// The policy every store has from init: unlimited, every host allowed.
    pub const DEFAULT: &'static str = "default";

    /// Validates `text` as a policy name.
    pub fn new(text: &str) -> Result<PolicyName> {
        if valid_word(text) {
            Ok(PolicyName(text.to_owned()))
        } else {
            Err(Error::InvalidFields(vec![FieldError {
                field: "policy name",
                problem: FieldProblem::BadSyntax {
                    reason: "a policy name is 1 to 64 characters of [A-Za-z0-9._-], not starting with `.`",
                },
            }]))
        }
    }

    /// `default`.
    pub fn default_policy() -> PolicyName {
        PolicyName(PolicyName::DEFAULT.to_owned())
    }

    /// The name's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn valid_word(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && !text.starts_with('.')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PolicyName {
    type Error = Error;
    fn try_from(text: String) -> Result<PolicyName> {
        PolicyName::new(&text)
    }
}

impl From<PolicyName> for String {
    fn from(name: PolicyName) -> String {
        name.0
    }
}

/// One limit of a policy: a maximum, or explicitly unlimited (rule A6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// No limit (∞).
    Unlimited,
    /// At most this much.
    Max(u64),
}

impl Limit {
    /// Whether `amount` is within the limit.
    pub fn allows(self, amount: u64) -> bool {
        match self {
            Limit::Unlimited => true,
            Limit::Max(max) => amount <= max,
        }
    }

    /// The maximum, `None` when unlimited.
    pub fn max(self) -> Option<u64> {
        match self {
            Limit::Unlimited => None,
            Limit::Max(max) => Some(max),
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Unlimited => f.write_str("unlimited"),
            Limit::Max(max) => write!(f, "{max}"),
        }
    }
}

/// A limited resource, with the largest limit a policy may set for it (rule A6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// CPU cores in use at once (max 512).
    Cpu,
    /// RAM in GB in use at once (max 1024).
    RamGb,
    /// Physical GPUs in use at once (max 64).
    Gpu,
    /// Fractional GPUs in hundredths in use at once (max 256 fGPU, 25600 hundredths).
    FgpuHundredths,
    /// Containers per session (max 100).
    ContainersPerSession,
    /// Idle timeout in seconds (max 15552000, about 180 days); descriptive.
    IdleTimeoutSecs,
    /// Concurrent sessions (max 100).
    ConcurrentSessions,
    /// Capacity of one folder in GB (max 1024); descriptive.
    FolderCapacityGb,
    /// Folders owned or shared with the user (max 50).
    Folders,
}

impl Resource {
    /// Every resource, in column order.
    pub const ALL: [Resource; 9] = [
        Resource::Cpu,
        Resource::RamGb,
        Resource::Gpu,
        Resource::FgpuHundredths,
        Resource::ContainersPerSession,
        Resource::IdleTimeoutSecs,
        Resource::ConcurrentSessions,
        Resource::FolderCapacityGb,
        Resource::Folders,
    ];

    /// The snake_case name, used in errors and CSV headers.
    pub const fn as_str(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::RamGb => "ram_gb",
            Resource::Gpu => "gpu",
            Resource::FgpuHundredths => "fgpu_hundredths",
            Resource::ContainersPerSession => "containers_per_session",
            Resource::IdleTimeoutSecs => "idle_timeout_secs",
            Resource::ConcurrentSessions => "concurrent_sessions",
            Resource::FolderCapacityGb => "folder_capacity_gb",
            Resource::Folders => "folders",
        }
    }

    /// The largest limit a policy may set (rule A6).
    pub const fn maximum(self) -> u64 {
        match self {
            Resource::Cpu => 512,
            Resource::RamGb => 1024,
            Resource::Gpu => 64,
            Resource::FgpuHundredths => 25_600,
            Resource::ContainersPerSession => 100,
            Resource::IdleTimeoutSecs => 15_552_000,
            Resource::ConcurrentSessions => 100,
            Resource::FolderCapacityGb => 1024,
            Resource::Folders => 50,
        }
    }
}

/// The limits of a policy, one per [`Resource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limits {
    /// CPU cores.
    pub cpu: Limit,
    /// RAM in GB.
    pub ram_gb: Limit,
    /// GPUs.
    pub gpu: Limit,
    /// fGPU in hundredths.
    pub fgpu_hundredths: Limit,
    /// Containers per session.
    pub containers_per_session: Limit,
    /// Idle timeout in seconds.
    pub idle_timeout_secs: Limit,
    /// Concurrent sessions.
    pub concurrent_sessions: Limit,
    /// Folder capacity in GB.
    pub folder_capacity_gb: Limit,
    /// Folders.
    pub folders: Limit,
}

impl Limits {
    /// Every limit unlimited.
    pub const fn unlimited() -> Limits {
        Limits {
            cpu: Limit::Unlimited,
            ram_gb: Limit::Unlimited,
            gpu: Limit::Unlimited,
            fgpu_hundredths: Limit::Unlimited,
            containers_per_session: Limit::Unlimited,
            idle_timeout_secs: Limit::Unlimited,
            concurrent_sessions: Limit::Unlimited,
            folder_capacity_gb: Limit::Unlimited,
            folders: Limit::Unlimited,
        }
    }

    /// The limit of `resource`.
    pub const fn get(&self, resource: Resource) -> Limit {
        match resource {
            Resource::Cpu => self.cpu,
            Resource::RamGb => self.ram_gb,
            Resource::Gpu => self.gpu,
            Resource::FgpuHundredths => self.fgpu_hundredths,
            Resource::ContainersPerSession => self.containers_per_session,
            Resource::IdleTimeoutSecs => self.idle_timeout_secs,
            Resource::ConcurrentSessions => self.concurrent_sessions,
            Resource::FolderCapacityGb => self.folder_capacity_gb,
            Resource::Folders => self.folders,
        }
    }

    /// These limits with `resource` set to `limit`.
    pub const fn with(mut self, resource: Resource, limit: Limit) -> Limits {
        match resource {
            Resource::Cpu => self.cpu = limit,
            Resource::RamGb => self.ram_gb = limit,
            Resource::Gpu => self.gpu = limit,
            Resource::FgpuHundredths => self.fgpu_hundredths = limit,
            Resource::ContainersPerSession => self.containers_per_session = limit,
            Resource::IdleTimeoutSecs => self.idle_timeout_secs = limit,
            Resource::ConcurrentSessions => self.concurrent_sessions = limit,
            Resource::FolderCapacityGb => self.folder_capacity_gb = limit,
            Resource::Folders => self.folders = limit,
        }
        self
    }

    /// Refuses, naming every one, the limits above their maximum (rule A6).
    pub fn validate(&self) -> Result<()> {
        let mut problems = Problems::default();
        for resource in Resource::ALL {
            if let Limit::Max(value) = self.get(resource)
                && value > resource.maximum()
            {
                problems.add(
                    resource.as_str(),
                    FieldProblem::AboveMaximum {
                        max: resource.maximum(),
                    },
                );
            }
        }
        problems.into_result()
    }
}

/// The storage hosts a policy allows folders on (rule A6).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hosts {
    /// Every host.
    Any,
    /// Only these (possibly none).
    Only(BTreeSet<String>),
}

impl Hosts {
    /// Whether `host` is allowed.
    pub fn allows(&self, host: &str) -> bool {
        match self {
            Hosts::Any => true,
            Hosts::Only(hosts) => hosts.contains(host),
        }
    }

    /// Refuses an empty host, one over 255 bytes or one with a control character.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Problems::default();
        if let Hosts::Only(hosts) = self {
            for host in hosts {
                if host.is_empty() {
                    problems.add("allowed host", FieldProblem::Empty);
                } else if host.len() > 255 {
                    problems.add("allowed host", FieldProblem::TooLong { max: 255 });
                }
                if host.chars().any(char::is_control) {
                    problems.add("allowed host", FieldProblem::ControlCharacter);
                }
            }
        }
        problems.into_result()
    }
}

impl fmt::Display for Hosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hosts::Any => f.write_str("*"),
            Hosts::Only(hosts) => f.write_str(
                &hosts
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }
}

/// A resource policy (rule A6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePolicy {
    /// Its immutable name.
    pub name: PolicyName,
    /// Its limits.
    pub limits: Limits,
    /// The hosts folders may be created on.
    pub hosts: Hosts,
}

impl ResourcePolicy {
    /// The `default` policy: unlimited, every host.
    pub fn default_policy() -> ResourcePolicy {
        ResourcePolicy {
            name: PolicyName::default_policy(),
            limits: Limits::unlimited(),
            hosts: Hosts::Any,
        }
    }

    /// Refuses limits above their maxima and malformed hosts, naming every one.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Problems::default();
        problems.take(self.limits.validate())?;
        problems.take(self.hosts.validate())?;
        problems.into_result()
    }
}

/// A session's id: `s{n}`, from the revision that started it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    /// Validates `text` as a session id (1 to 64 of `[A-Za-z0-9._-]`, not starting with `.`).
    pub fn new(text: &str) -> Result<SessionId> {
        if valid_word(text) {
            Ok(SessionId(text.to_owned()))
        } else {
            Err(Error::InvalidInput(format!(
                "invalid session id `{}`: expected 1 to 64 characters of [A-Za-z0-9._-]",
                clip(text)
            )))
        }
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SessionId {
    type Error = Error;
    fn try_from(text: String) -> Result<SessionId> {
        SessionId::new(&text)
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> String {
        id.0
    }
}

/// What a session asks for (rule A6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct SessionRequest {
    /// CPU cores.
    pub cpu: u64,
    /// RAM in GB.
    pub ram_gb: u64,
    /// GPUs.
    pub gpu: u64,
    /// fGPU in hundredths.
    pub fgpu_hundredths: u64,
    /// Containers (at least one).
    pub containers: u64,
}

impl SessionRequest {
    /// Refuses a request of no container, or of more than any limit could allow.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Problems::default();
        if self.containers == 0 {
            problems.add(
                "containers",
                FieldProblem::BadSyntax {
                    reason: "a session has at least one container",
                },
            );
        }
        for (resource, amount) in [
            (Resource::Cpu, self.cpu),
            (Resource::RamGb, self.ram_gb),
            (Resource::Gpu, self.gpu),
            (Resource::FgpuHundredths, self.fgpu_hundredths),
            (Resource::ContainersPerSession, self.containers),
        ] {
            // Even an unlimited policy is bounded by what any policy could grant.
            if amount > resource.maximum() {
                problems.add(
                    resource.as_str(),
                    FieldProblem::AboveMaximum {
                        max: resource.maximum(),
                    },
                );
            }
        }
        problems.into_result()
    }
}

/// A session of the ledger: started by a user, running until stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Its id.
    pub id: SessionId,
    /// Whose it is.
    pub user: PrincipalName,
    /// What it holds while running.
    pub request: SessionRequest,
    /// When it started.
    pub started: Timestamp,
    /// When it stopped; `None` while running.
    pub stopped: Option<Timestamp>,
}

impl Session {
    /// Whether it is running.
    pub fn is_running(&self) -> bool {
        self.stopped.is_none()
    }
}

/// What a user's running sessions hold, summed from the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Usage {
    /// CPU cores.
    pub cpu: u64,
    /// RAM in GB.
    pub ram_gb: u64,
    /// GPUs.
    pub gpu: u64,
    /// fGPU in hundredths.
    pub fgpu_hundredths: u64,
    /// Running sessions.
    pub sessions: u64,
}

impl Usage {
    /// The sum over the running sessions of `sessions`.
    pub fn of<'a>(sessions: impl IntoIterator<Item = &'a Session>) -> Usage {
        let mut usage = Usage::default();
        for session in sessions.into_iter().filter(|s| s.is_running()) {
            let r = session.request;
            usage.cpu = usage.cpu.saturating_add(r.cpu);
            usage.ram_gb = usage.ram_gb.saturating_add(r.ram_gb);
            usage.gpu = usage.gpu.saturating_add(r.gpu);
            usage.fgpu_hundredths = usage.fgpu_hundredths.saturating_add(r.fgpu_hundredths);
            usage.sessions = usage.sessions.saturating_add(1);
        }
        usage
    }
}

/// Whether `limits` admit `request` on top of `usage` (rule A6); a refusal names the
/// resource, its limit, the usage and the request. Pure.
pub fn admit_session(limits: &Limits, usage: &Usage, request: &SessionRequest) -> Result<()> {
    request.validate()?;
    let checks = [
        (Resource::ContainersPerSession, 0, request.containers),
        (Resource::ConcurrentSessions, usage.sessions, 1),
        (Resource::Cpu, usage.cpu, request.cpu),
        (Resource::RamGb, usage.ram_gb, request.ram_gb),
        (Resource::Gpu, usage.gpu, request.gpu),
        (
            Resource::FgpuHundredths,
            usage.fgpu_hundredths,
            request.fgpu_hundredths,
        ),
    ];
    for (resource, used, asked) in checks {
        if let Limit::Max(limit) = limits.get(resource)
            && used.saturating_add(asked) > limit
        {
            return Err(Error::AdmissionRefused {
                resource: resource.as_str(),
                limit,
                usage: used,
                request: asked,
            });
        }
    }
    Ok(())
}

/// Whether `policy` admits one more folder on `host` for a user with `folders` folders
/// (rule A6).
pub fn admit_folder(policy: &ResourcePolicy, folders: u64, host: &str) -> Result<()> {
    if !policy.hosts.allows(host) {
        return Err(Error::NotPermitted(format!(
            "host `{}` is not allowed by resource policy `{}` (allowed: {})",
            clip(host),
            policy.name,
            policy.hosts
        )));
    }
    if let Limit::Max(limit) = policy.limits.folders
        && folders.saturating_add(1) > limit
    {
        return Err(Error::AdmissionRefused {
            resource: Resource::Folders.as_str(),
            limit,
            usage: folders,
            request: 1,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn request(cpu: u64, ram_gb: u64) -> SessionRequest {
        SessionRequest {
            cpu,
            ram_gb,
            containers: 1,
            ..SessionRequest::default()
        }
    }

    // rule A6: every limit within its maximum or unlimited; every excess named
    #[test]
    fn limits_at_their_maxima() {
        for resource in Resource::ALL {
            let max = resource.maximum();
            let at = Limits::unlimited().with(resource, Limit::Max(max));
            assert!(at.validate().is_ok(), "{resource:?}");
            let over = Limits::unlimited().with(resource, Limit::Max(max + 1));
            assert_eq!(
                over.validate().unwrap_err(),
                Error::InvalidFields(vec![FieldError {
                    field: resource.as_str(),
                    problem: FieldProblem::AboveMaximum { max }
                }])
            );
        }
        let two = Limits::unlimited()
            .with(Resource::Cpu, Limit::Max(513))
            .with(Resource::Folders, Limit::Max(51));
        let Err(Error::InvalidFields(found)) = two.validate() else {
            panic!("refused")
        };
        assert_eq!(found.len(), 2);
    }

    // rule A6: a refusal names resource, limit, usage and request
    #[test]
    fn admission_table() {
        let limits = Limits::unlimited()
            .with(Resource::Cpu, Limit::Max(4))
            .with(Resource::RamGb, Limit::Max(8))
            .with(Resource::ConcurrentSessions, Limit::Max(2))
            .with(Resource::ContainersPerSession, Limit::Max(1));
        let usage = Usage {
            cpu: 3,
            ram_gb: 2,
            sessions: 1,
            ..Usage::default()
        };
        // (request, refusal as resource, limit, usage, request)
        type Refusal = Option<(&'static str, u64, u64, u64)>;
        let cases: &[(SessionRequest, Refusal)] = &[
            (request(1, 6), None),
            (request(2, 1), Some(("cpu", 4, 3, 2))),
            (request(1, 7), Some(("ram_gb", 8, 2, 7))),
            (
                SessionRequest {
                    containers: 2,
                    ..request(0, 0)
                },
                Some(("containers_per_session", 1, 0, 2)),
            ),
        ];
        for (req, expected) in cases {
            let got = admit_session(&limits, &usage, req);
            match expected {
                None => assert!(got.is_ok(), "{req:?}: {got:?}"),
                Some((resource, limit, used, asked)) => assert_eq!(
                    got.unwrap_err(),
                    Error::AdmissionRefused {
                        resource,
                        limit: *limit,
                        usage: *used,
                        request: *asked
                    },
                    "{req:?}"
                ),
            }
        }
        let full = Usage {
            sessions: 2,
            ..usage
        };
        assert!(matches!(
            admit_session(&limits, &full, &request(0, 0)),
            Err(Error::AdmissionRefused {
                resource: "concurrent_sessions",
                ..
            })
        ));
        let err = admit_session(&limits, &usage, &request(2, 0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`cpu` refused: limit 4, in use 3, requested 2"
        );
        assert!(admit_session(&limits, &usage, &request(0, 0)).is_ok());
        assert!(admit_session(&Limits::unlimited(), &usage, &SessionRequest::default()).is_err());
    }

    #[test]
    fn folder_admission() {
        let mut policy = ResourcePolicy::default_policy();
        assert!(admit_folder(&policy, 1000, "anywhere").is_ok());
        policy.limits.folders = Limit::Max(2);
        policy.hosts = Hosts::Only(["h1".to_owned()].into());
        assert!(admit_folder(&policy, 1, "h1").is_ok());
        assert!(matches!(
            admit_folder(&policy, 2, "h1"),
            Err(Error::AdmissionRefused {
                resource: "folders",
                limit: 2,
                usage: 2,
                request: 1
            })
        ));
        assert!(matches!(
            admit_folder(&policy, 0, "h2"),
            Err(Error::NotPermitted(_))
        ));
    }

    #[test]
    fn usage_counts_running_sessions_only() {
        let session = |id: &str, stopped: Option<i64>| Session {
            id: SessionId::new(id).unwrap(),
            user: PrincipalName::new("u").unwrap(),
            request: request(2, 3),
            started: Timestamp(1),
            stopped: stopped.map(Timestamp),
        };
        let ledger = [
            session("s1", None),
            session("s2", Some(5)),
            session("s3", None),
        ];
        assert_eq!(
            Usage::of(&ledger),
            Usage {
                cpu: 4,
                ram_gb: 6,
                sessions: 2,
                ..Usage::default()
            }
        );
    }
}
