//! Every ReadView and WriteTxn method, table-driven over the fixture. The read table runs
//! twice: on a read view and on a write transaction (whose ReadView is a separate impl).

use acl_core::{
    ChangeEntry, ErrorKind, Fence, Grant, PrincipalKind, PrincipalName, PrincipalRecord, ReadView,
    Result, Revision, WriteTxn,
};
use acl_core::{ReadViewExt, WriteTxnExt};

use super::{change, edge, f, fixture, g, n, raw_dump, record, u};
use crate::Store;

fn grants(rows: Vec<Grant>) -> Vec<String> {
    rows.iter()
        .map(|g| format!("{} {} {}", g.holder, g.uri, g.level))
        .collect()
}

fn fences(rows: Vec<Fence>) -> Vec<String> {
    rows.iter()
        .map(|f| format!("{} {}", f.uri, f.group))
        .collect()
}

fn rec(r: &PrincipalRecord) -> String {
    format!(
        "{} {}{}",
        r.name,
        r.kind,
        if r.active { "" } else { " inactive" }
    )
}

fn pairs(rows: Vec<(PrincipalName, PrincipalRecord)>) -> Vec<String> {
    rows.iter()
        .map(|(k, r)| format!("{k}: {}", rec(r)))
        .collect()
}

fn entries(rows: Vec<ChangeEntry>) -> Vec<String> {
    rows.iter()
        .map(|e| {
            format!(
                "{} {} {:?} {}",
                e.revision,
                e.change.action,
                e.change.actor.as_ref().map(PrincipalName::as_str),
                e.change.at.0
            )
        })
        .collect()
}

fn any_order(mut rows: Vec<String>) -> Vec<String> {
    rows.sort();
    rows
}

/// The one assertion of this module: `got` is `want`.
#[track_caller]
fn check(case: &str, got: Result<Vec<String>>, want: &[&str]) {
    let got = got.unwrap_or_else(|e| panic!("{case}: {e}"));
    let want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(got, want, "{case}");
}

type ReadCase = (
    &'static str,
    fn(&dyn ReadView) -> Result<Vec<String>>,
    &'static [&'static str],
);

const READS: &[ReadCase] = &[
    ("revision", |v| Ok(vec![v.revision()?.to_string()]), &["2"]),
    (
        "cluster",
        |v| Ok(v.cluster()?.iter().map(|c| c.to_string()).collect()),
        &["c"],
    ),
    (
        "principal alice",
        |v| Ok(v.principal(&n("alice"))?.iter().map(rec).collect()),
        &["alice user"],
    ),
    (
        "principal bob (inactive)",
        |v| Ok(v.principal(&n("bob"))?.iter().map(rec).collect()),
        &["bob user inactive"],
    ),
    (
        "principal missing",
        |v| Ok(v.principal(&n("nobody"))?.iter().map(rec).collect()),
        &[],
    ),
    (
        "principals all",
        |v| Ok(v.principals(None, 100)?.iter().map(rec).collect()),
        &[
            "alice user",
            "bob user inactive",
            "carol user",
            "g/team group",
            "r/readers role",
        ],
    ),
    (
        "principals page",
        |v| Ok(v.principals(Some(&n("bob")), 2)?.iter().map(rec).collect()),
        &["carol user", "g/team group"],
    ),
    (
        "principals after a missing name",
        |v| Ok(v.principals(Some(&n("b")), 1)?.iter().map(rec).collect()),
        &["bob user inactive"],
    ),
    (
        "principals after the last",
        |v| {
            Ok(v.principals(Some(&n("r/readers")), 9)?
                .iter()
                .map(rec)
                .collect())
        },
        &[],
    ),
    (
        "principals limit 0",
        |v| Ok(v.principals(None, 0)?.iter().map(rec).collect()),
        &[],
    ),
    (
        "roles_of alice",
        |v| Ok(any_order(pairs(v.roles_of(&[n("alice")])?))),
        &["alice: g/team group", "alice: r/readers role"],
    ),
    (
        "roles_of duplicates",
        |v| {
            Ok(any_order(pairs(v.roles_of(&[
                n("alice"),
                n("bob"),
                n("alice"),
            ])?)))
        },
        &[
            "alice: g/team group",
            "alice: r/readers role",
            "bob: r/readers role",
        ],
    ),
    ("roles_of none", |v| Ok(pairs(v.roles_of(&[])?)), &[]),
    (
        "roles_of missing",
        |v| Ok(pairs(v.roles_of(&[n("nobody")])?)),
        &[],
    ),
    (
        "members_of readers",
        |v| Ok(any_order(pairs(v.members_of(&[n("r/readers")])?))),
        &["r/readers: alice user", "r/readers: bob user inactive"],
    ),
    (
        "members_of two roles",
        |v| {
            Ok(any_order(pairs(
                v.members_of(&[n("g/team"), n("r/readers")])?,
            )))
        },
        &[
            "g/team: alice user",
            "g/team: r/readers role",
            "r/readers: alice user",
            "r/readers: bob user inactive",
        ],
    ),
    (
        "grants_at",
        |v| {
            Ok(any_order(grants(v.grants_at(
                &[n("alice"), n("bob")],
                &[u("storage://c/alice/docs")],
            )?)))
        },
        &[
            "alice storage://c/alice/docs read",
            "bob storage://c/alice/docs deny",
        ],
    ),
    (
        "grants_at root and other scheme",
        |v| {
            Ok(any_order(grants(v.grants_at(
                &[n("alice")],
                &[u("storage://"), u("job://c/alice"), u("storage://c/none")],
            )?)))
        },
        &["alice job://c/alice manage", "alice storage:// list"],
    ),
    (
        "grants_at no holders",
        |v| Ok(grants(v.grants_at(&[], &[u("storage://")])?)),
        &[],
    ),
    (
        "grants_at no uris",
        |v| Ok(grants(v.grants_at(&[n("alice")], &[])?)),
        &[],
    ),
    (
        "grants_on",
        |v| {
            Ok(any_order(grants(
                v.grants_on(&[u("storage://c/alice/docs/a")])?,
            )))
        },
        &[
            "g/team storage://c/alice/docs/a write",
            "r/readers storage://c/alice/docs/a read",
        ],
    ),
    (
        "grants_on several",
        |v| {
            Ok(any_order(grants(v.grants_on(&[
                u("storage://c/alice/docs"),
                u("storage://"),
                u("storage://c/alice/docs"),
            ])?)))
        },
        &[
            "alice storage:// list",
            "alice storage://c/alice/docs read",
            "bob storage://c/alice/docs deny",
        ],
    ),
    (
        "grant_below first in uri order",
        |v| {
            Ok(grants(
                v.grant_below(
                    &[n("alice"), n("bob"), n("g/team")],
                    &u("storage://c/alice"),
                )?
                .into_iter()
                .collect(),
            ))
        },
        &["alice storage://c/alice/docs read"],
    ),
    (
        "grant_below skips forbids",
        |v| {
            Ok(grants(
                v.grant_below(&[n("bob"), n("g/team")], &u("storage://c/alice"))?
                    .into_iter()
                    .collect(),
            ))
        },
        &["g/team storage://c/alice/docs/a write"],
    ),
    (
        "grant_below ties broken by holder",
        |v| {
            Ok(grants(
                v.grant_below(&[n("r/readers"), n("g/team")], &u("storage://c/alice/docs"))?
                    .into_iter()
                    .collect(),
            ))
        },
        &["g/team storage://c/alice/docs/a write"],
    ),
    (
        "grant_below excludes the uri itself",
        |v| {
            Ok(grants(
                v.grant_below(&[n("g/team")], &u("storage://c/alice/docs/a"))?
                    .into_iter()
                    .collect(),
            ))
        },
        &[],
    ),
    (
        "grant_below only forbids",
        |v| {
            Ok(grants(
                v.grant_below(&[n("carol")], &u("storage://"))?
                    .into_iter()
                    .collect(),
            ))
        },
        &[],
    ),
    (
        "grant_below the root excludes the root",
        |v| {
            Ok(grants(
                v.grant_below(&[n("alice")], &u("storage://"))?
                    .into_iter()
                    .collect(),
            ))
        },
        &["alice storage://c/alice manage"],
    ),
    (
        "grant_below sibling prefix is not below",
        |v| {
            Ok(grants(
                v.grant_below(&[n("g/team")], &u("storage://c"))?
                    .into_iter()
                    .collect(),
            ))
        },
        &["g/team storage://c/alice.b read"],
    ),
    (
        "grant_below no holders",
        |v| {
            Ok(grants(
                v.grant_below(&[], &u("storage://"))?.into_iter().collect(),
            ))
        },
        &[],
    ),
    (
        "grants_of everywhere",
        |v| Ok(grants(v.grants_of(&n("alice"), None, None, 100)?)),
        &[
            "alice job://c/alice manage",
            "alice storage:// list",
            "alice storage://c/alice manage",
            "alice storage://c/alice-x write",
            "alice storage://c/alice/docs read",
        ],
    ),
    (
        "grants_of everywhere paged",
        |v| {
            Ok(grants(v.grants_of(
                &n("alice"),
                None,
                Some(&u("storage://")),
                1,
            )?))
        },
        &["alice storage://c/alice manage"],
    ),
    (
        "grants_of within",
        |v| {
            Ok(grants(v.grants_of(
                &n("alice"),
                Some(&u("storage://c/alice")),
                None,
                100,
            )?))
        },
        &[
            "alice storage://c/alice manage",
            "alice storage://c/alice/docs read",
        ],
    ),
    (
        "grants_of within the root",
        |v| {
            Ok(grants(v.grants_of(
                &n("alice"),
                Some(&u("storage://")),
                None,
                100,
            )?))
        },
        &[
            "alice storage:// list",
            "alice storage://c/alice manage",
            "alice storage://c/alice-x write",
            "alice storage://c/alice/docs read",
        ],
    ),
    (
        "grants_of within the root, paged",
        |v| {
            Ok(grants(v.grants_of(
                &n("alice"),
                Some(&u("storage://")),
                Some(&u("storage://c/alice")),
                2,
            )?))
        },
        &[
            "alice storage://c/alice-x write",
            "alice storage://c/alice/docs read",
        ],
    ),
    (
        "grants_of within, after the uri itself",
        |v| {
            Ok(grants(v.grants_of(
                &n("alice"),
                Some(&u("storage://c/alice")),
                Some(&u("storage://c/alice")),
                10,
            )?))
        },
        &["alice storage://c/alice/docs read"],
    ),
    (
        "grants_of within, after a sibling",
        |v| {
            Ok(grants(v.grants_of(
                &n("alice"),
                Some(&u("storage://c/alice")),
                Some(&u("storage://c/alice-x")),
                10,
            )?))
        },
        &["alice storage://c/alice/docs read"],
    ),
    (
        "grants_of within other scheme",
        |v| {
            Ok(grants(v.grants_of(
                &n("alice"),
                Some(&u("job://")),
                None,
                10,
            )?))
        },
        &["alice job://c/alice manage"],
    ),
    (
        "grants_of within, none",
        |v| {
            Ok(grants(v.grants_of(
                &n("alice"),
                Some(&u("storage://c/alice/docs/a")),
                None,
                10,
            )?))
        },
        &[],
    ),
    (
        "grants_of limit 0",
        |v| Ok(grants(v.grants_of(&n("alice"), None, None, 0)?)),
        &[],
    ),
    (
        "grants_within",
        |v| {
            Ok(grants(v.grants_within(
                &u("storage://c/alice"),
                None,
                100,
            )?))
        },
        &[
            "alice storage://c/alice manage",
            "alice storage://c/alice/docs read",
            "bob storage://c/alice/docs deny",
            "g/team storage://c/alice/docs/a write",
            "r/readers storage://c/alice/docs/a read",
            "carol storage://c/alice/docs/a/b/c deny",
        ],
    ),
    (
        "grants_within paged",
        |v| {
            Ok(grants(v.grants_within(
                &u("storage://c/alice"),
                Some((&u("storage://c/alice/docs"), &n("alice"))),
                2,
            )?))
        },
        &[
            "bob storage://c/alice/docs deny",
            "g/team storage://c/alice/docs/a write",
        ],
    ),
    (
        "grants_within after the uri itself",
        |v| {
            Ok(grants(v.grants_within(
                &u("storage://c/alice/docs"),
                Some((&u("storage://c/alice/docs"), &n("alice"))),
                2,
            )?))
        },
        &[
            "bob storage://c/alice/docs deny",
            "g/team storage://c/alice/docs/a write",
        ],
    ),
    (
        "grants_within the root",
        |v| Ok(grants(v.grants_within(&u("storage://"), None, 3)?)),
        &[
            "alice storage:// list",
            "alice storage://c/alice manage",
            "alice storage://c/alice-x write",
        ],
    ),
    (
        "grants_within the root, paged",
        |v| {
            Ok(grants(v.grants_within(
                &u("storage://"),
                Some((&u("storage://"), &n("alice"))),
                1,
            )?))
        },
        &["alice storage://c/alice manage"],
    ),
    (
        "grants_within after everything",
        |v| {
            Ok(grants(v.grants_within(
                &u("storage://c/alice"),
                Some((&u("storage://c/b"), &n("a"))),
                9,
            )?))
        },
        &[],
    ),
    (
        "fences_at",
        |v| {
            Ok(any_order(fences(v.fences_at(&[
                u("storage://c/alice"),
                u("storage://c/alice-x"),
                u("storage://c"),
            ])?)))
        },
        &["storage://c/alice g/team", "storage://c/alice-x g/team"],
    ),
    (
        "fences all",
        |v| Ok(fences(v.fences(None, None, 100)?)),
        &[
            "job://c r/readers",
            "storage:// r/readers",
            "storage://c/alice g/team",
            "storage://c/alice-x g/team",
            "storage://c/alice/docs g/team",
        ],
    ),
    (
        "fences all, paged",
        |v| {
            Ok(fences(v.fences(
                None,
                Some(&f("storage:// r/readers")),
                2,
            )?))
        },
        &["storage://c/alice g/team", "storage://c/alice-x g/team"],
    ),
    (
        "fences within",
        |v| Ok(fences(v.fences(Some(&u("storage://c/alice")), None, 10)?)),
        &["storage://c/alice g/team", "storage://c/alice/docs g/team"],
    ),
    (
        "fences within the root, paged",
        |v| {
            Ok(fences(v.fences(
                Some(&u("storage://")),
                Some(&f("storage:// r/readers")),
                1,
            )?))
        },
        &["storage://c/alice g/team"],
    ),
    (
        "fences_of_group",
        |v| Ok(fences(v.fences_of_group(&n("g/team"))?)),
        &[
            "storage://c/alice g/team",
            "storage://c/alice-x g/team",
            "storage://c/alice/docs g/team",
        ],
    ),
    (
        "fences_of_group none",
        |v| Ok(fences(v.fences_of_group(&n("alice"))?)),
        &[],
    ),
    (
        "changes all",
        |v| Ok(entries(v.changes(Revision(0), None, 10)?)),
        &[
            "1 setup Some(\"alice\") 1700000000000",
            "2 fences None 1700000000000",
        ],
    ),
    (
        "changes after",
        |v| Ok(entries(v.changes(Revision(1), None, 10)?)),
        &["2 fences None 1700000000000"],
    ),
    (
        "changes by actor",
        |v| Ok(entries(v.changes(Revision(0), Some(&n("alice")), 10)?)),
        &["1 setup Some(\"alice\") 1700000000000"],
    ),
    (
        "changes limit",
        |v| Ok(entries(v.changes(Revision(0), None, 1)?)),
        &["1 setup Some(\"alice\") 1700000000000"],
    ),
    (
        "changes past the end",
        |v| Ok(entries(v.changes(Revision(5), None, 10)?)),
        &[],
    ),
    (
        "changes huge after",
        |v| Ok(entries(v.changes(Revision(u64::MAX), None, usize::MAX)?)),
        &[],
    ),
];

#[test]
fn read_view_methods() {
    let store = fixture();
    let view = store.read().unwrap();
    for (case, run, want) in READS {
        check(case, run(&view), want);
    }
}

#[test]
fn write_txn_reads_the_same() {
    let store = fixture();
    let txn = store.write().unwrap();
    for (case, run, want) in READS {
        check(case, run(&txn), want);
    }
}

/// What a write returned: `Ok` with its value, or the error kind.
fn outcome<T: std::fmt::Debug>(result: Result<T>) -> String {
    match result {
        Ok(value) => format!("{value:?}"),
        Err(e) => format!("{:?}", e.kind()),
    }
}

type WriteCase = (
    &'static str,
    fn(&mut crate::SqliteWrite<'_>) -> String,
    &'static str,
    fn(&dyn ReadView) -> Result<Vec<String>>,
    &'static [&'static str],
);

/// Each write, what it returns, and a read showing its effect, all in one transaction.
const WRITES: &[WriteCase] = &[
    (
        "set_cluster replaces",
        |t| outcome(t.set_cluster(&acl_core::ClusterName::new("prod").unwrap())),
        "()",
        |v| Ok(v.cluster()?.iter().map(|c| c.to_string()).collect()),
        &["prod"],
    ),
    (
        "insert_principal",
        |t| outcome(t.insert_principal(&record("dave", PrincipalKind::User, true))),
        "()",
        |v| Ok(v.principal(&n("dave"))?.iter().map(rec).collect()),
        &["dave user"],
    ),
    (
        "insert_principal taken",
        |t| outcome(t.insert_principal(&record("dave", PrincipalKind::Role, true))),
        "Conflict",
        |v| Ok(v.principal(&n("dave"))?.iter().map(rec).collect()),
        &["dave user"],
    ),
    (
        "update_principal",
        |t| outcome(t.update_principal(&record("dave", PrincipalKind::User, false))),
        "()",
        |v| Ok(v.principal(&n("dave"))?.iter().map(rec).collect()),
        &["dave user inactive"],
    ),
    (
        "update_principal kind",
        |t| outcome(t.update_principal(&record("dave", PrincipalKind::Group, true))),
        "()",
        |v| Ok(v.principal(&n("dave"))?.iter().map(rec).collect()),
        &["dave group"],
    ),
    (
        "update_principal missing",
        |t| outcome(t.update_principal(&record("erin", PrincipalKind::User, false))),
        "NotFound",
        |v| Ok(v.principal(&n("erin"))?.iter().map(rec).collect()),
        &[],
    ),
    (
        "put_grant new",
        |t| outcome(t.put_grant(&g("dave storage://c/dave manage"))),
        "()",
        |v| Ok(grants(v.grants_of(&n("dave"), None, None, 10)?)),
        &["dave storage://c/dave manage"],
    ),
    (
        "put_grant replaces",
        |t| outcome(t.put_grant(&g("dave storage://c/dave deny"))),
        "()",
        |v| Ok(grants(v.grants_of(&n("dave"), None, None, 10)?)),
        &["dave storage://c/dave deny"],
    ),
    (
        "put_grant missing holder",
        |t| outcome(t.put_grant(&g("erin storage://c/dave read"))),
        "Storage",
        |v| Ok(grants(v.grants_on(&[u("storage://c/dave")])?)),
        &["dave storage://c/dave deny"],
    ),
    (
        "delete_principal referenced",
        |t| outcome(t.delete_principal(&n("dave"))),
        "Storage",
        |v| Ok(v.principal(&n("dave"))?.iter().map(rec).collect()),
        &["dave group"],
    ),
    (
        "delete_grant",
        |t| outcome(t.delete_grant(&n("dave"), &u("storage://c/dave"))),
        "true",
        |v| Ok(grants(v.grants_of(&n("dave"), None, None, 10)?)),
        &[],
    ),
    (
        "delete_grant absent",
        |t| outcome(t.delete_grant(&n("dave"), &u("storage://c/dave"))),
        "false",
        |v| Ok(grants(v.grants_of(&n("dave"), None, None, 10)?)),
        &[],
    ),
    (
        "insert_edge",
        |t| outcome(t.insert_edge(&edge("dave", "r/readers"))),
        "()",
        |v| Ok(pairs(v.roles_of(&[n("dave")])?)),
        &["dave: r/readers role"],
    ),
    (
        "insert_edge present",
        |t| outcome(t.insert_edge(&edge("dave", "r/readers"))),
        "()",
        |v| Ok(pairs(v.roles_of(&[n("dave")])?)),
        &["dave: r/readers role"],
    ),
    (
        "insert_edge missing end",
        |t| outcome(t.insert_edge(&edge("dave", "r/none"))),
        "Storage",
        |v| Ok(pairs(v.roles_of(&[n("dave")])?)),
        &["dave: r/readers role"],
    ),
    (
        "delete_edge",
        |t| outcome(t.delete_edge(&edge("dave", "r/readers"))),
        "true",
        |v| Ok(pairs(v.roles_of(&[n("dave")])?)),
        &[],
    ),
    (
        "delete_edge absent",
        |t| outcome(t.delete_edge(&edge("dave", "r/readers"))),
        "false",
        |v| Ok(pairs(v.roles_of(&[n("dave")])?)),
        &[],
    ),
    (
        "insert_fence",
        |t| outcome(t.insert_fence(&f("storage://c/dave dave"))),
        "()",
        |v| Ok(fences(v.fences_of_group(&n("dave"))?)),
        &["storage://c/dave dave"],
    ),
    (
        "insert_fence present",
        |t| outcome(t.insert_fence(&f("storage://c/dave dave"))),
        "()",
        |v| Ok(fences(v.fences_of_group(&n("dave"))?)),
        &["storage://c/dave dave"],
    ),
    (
        "insert_fence missing group",
        |t| outcome(t.insert_fence(&f("storage://c/dave g/none"))),
        "Storage",
        |v| Ok(fences(v.fences_at(&[u("storage://c/dave")])?)),
        &["storage://c/dave dave"],
    ),
    (
        "delete_fence",
        |t| outcome(t.delete_fence(&f("storage://c/dave dave"))),
        "true",
        |v| Ok(fences(v.fences_of_group(&n("dave"))?)),
        &[],
    ),
    (
        "delete_fence absent",
        |t| outcome(t.delete_fence(&f("storage://c/dave dave"))),
        "false",
        |v| Ok(fences(v.fences_of_group(&n("dave"))?)),
        &[],
    ),
    (
        "delete_principal",
        |t| outcome(t.delete_principal(&n("dave"))),
        "()",
        |v| Ok(v.principal(&n("dave"))?.iter().map(rec).collect()),
        &[],
    ),
    (
        "delete_principal absent",
        |t| outcome(t.delete_principal(&n("dave"))),
        "NotFound",
        |v| Ok(v.principal(&n("dave"))?.iter().map(rec).collect()),
        &[],
    ),
    (
        "nothing committed yet",
        |_| "-".to_owned(),
        "-",
        |v| Ok(vec![v.revision()?.to_string()]),
        &["2"],
    ),
];

#[test]
fn write_txn_methods() {
    let store = fixture();
    let mut txn = store.write().unwrap();
    for (case, write, want, read, effect) in WRITES {
        assert_eq!(write(&mut txn), *want, "{case}");
        check(case, read(&txn), effect);
    }
    // A refused write leaves the transaction usable: it commits the rest.
    assert_eq!(
        txn.commit(change("batch", Some("carol"))).unwrap(),
        Revision(3)
    );
    let view = store.read().unwrap();
    check(
        "after commit",
        Ok(vec![view.revision().unwrap().to_string()]),
        &["3"],
    );
    check(
        "cluster after commit",
        Ok(view
            .cluster()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect()),
        &["prod"],
    );
    check(
        "changelog after commit",
        Ok(entries(view.changes(Revision(2), None, 10).unwrap())),
        &["3 batch Some(\"carol\") 1700000000000"],
    );
}

#[test]
fn refused_writes_change_nothing() {
    let store = fixture();
    let before = raw_dump(&store);
    let mut txn = store.write().unwrap();
    let refusals: Vec<(&str, Result<()>, ErrorKind)> = vec![
        (
            "duplicate principal",
            txn.insert_principal(&record("alice", PrincipalKind::User, true)),
            ErrorKind::Conflict,
        ),
        (
            "update missing",
            txn.update_principal(&record("zed", PrincipalKind::User, true)),
            ErrorKind::NotFound,
        ),
        (
            "delete missing",
            txn.delete_principal(&n("zed")),
            ErrorKind::NotFound,
        ),
        (
            "delete referenced",
            txn.delete_principal(&n("alice")),
            ErrorKind::Storage,
        ),
        (
            "grant for nobody",
            txn.put_grant(&g("zed storage://c read")),
            ErrorKind::Storage,
        ),
        (
            "edge to nobody",
            txn.insert_edge(&edge("alice", "zed")),
            ErrorKind::Storage,
        ),
        (
            "edge from nobody",
            txn.insert_edge(&edge("zed", "alice")),
            ErrorKind::Storage,
        ),
        (
            "fence for nobody",
            txn.insert_fence(&f("storage://c zed")),
            ErrorKind::Storage,
        ),
    ];
    for (case, result, kind) in refusals {
        assert_eq!(result.map_err(|e| e.kind()), Err(kind), "{case}");
    }
    txn.commit(change("nothing", None)).unwrap();
    let mut after = raw_dump(&store);
    // Only the revision and the changelog moved.
    after.retain(|row| !row.starts_with("changelog: 3 |"));
    let meta = |rows: &[String]| {
        rows.iter()
            .filter(|r| r.starts_with("meta:"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(meta(&after), vec!["meta: 1 | 3 | \"c\" | 0".to_owned()]);
    after.retain(|row| !row.starts_with("meta:"));
    let mut before = before;
    before.retain(|row| !row.starts_with("meta:"));
    assert_eq!(before, after);
}

/// Batches longer than one statement's chunk (512 keys), with duplicates, give every row
/// exactly once.
#[test]
fn large_batches_are_chunked() {
    let store = crate::SqliteStore::open_in_memory().unwrap();
    let count = 1300;
    let mut txn = store.write().unwrap();
    txn.insert_principal(&record("hub", PrincipalKind::Role, true))
        .unwrap();
    let names: Vec<PrincipalName> = (0..count).map(|i| n(&format!("p{i:04}"))).collect();
    let uris: Vec<acl_core::Uri> = (0..count)
        .map(|i| u(&format!("storage://c/x/{i:04}")))
        .collect();
    for (i, name) in names.iter().enumerate() {
        txn.insert_principal(&record(name.as_str(), PrincipalKind::Group, true))
            .unwrap();
        txn.insert_edge(&acl_core::Edge {
            member: name.clone(),
            role: n("hub"),
        })
        .unwrap();
        txn.put_grant(&Grant {
            holder: name.clone(),
            uri: uris[i].clone(),
            level: acl_core::Level::Read,
        })
        .unwrap();
        txn.insert_fence(&Fence {
            uri: uris[i].clone(),
            group: name.clone(),
        })
        .unwrap();
    }
    txn.commit(change("bulk", None)).unwrap();
    let view = store.read().unwrap();
    let mut doubled = names.clone();
    doubled.extend(names.iter().rev().cloned());
    let mut doubled_uris = uris.clone();
    doubled_uris.extend(uris.iter().cloned());
    assert_eq!(view.roles_of(&doubled).unwrap().len(), count);
    assert_eq!(view.members_of(&[n("hub"), n("hub")]).unwrap().len(), count);
    let at = view.grants_at(&doubled, &doubled_uris).unwrap();
    assert_eq!(at.len(), count);
    let distinct: std::collections::BTreeSet<_> = at.iter().map(|g| g.uri.clone()).collect();
    assert_eq!(distinct.len(), count);
    assert_eq!(view.grants_on(&doubled_uris).unwrap().len(), count);
    assert_eq!(view.fences_at(&doubled_uris).unwrap().len(), count);
    // The first grant below in (URI, holder) order, whichever chunk holds its holder.
    let first = view.grant_below(&doubled, &u("storage://c/x")).unwrap();
    assert_eq!(first, Some(g("p0000 storage://c/x/0000 read")));
    let last_only = view
        .grant_below(&names[count - 1..], &u("storage://c"))
        .unwrap();
    assert_eq!(last_only, Some(g("p1299 storage://c/x/1299 read")));
    let mut reversed = names.clone();
    reversed.reverse();
    let first = view.grant_below(&reversed, &u("storage://")).unwrap();
    assert_eq!(first, Some(g("p0000 storage://c/x/0000 read")));
}

/// `grants_at` probes by URI when many holders are asked about; a URI crowded past the
/// probe's cap falls back to (holder, URI) pairs, with the same answer either way.
#[test]
fn grants_at_on_a_crowded_uri_gives_the_same_answer() {
    let store = crate::SqliteStore::open_in_memory().unwrap();
    let crowded = u("storage://c/public");
    let quiet = u("storage://c/public/quiet");
    let mut txn = store.write().unwrap();
    let names: Vec<PrincipalName> = (0..400).map(|i| n(&format!("p{i:03}"))).collect();
    for (i, name) in names.iter().enumerate() {
        txn.insert_principal(&record(name.as_str(), PrincipalKind::User, true))
            .unwrap();
        txn.put_grant(&Grant {
            holder: name.clone(),
            uri: crowded.clone(),
            level: acl_core::Level::Read,
        })
        .unwrap();
        if i % 100 == 7 {
            txn.put_grant(&Grant {
                holder: name.clone(),
                uri: quiet.clone(),
                level: acl_core::Level::Write,
            })
            .unwrap();
        }
    }
    txn.commit(change("bulk", None)).unwrap();
    let view = store.read().unwrap();
    let asked: Vec<PrincipalName> = ["p007", "p107", "p399", "nobody"].map(n).to_vec();
    // only the quiet URI: the URI-first probe answers
    let quiet_only = grants(
        view.grants_at(&asked, std::slice::from_ref(&quiet))
            .unwrap(),
    );
    assert_eq!(
        any_order(quiet_only),
        [
            "p007 storage://c/public/quiet write",
            "p107 storage://c/public/quiet write"
        ]
    );
    // with the crowded URI (400 holders > the cap): the pair probes answer
    let both = grants(view.grants_at(&asked, &[crowded.clone(), quiet]).unwrap());
    assert_eq!(
        any_order(both),
        [
            "p007 storage://c/public read",
            "p007 storage://c/public/quiet write",
            "p107 storage://c/public read",
            "p107 storage://c/public/quiet write",
            "p399 storage://c/public read",
        ]
    );
}

/// `grants_at`'s URI-first probe finds each row's holder by a scan of a few asked holders
/// or a search of many sorted ones: both give each grant once, duplicates asked or not.
#[test]
fn grants_at_finds_holders_among_few_and_many() {
    let store = crate::SqliteStore::open_in_memory().unwrap();
    let names: Vec<PrincipalName> = (0..150).map(|i| n(&format!("h{i:03}"))).collect();
    let top = u("storage://c/top");
    let deep = u("storage://c/top/deep");
    let mut txn = store.write().unwrap();
    for (i, name) in names.iter().enumerate() {
        txn.insert_principal(&record(name.as_str(), PrincipalKind::Role, true))
            .unwrap();
        if i % 3 == 0 {
            txn.put_grant(&Grant {
                holder: name.clone(),
                uri: if i % 2 == 0 {
                    top.clone()
                } else {
                    deep.clone()
                },
                level: acl_core::Level::Read,
            })
            .unwrap();
        }
    }
    txn.commit(change("bulk", None)).unwrap();
    let view = store.read().unwrap();
    let ancestors = deep.ancestors_and_self();
    for asked in [10, 100, 150] {
        // every asked holder twice, in reverse the second time
        let mut doubled: Vec<PrincipalName> = names[..asked].to_vec();
        doubled.extend(names[..asked].iter().rev().cloned());
        let got = any_order(grants(view.grants_at(&doubled, &ancestors).unwrap()));
        let want: Vec<String> = (0..asked)
            .filter(|i| i % 3 == 0)
            .map(|i| {
                let uri = if i % 2 == 0 { &top } else { &deep };
                format!("h{i:03} {uri} read")
            })
            .collect();
        assert_eq!(got, any_order(want), "{asked} holders");
    }
}

/// `grant_below` reads the subtree first, up to a cap; a subtree crowded with other
/// holders' grants and the asked holders' forbids falls back to one seek per holder, with
/// the same answer either way.
#[test]
fn grant_below_on_a_crowded_subtree_gives_the_same_answer() {
    let store = crate::SqliteStore::open_in_memory().unwrap();
    let mut txn = store.write().unwrap();
    let others: Vec<PrincipalName> = (0..300).map(|i| n(&format!("o{i:03}"))).collect();
    for name in &others {
        txn.insert_principal(&record(name.as_str(), PrincipalKind::User, true))
            .unwrap();
        txn.put_grant(&Grant {
            holder: name.clone(),
            uri: u("storage://c/busy/a"),
            level: acl_core::Level::Write,
        })
        .unwrap();
    }
    for (name, uri, level) in [
        ("me", "storage://c/busy/a", acl_core::Level::Deny),
        ("me", "storage://c/busy/b", acl_core::Level::Read),
        ("me", "storage://c/quiet/x", acl_core::Level::Deny),
        ("me", "storage://c/quiet/y", acl_core::Level::List),
        ("team", "storage://c/quiet/y", acl_core::Level::Read),
    ] {
        if txn.principal(&n(name)).unwrap().is_none() {
            txn.insert_principal(&record(name, PrincipalKind::Role, true))
                .unwrap();
        }
        txn.put_grant(&Grant {
            holder: n(name),
            uri: u(uri),
            level,
        })
        .unwrap();
    }
    txn.commit(change("bulk", None)).unwrap();
    let view = store.read().unwrap();
    let asked = [n("team"), n("me"), n("nobody")];
    // quiet: the subtree answers, skipping the forbid, ties broken by holder
    assert_eq!(
        view.grant_below(&asked, &u("storage://c/quiet")).unwrap(),
        Some(g("me storage://c/quiet/y list"))
    );
    // busy: 300 other grants before the asked holder's allow, past the cap
    assert_eq!(
        view.grant_below(&asked, &u("storage://c/busy")).unwrap(),
        Some(g("me storage://c/busy/b read"))
    );
    assert_eq!(
        view.grant_below(&asked, &u("storage://c/busy/a")).unwrap(),
        None
    );
    // the root covers both subtrees
    assert_eq!(
        view.grant_below(&asked, &u("storage://")).unwrap(),
        Some(g("me storage://c/busy/b read"))
    );
}

/// A read view remembers the id of the last principal it looked up, and reads that
/// principal's closure by id: the same graph as by name, and another principal's closure
/// is still read by its own name.
#[test]
fn closure_after_a_principal_lookup_is_the_same() {
    let store = fixture();
    let all = store.read().unwrap().principals(None, 1000).unwrap();
    assert!(all.len() > 3);
    for record in &all {
        let plain = store.read().unwrap().reachable_graph(&record.name).unwrap();
        let view = store.read().unwrap();
        assert_eq!(view.principal(&record.name).unwrap().as_ref(), Some(record));
        assert_eq!(view.reachable_graph(&record.name).unwrap(), plain);
        // twice, and after a lookup of another principal and of a missing one
        assert_eq!(view.reachable_graph(&record.name).unwrap(), plain);
        for other in &all {
            view.principal(&other.name).unwrap();
            assert_eq!(view.reachable_graph(&record.name).unwrap(), plain);
        }
        assert_eq!(view.principal(&n("nobody-at-all")).unwrap(), None);
        assert_eq!(view.reachable_graph(&record.name).unwrap(), plain);
    }
}
