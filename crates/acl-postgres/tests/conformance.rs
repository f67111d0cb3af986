//! The Store conformance suite of acl-testing (every rule of docs/semantics.md, kernel and
//! platform cases), over a fresh PostgreSQL database per case (DESIGN rule D1).

acl_testing::conformance_tests!(acl_postgres::testing::store());
