//! Integration tests of smedx-store: the backend-independent conformance suite
//! ([`conformance`]) run against SQLite, in memory and in a database file ([`sqlite`]), and
//! against a PostgreSQL server, in a fresh schema per test ([`postgres`]), plus what only each
//! backend can show (durability, WAL, read-only databases, concurrent writers).

mod conformance;
mod engine;
mod jobs;
mod postgres;
mod providers;
mod regional;
mod sqlite;
