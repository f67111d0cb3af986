//! `acl policy ...`, `acl session ...`, `acl export ...`: resource policies, admission
//! of sessions, and CSV exports (rules A6, A7), each through the engine.

use std::collections::BTreeSet;
use std::path::Path;

use acl_core::Error;

use acl_platform::{
    ExportFileName, Hosts, Limit, PolicyName, ResourcePolicy, Session, SessionId, SessionRequest,
};
use serde_json::json;

use super::applied;
use crate::cli::{ExportWhat, PolicyCommand, PolicyLimits, SessionCommand};
use crate::ctx::Ctx;
use crate::error::{CliError, Result};
use crate::output::{Output, to_json};

/// Runs `acl policy ...`.
pub fn policy(ctx: &Ctx, command: &PolicyCommand) -> Result<Output> {
    match command {
        PolicyCommand::Create { name, limits } => {
            let mut policy = ResourcePolicy::default_policy();
            policy.name = PolicyName::new(name)?;
            apply_limits(&mut policy, limits)?;
            let done = ctx.engine().create_policy(&ctx.caller()?, &policy)?;
            Ok(applied(format!("created policy `{name}`"), &done))
        }
        PolicyCommand::Update { name, limits } => {
            let name = PolicyName::new(name)?;
            let mut policy = ctx
                .engine()
                .policies(&ctx.actor()?)?
                .into_iter()
                .find(|p| p.name == name)
                .ok_or_else(|| Error::not_found("policy", name.as_str()))?;
            apply_limits(&mut policy, limits)?;
            let done = ctx.engine().update_policy(&ctx.caller()?, &policy)?;
            Ok(applied(
                format!("updated policy `{}`", name.as_str()),
                &done,
            ))
        }
        PolicyCommand::Delete { name } => {
            let name = PolicyName::new(name)?;
            let done = ctx.engine().delete_policy(&ctx.caller()?, &name)?;
            Ok(applied(
                format!("deleted policy `{}`", name.as_str()),
                &done,
            ))
        }
        PolicyCommand::List => {
            let policies = ctx.engine().policies(&ctx.actor()?)?;
            let rows = policies
                .iter()
                .map(|p| {
                    let l = &p.limits;
                    vec![
                        p.name.as_str().to_owned(),
                        l.cpu.to_string(),
                        l.ram_gb.to_string(),
                        l.gpu.to_string(),
                        fgpu_text(l.fgpu_hundredths),
                        l.concurrent_sessions.to_string(),
                        l.folders.to_string(),
                        hosts_text(&p.hosts),
                    ]
                })
                .collect();
            Ok(Output::table(
                &[
                    "name", "cpu", "ram", "gpu", "fgpu", "sessions", "folders", "hosts",
                ],
                rows,
                &policies,
                None,
            ))
        }
    }
}

fn fgpu_text(limit: Limit) -> String {
    match limit {
        Limit::Unlimited => "unlimited".into(),
        Limit::Max(h) => format!("{}.{:02}", h / 100, h % 100),
    }
}

fn hosts_text(hosts: &Hosts) -> String {
    match hosts {
        Hosts::Any => "any".into(),
        Hosts::Only(set) => set.iter().cloned().collect::<Vec<_>>().join(","),
    }
}

/// A limit from the command line: a number or `unlimited`.
fn limit(option: &str, text: &str) -> Result<Limit> {
    if text == "unlimited" {
        return Ok(Limit::Unlimited);
    }
    text.parse().map(Limit::Max).map_err(|_| {
        Error::InvalidInput(format!(
            "invalid --{option} `{text}`: expected a whole number or `unlimited`"
        ))
        .into()
    })
}

/// Fractional GPUs as hundredths: `1.5` is 150. Two decimals at most.
fn hundredths(option: &str, text: &str) -> Result<u64> {
    let bad = || -> CliError {
        Error::InvalidInput(format!(
            "invalid --{option} `{text}`: expected a number with at most two decimals"
        ))
        .into()
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 2 || (whole.is_empty() && fraction.is_empty()) {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let fraction: u64 = if fraction.is_empty() {
        0
    } else {
        let padded = format!("{fraction:0<2}");
        padded.parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(bad)
}

fn apply_limits(policy: &mut ResourcePolicy, given: &PolicyLimits) -> Result<()> {
    let l = &mut policy.limits;
    let fields: [(&str, &Option<String>, &mut Limit); 8] = [
        ("cpu", &given.cpu, &mut l.cpu),
        ("ram", &given.ram, &mut l.ram_gb),
        ("gpu", &given.gpu, &mut l.gpu),
        (
            "containers-per-session",
            &given.containers_per_session,
            &mut l.containers_per_session,
        ),
        (
            "idle-timeout",
            &given.idle_timeout,
            &mut l.idle_timeout_secs,
        ),
        (
            "concurrent-sessions",
            &given.concurrent_sessions,
            &mut l.concurrent_sessions,
        ),
        ("max-folders", &given.max_folders, &mut l.folders),
        (
            "folder-capacity",
            &given.folder_capacity,
            &mut l.folder_capacity_gb,
        ),
    ];
    for (option, text, slot) in fields {
        if let Some(text) = text {
            *slot = limit(option, text)?;
        }
    }
    if let Some(text) = &given.fgpu {
        l.fgpu_hundredths = if text == "unlimited" {
            Limit::Unlimited
        } else {
            Limit::Max(hundredths("fgpu", text)?)
        };
    }
    if let Some(text) = &given.allowed_hosts {
        policy.hosts = if text == "any" {
            Hosts::Any
        } else {
            Hosts::Only(
                text.split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned)
                    .collect::<BTreeSet<_>>(),
            )
        };
    }
    Ok(())
}

/// Runs `acl session ...`.
pub fn session(ctx: &Ctx, command: &SessionCommand) -> Result<Output> {
    match command {
        SessionCommand::Start {
            user,
            cpu,
            ram,
            gpu,
            fgpu,
            containers,
        } => {
            let user = ctx.user(user)?;
            let request = SessionRequest {
                cpu: *cpu,
                ram_gb: *ram,
                gpu: *gpu,
                fgpu_hundredths: hundredths("fgpu", fgpu)?,
                containers: *containers,
            };
            let done = ctx
                .engine()
                .start_session_for(&ctx.caller()?, &user, &request)?;
            Ok(applied(
                format!("started session {} for `{user}`", done.value.id.as_str()),
                &done,
            ))
        }
        SessionCommand::Stop { id } => {
            let id = SessionId::new(id)?;
            let done = ctx.engine().stop_session(&ctx.caller()?, &id)?;
            Ok(applied(format!("stopped session {}", id.as_str()), &done))
        }
        SessionCommand::List { user } => {
            let user = match user {
                Some(user) => ctx.user(user)?,
                None => ctx.actor()?,
            };
            let sessions = ctx.engine().sessions(&ctx.actor()?, &user)?;
            let rows = sessions.iter().map(session_row).collect();
            Ok(Output::table(
                &[
                    "id",
                    "user",
                    "cpu",
                    "ram",
                    "gpu",
                    "fgpu",
                    "containers",
                    "state",
                ],
                rows,
                &sessions,
                None,
            ))
        }
        SessionCommand::Recalculate { user } => {
            let user = match user {
                Some(user) => ctx.user(user)?,
                None => ctx.actor()?,
            };
            let report = ctx.engine().usage(&ctx.actor()?, &user)?;
            Ok(Output::new(
                format!(
                    "usage of `{user}` under policy `{}`: {}\n",
                    report.policy.name.as_str(),
                    to_json(&report.usage)
                ),
                to_json(&report),
            ))
        }
    }
}

fn session_row(s: &Session) -> Vec<String> {
    let r = &s.request;
    vec![
        s.id.as_str().to_owned(),
        s.user.to_string(),
        r.cpu.to_string(),
        r.ram_gb.to_string(),
        r.gpu.to_string(),
        fgpu_text(Limit::Max(r.fgpu_hundredths)),
        r.containers.to_string(),
        if s.is_running() { "running" } else { "stopped" }.to_owned(),
    ]
}

/// `acl export users|keypairs|policies|sessions --output FILE` (rule A7). The CSV is made
/// in memory first, so a refused export writes no file.
pub fn export(ctx: &Ctx, what: ExportWhat, output: &Path) -> Result<Output> {
    let file_name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    ExportFileName::new(&file_name)?;
    let viewer = ctx.actor()?;
    let engine = ctx.engine();
    let mut csv: Vec<u8> = Vec::new();
    match what {
        ExportWhat::Users => engine.export_accounts(&viewer, &mut csv)?,
        ExportWhat::Keypairs => engine.export_keypairs(&viewer, &mut csv)?,
        ExportWhat::Policies => engine.export_policies(&viewer, &mut csv)?,
        ExportWhat::Sessions => engine.export_sessions(&viewer, &mut csv)?,
    }
    std::fs::write(output, &csv).map_err(|source| CliError::Io {
        action: "write",
        path: output.to_owned(),
        source,
    })?;
    let rows = csv
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        .saturating_sub(1);
    Ok(Output::new(
        format!("exported {rows} rows to {}\n", output.display()),
        json!({ "rows": rows, "output": output }),
    ))
}
