//! Model files (docs/cli.md, "Model files"): `acl test FILE...` runs their assertions, each
//! file on a fresh in-memory store; `acl validate FILE...` checks them; `acl import
//! --model FILE` loads one into the database and `acl export --model` writes the
//! database's model. Parsing, loading, the assertions and the export are
//! [`acl_platform::model`]'s; this module reads files and prints.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use acl_core::{Level, Schema, Timestamp, Uri};
use acl_memory::MemoryStore;
use acl_platform::Platform;
use acl_platform::model::{self, Model, Outcome, Problem};
use serde_json::{Value, json};

use super::reason_text;
use crate::ctx::{Ctx, now};
use crate::error::{CliError, EXIT_FAILURE, EXIT_INVALID, Result};
use crate::output::{Output, Verdict};

/// One model file's results.
struct FileReport {
    path: PathBuf,
    /// Problems that kept the file from loading (none when it loaded).
    problems: Vec<Problem>,
    /// The assertions' outcomes, when it loaded.
    outcomes: Vec<Outcome>,
}

impl FileReport {
    fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.failure.is_some()).count()
    }

    fn ok(&self) -> bool {
        self.problems.is_empty() && self.failed() == 0
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| CliError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })
}

/// Parses and loads `text` into a fresh in-memory platform: the model with its platform,
/// or every problem found.
fn load(
    text: &str,
) -> std::result::Result<(Platform<MemoryStore>, Model, model::Loaded), Vec<Problem>> {
    let platform = Platform::new(MemoryStore::new(), Schema::standard());
    let model = model::parse(text, platform.schema())?;
    let loaded = model::load_fresh(&platform, &model, Timestamp(0)).map_err(|p| vec![p])?;
    Ok((platform, model, loaded))
}

fn run_file(path: &Path) -> Result<FileReport> {
    let text = read(path)?;
    let (problems, outcomes) = match load(&text) {
        Ok((platform, model, loaded)) => (
            Vec::new(),
            model::run_assertions(&platform, &loaded, &model)?,
        ),
        Err(problems) => (problems, Vec::new()),
    };
    Ok(FileReport {
        path: path.to_owned(),
        problems,
        outcomes,
    })
}

fn problem_json(problem: &Problem) -> Value {
    json!({ "line": problem.pos.line, "column": problem.pos.column, "message": problem.message })
}

fn outcome_json(outcome: &Outcome) -> Value {
    let mut value = json!({
        "line": outcome.pos.line,
        "column": outcome.pos.column,
        "name": outcome.name,
        "passed": outcome.failure.is_none(),
    });
    if let (Some(failure), Value::Object(map)) = (&outcome.failure, &mut value) {
        map.insert("message".into(), json!(failure.message));
        let decisions: Vec<Value> = failure
            .decisions
            .iter()
            .map(|(subject, decision)| {
                json!({
                    "subject": subject,
                    "level": decision.level,
                    "reason": decision.reason,
                    "explanation": reason_text(decision),
                })
            })
            .collect();
        map.insert("decisions".into(), json!(decisions));
    }
    value
}

/// `acl test FILE... [--junit FILE]`.
pub fn test(files: &[PathBuf], junit: Option<&Path>) -> Result<Output> {
    let reports = files
        .iter()
        .map(|f| run_file(f))
        .collect::<Result<Vec<_>>>()?;
    let total: usize = reports.iter().map(|r| r.outcomes.len()).sum();
    let failed: usize = reports.iter().map(FileReport::failed).sum();
    let problems: usize = reports.iter().map(|r| r.problems.len()).sum();
    let mut text = String::new();
    for report in &reports {
        let file = report.path.display();
        for problem in &report.problems {
            let _ = writeln!(text, "FAIL {file}:{problem}");
        }
        if report.problems.is_empty() {
            let _ = writeln!(
                text,
                "{} {file}: {} assertions, {} failed",
                if report.ok() { "ok  " } else { "FAIL" },
                report.outcomes.len(),
                report.failed()
            );
        }
        for outcome in &report.outcomes {
            let Some(failure) = &outcome.failure else {
                continue;
            };
            let _ = writeln!(
                text,
                "  {file}:{}: {}\n    {}",
                outcome.pos.line, outcome.name, failure.message
            );
            for (subject, decision) in &failure.decisions {
                let _ = writeln!(
                    text,
                    "    actual: {subject} is {}: {}",
                    decision.level,
                    reason_text(decision)
                );
            }
        }
    }
    let _ = writeln!(
        text,
        "{} files, {total} assertions: {} passed, {failed} failed{}",
        reports.len(),
        total - failed,
        if problems > 0 {
            format!("; {problems} files did not load")
        } else {
            String::new()
        }
    );
    if let Some(path) = junit {
        std::fs::write(path, junit_xml(&reports)).map_err(|source| CliError::Io {
            action: "write",
            path: path.to_owned(),
            source,
        })?;
    }
    let files_json: Vec<Value> = reports
        .iter()
        .map(|r| {
            json!({
                "file": r.path.display().to_string(),
                "passed": r.ok(),
                "problems": r.problems.iter().map(problem_json).collect::<Vec<_>>(),
                "assertions": r.outcomes.iter().map(outcome_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let ok = failed == 0 && problems == 0;
    let output = Output::new(
        text,
        json!({
            "passed": ok,
            "assertions": total,
            "failed": failed,
            "problems": problems,
            "files": files_json,
        }),
    );
    Ok(if ok {
        output
    } else {
        output.with_verdict(Verdict::Failed(EXIT_FAILURE))
    })
}

/// XML text with `&`, `<`, `>`, `"` and `'` escaped, and control characters dropped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The JUnit XML report: a testsuite per file, a testcase per assertion (and one named
/// `load` for a file that did not load).
fn junit_xml(reports: &[FileReport]) -> String {
    let tests: usize = reports
        .iter()
        .map(|r| r.outcomes.len() + usize::from(!r.problems.is_empty()))
        .sum();
    let failures: usize = reports
        .iter()
        .map(|r| r.failed() + usize::from(!r.problems.is_empty()))
        .sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"acl test\" tests=\"{tests}\" failures=\"{failures}\">"
    );
    for report in reports {
        let file = xml(&report.path.display().to_string());
        let load_failed = !report.problems.is_empty();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{file}\" tests=\"{}\" failures=\"{}\">",
            report.outcomes.len() + usize::from(load_failed),
            report.failed() + usize::from(load_failed)
        );
        if load_failed {
            let message: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                out,
                "    <testcase classname=\"{file}\" name=\"load\">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                xml(&message.join("; ")),
                xml(&message.join("\n"))
            );
        }
        for outcome in &report.outcomes {
            let name = xml(&format!("line {}: {}", outcome.pos.line, outcome.name));
            match &outcome.failure {
                None => {
                    let _ = writeln!(out, "    <testcase classname=\"{file}\" name=\"{name}\"/>");
                }
                Some(failure) => {
                    let mut body = failure.message.clone();
                    for (subject, decision) in &failure.decisions {
                        let _ = write!(
                            body,
                            "\nactual: {subject} is {}: {}",
                            decision.level,
                            reason_text(decision)
                        );
                    }
                    let _ = writeln!(
                        out,
                        "    <testcase classname=\"{file}\" name=\"{name}\">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                        xml(&failure.message),
                        xml(&body)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// `acl validate FILE...`: syntax (the parser) and meaning (loading into a fresh
/// in-memory store through the engine's mutations); nothing is written anywhere.
pub fn validate(files: &[PathBuf]) -> Result<Output> {
    let mut text = String::new();
    let mut files_json = Vec::new();
    let mut count = 0usize;
    for path in files {
        let problems = load(&read(path)?).err().unwrap_or_default();
        count += problems.len();
        let file = path.display();
        if problems.is_empty() {
            let _ = writeln!(text, "{file}: ok");
        }
        for problem in &problems {
            let _ = writeln!(text, "{file}:{problem}");
        }
        files_json.push(json!({
            "file": file.to_string(),
            "valid": problems.is_empty(),
            "problems": problems.iter().map(problem_json).collect::<Vec<_>>(),
        }));
    }
    let output = Output::new(
        text,
        json!({ "valid": count == 0, "problems": count, "files": files_json }),
    );
    Ok(if count == 0 {
        output
    } else {
        output.with_verdict(Verdict::Failed(EXIT_INVALID))
    })
}

/// `acl import --model FILE`: the file is checked in full first (syntax, and meaning on a
/// fresh in-memory store), then its entries are applied to the database as the acting
/// user in ONE transaction ([`model::apply`]): one revision and one `model_import`
/// changelog entry, or, when the engine refuses any entry or the store fails, nothing.
pub fn import(ctx: &Ctx, path: &Path) -> Result<Output> {
    let text = read(path)?;
    let bad = |problems: Vec<Problem>| CliError::Model {
        path: path.to_owned(),
        problems,
    };
    let (_, model, _) = load(&text).map_err(bad)?;
    let actor = ctx.actor()?;
    let source = path.display().to_string();
    model::apply(ctx.engine(), &model, &source, &actor, now())
        .map_err(|problem| bad(vec![problem]))?;
    let revision = ctx.engine().reader()?.revision()?;
    let entries = model.entries();
    Ok(Output::new(
        format!("imported model `{source}`: {entries} entries (revision {revision})\n"),
        json!({ "entries": entries, "revision": revision }),
    ))
}

/// `acl export --model [--output FILE]`: needs `read` on `user:` (it shows every
/// principal's grants, rule S3).
pub fn export(ctx: &Ctx, output: Option<&Path>) -> Result<Output> {
    let actor = ctx.actor()?;
    let reader = ctx.engine().reader()?;
    if !reader.check(&actor, &Uri::root("user")?, Level::Read)? {
        return Err(acl_core::Error::NotPermitted(format!(
            "`{actor}` may not export the model: it needs read on `user:`"
        ))
        .into());
    }
    let yaml = model::export(&reader)?.to_yaml();
    let revision = reader.revision()?;
    match output {
        None => Ok(Output::new(
            yaml.clone(),
            json!({ "model": yaml, "revision": revision }),
        )),
        Some(path) => {
            std::fs::write(path, &yaml).map_err(|source| CliError::Io {
                action: "write",
                path: path.to_owned(),
                source,
            })?;
            Ok(Output::new(
                format!(
                    "exported the model to `{}` (revision {revision})\n",
                    path.display()
                ),
                json!({ "file": path.display().to_string(), "revision": revision }),
            ))
        }
    }
}
