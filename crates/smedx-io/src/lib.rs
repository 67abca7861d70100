//! smedx import and export, as a pure library (no network, no database).
//!
//! * [`import`]: the enterprise spreadsheet format — one row per enterprise with its latest
//!   assessment — read from CSV ([`parse_csv`]) or XLSX ([`parse_xlsx`]), validated as a whole with
//!   every error located by sheet row and column in both languages.
//! * [`columns`]: the columns of that format, derived from the knowledge base's questionnaire.
//! * [`template`]: downloadable templates ([`template_csv`], [`template_xlsx`]) in zh or en.
//! * [`export`]: any table to CSV or XLSX ([`write_csv`], [`write_xlsx`]) with spreadsheet
//!   formula injection neutralised and small-group suppression marked.
//! * [`demo`]: a deterministic generator of realistic synthetic enterprises and answers.

mod cell;
pub mod columns;
pub mod credit;
pub mod demo;
pub mod export;
pub mod import;
pub mod json;
pub mod records;
pub mod template;

pub use columns::{Column, ColumnKind, ColumnSet, Field, columns};
pub use export::{Cell, ExportError, Table, write_csv, write_xlsx};
pub use import::{
    EnterpriseFields, ImportBatch, ImportErrors, ImportOptions, ImportRow, RowError, parse_csv,
    parse_csv_with, parse_xlsx, parse_xlsx_with,
};
pub use template::{template_csv, template_xlsx};
