//! The library on an embedded SQLite file, one scenario end to end, each step printed with
//! its decision and reason: what `acl demo` (the README's quickstart) does through the
//! CLI, here through the Rust API a service would embed.
//!
//! Run: `cargo run --release -p acl-sqlite --example quickstart [-- PATH]`
//! (PATH defaults to a fresh file in a temporary directory).

use std::process::ExitCode;

use acl_core::{
    Caller, ClusterName, Decision, Engine, Level, ListFilter, PageRequest, PrincipalKind,
    PrincipalName, Reason, Schema, Timestamp, Uri,
};
use acl_sqlite::SqliteStore;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn reason(decision: &Decision) -> String {
    let path = |p: &[PrincipalName]| {
        p.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" -> ")
    };
    match &decision.reason {
        Reason::Grant { grant, path: p } => format!(
            "{} holds {} on {} (via {})",
            grant.holder,
            grant.level,
            grant.uri,
            path(p)
        ),
        Reason::ImplicitList { grant, .. } => {
            format!("implicit list: {} holds {} below", grant.holder, grant.uri)
        }
        Reason::Forbid { grant, path: p } => {
            format!(
                "forbid held by {} on {} (via {})",
                grant.holder,
                grant.uri,
                path(p)
            )
        }
        Reason::Fence { fence } => format!("fence on {} for group {}", fence.uri, fence.group),
        other => other.kind().replace('_', " "),
    }
}

fn run() -> acl_core::Result<()> {
    let dir = std::env::temp_dir().join(format!("acl-quickstart-{}", std::process::id()));
    let path = match std::env::args().nth(1) {
        Some(path) => std::path::PathBuf::from(path),
        None => {
            std::fs::create_dir_all(&dir).map_err(acl_core::Error::storage)?;
            dir.join("acl.db")
        }
    };
    println!("database: {}", path.display());
    let engine = Engine::new(SqliteStore::open(&path)?, Schema::standard());
    let name = PrincipalName::new;
    let (admin, alice, bob) = (name("admin")?, name("alice")?, name("bob")?);
    let mut clock = 0;
    let mut by = |who: &PrincipalName| {
        clock += 1;
        Caller::new(who.clone(), Timestamp(clock))
    };
    let show = |engine: &Engine<SqliteStore>, who: &PrincipalName, text: &str| {
        let uri = Uri::parse(text)?;
        let decision = engine.explain(who, &uri)?;
        println!(
            "  {who:>6} on {text}: {} ({})",
            decision.level,
            reason(&decision)
        );
        Ok::<(), acl_core::Error>(())
    };

    println!("\n1. init cluster `prod` with admin `admin`; create users alice and bob");
    engine.init(&ClusterName::new("prod")?, Some(&admin), Timestamp(0))?;
    engine.create_user(&by(&admin), &alice)?;
    engine.create_user(&by(&admin), &bob)?;
    show(&engine, &alice, "storage://prod/alice")?;
    show(&engine, &bob, "storage://prod/alice")?;

    println!("\n2. alice shares storage:data (short form) with bob, read-only");
    let data = engine.uri_for("storage:data", &alice)?;
    engine.grant(&by(&alice), &data, &bob, Level::Read)?;
    show(&engine, &bob, "storage://prod/alice/data/train.csv")?;
    show(&engine, &bob, "storage://prod/alice")?;
    let write = engine.check(
        &bob,
        &Uri::parse("storage://prod/alice/data/x")?,
        Level::Write,
    )?;
    println!("  bob may write there: {write}");

    println!("\n3. alice makes a role, gives it write on her jobs, and makes bob a member");
    let role = name("alice/roles/ops")?;
    engine.add_role(&by(&alice), &role, PrincipalKind::Role)?;
    engine.grant(
        &by(&alice),
        &Uri::parse("job://prod/alice")?,
        &role,
        Level::Write,
    )?;
    engine.grant(&by(&alice), &Uri::of_role(&role), &bob, Level::Read)?;
    show(&engine, &bob, "job://prod/alice/train-42")?;

    println!("\n4. the admin forbids bob one job: a forbid beats every allowance");
    engine.grant(
        &by(&admin),
        &Uri::parse("job://prod/alice/secret")?,
        &bob,
        Level::Deny,
    )?;
    show(&engine, &bob, "job://prod/alice/secret")?;

    println!("\n5. a project fence: only members of group `vision` reach storage:/vision");
    let vision = name("vision")?;
    engine.add_role(&by(&admin), &vision, PrincipalKind::Group)?;
    let project = Uri::parse("storage://prod/vision")?;
    engine.grant(&by(&admin), &project, &alice, Level::Write)?;
    engine.grant(&by(&admin), &project, &bob, Level::Write)?;
    engine.grant(&by(&admin), &Uri::of_role(&vision), &alice, Level::Read)?;
    engine.add_fence(&by(&admin), &project, &vision)?;
    show(&engine, &alice, "storage://prod/vision/set")?;
    show(&engine, &bob, "storage://prod/vision/set")?;

    println!("\n6. what bob holds, and the audit trail");
    let reader = engine.reader()?;
    for (uri, level) in reader
        .list(&bob, &ListFilter::all(), &PageRequest::all())?
        .items
    {
        println!("  {uri} {level}");
    }
    let log = reader.changes(acl_core::Revision(0), None, &PageRequest::all())?;
    for entry in log.items {
        let actor = entry
            .change
            .actor
            .map(|a| a.to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "  r{} {} {} {} {}",
            entry.revision, actor, entry.change.action, entry.change.target, entry.change.detail
        );
    }
    Ok(())
}
