//! A password in a connection string never appears in a message (issue 19 item 3).

use crate::{PgStore, redact};

#[test]
fn redact_hides_every_password_form() {
    let cases = [
        (
            "postgres://alice:s3cret@db.example:5432/acl",
            "postgres://alice:***@db.example:5432/acl",
        ),
        ("postgresql://alice@db/acl", "postgresql://alice@db/acl"),
        (
            "postgres://db/acl?user=alice&password=s3cret&sslmode=disable",
            "postgres://db/acl?user=alice&password=***&sslmode=disable",
        ),
        (
            "host=db user=alice password=s3cret dbname=acl",
            "host=db user=alice password=*** dbname=acl",
        ),
        (
            "host=db password = 's3 cr\\'et' dbname=acl",
            "host=db password =*** dbname=acl",
        ),
        ("host=db dbname=acl", "host=db dbname=acl"),
    ];
    for (url, want) in cases {
        let got = redact(url);
        assert_eq!(got, want, "{url}");
        assert!(!got.contains("s3"), "{got}");
    }
}

#[test]
fn a_failed_open_never_names_the_password() {
    // Nothing listens on this socket directory: the connection fails.
    for url in [
        "postgres://alice:s3cretpw@/acl?host=/nonexistent-acl-dir&connect_timeout=2",
        "host=/nonexistent-acl-dir user=alice password=s3cretpw dbname=acl connect_timeout=2",
        "postgres://alice:s3cretpw@[bad",
        "host=/x password=s3cretpw bogus_option=1",
    ] {
        let error = PgStore::open(url).unwrap_err();
        let text = format!("{error} {error:?}");
        assert_eq!(error.kind(), acl_core::ErrorKind::Storage, "{text}");
        assert!(!text.contains("s3cretpw"), "{text}");
    }
}
