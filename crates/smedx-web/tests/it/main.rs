//! HTTP integration tests: the real server on 127.0.0.1:0 with a temporary SQLite file (or, with
//! `SMEDX_TEST_BACKEND=postgres`, a fresh schema of the PostgreSQL test database; see
//! `helpers::Backend`), driven by reqwest like a browser (cookies, forms, no redirects followed so
//! every hop is checked).
//! One test binary with modules (each extra binary is another slow link on 2 cores).

mod api;
mod authz_matrix;
mod campaigns;
mod dashboards;
mod helpers;
mod hostile;
mod imports;
mod journey;
mod lang;
mod operations;
mod providers;
mod security;
