//! Integration tests of smedx-store: the backend-independent conformance suite
//! ([`conformance`]) run against SQLite, in memory and in a database file ([`sqlite`]),
//! plus the file-only behaviour (durability, WAL, read-only files, concurrent writers).

mod conformance;
mod sqlite;
