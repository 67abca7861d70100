//! The audit log on the web side: who did what, from which address.
//!
//! Changes that are written with their entry in one transaction (the store's `*_audited`
//! methods): sign-up, administrator creation, password reset, colleague added, assessment
//! completed, API token created. Events that change nothing else are recorded right after they
//! happen, with [`record`]: log-in (succeeded or failed) and log-out; failing to record one is
//! logged as an error and does not fail the request.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::Extensions;
use smedx_store::AuditRecord;

use crate::AppState;

/// `key=value` pairs separated by spaces; a value with spaces, quotes or `=` is quoted.
pub fn kv(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let plain = !v.is_empty()
                && !v
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '=');
            if plain {
                format!("{k}={v}")
            } else {
                let escaped: String = v
                    .chars()
                    .flat_map(|c| match c {
                        '"' => vec!['\\', '"'],
                        '\\' => vec!['\\', '\\'],
                        c if c.is_control() => vec![' '],
                        c => vec![c],
                    })
                    .collect();
                format!("{k}=\"{escaped}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Appends an entry after the fact; a failure is logged, not returned.
pub async fn record(st: &AppState, record: AuditRecord) {
    if let Err(e) = st.store.record_audit(&record).await {
        tracing::error!(action = %record.action, "cannot write the audit log: {e}");
    }
}

/// The client's address: the peer of the TCP connection (a proxy's, behind one).
pub fn client_ip(extensions: &Extensions) -> Option<String> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// "2026-11-26 10:15:30" (UTC) from Unix seconds.
pub fn datetime(secs: i64) -> String {
    let t = secs.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02}",
        crate::pages::date(secs),
        t / 3600,
        t % 3600 / 60,
        t % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values() {
        assert_eq!(
            kv(&[("email", "a@b.cn"), ("via", "web")]),
            "email=a@b.cn via=web"
        );
        assert_eq!(
            kv(&[("name", "my \"erp\" sync")]),
            r#"name="my \"erp\" sync""#
        );
        assert_eq!(kv(&[("name", "")]), r#"name="""#);
        assert_eq!(kv(&[("name", "a\nb")]), r#"name="a b""#);
    }

    #[test]
    fn datetimes() {
        assert_eq!(datetime(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
    }
}

#[cfg(test)]
mod labels {
    use smedx_core::Lang;
    use smedx_store::AuditAction;

    /// The audit page names every action in both languages.
    #[test]
    fn every_action_has_a_label() {
        for action in AuditAction::ALL {
            let key = format!("audit.action_{}", action.as_str());
            for lang in [Lang::Zh, Lang::En] {
                assert_ne!(crate::i18n::t(lang, &key), key, "{key} missing in {lang:?}");
            }
        }
    }
}
