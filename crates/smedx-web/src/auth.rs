//! Passwords (argon2id), random tokens and their hashes, cookies, the login rate limit.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum_extra::extract::cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};

pub const MIN_PASSWORD: usize = 10;
pub const MAX_PASSWORD: usize = 256;
pub const SESSION_COOKIE: &str = "smedx_session";
pub const CSRF_COOKIE: &str = "smedx_csrf";
pub const LANG_COOKIE: &str = "lang";
pub const SESSION_SECONDS: i64 = 14 * 24 * 3600;
/// A setup token (the one-time link that creates the first administrator) is valid this long.
pub const SETUP_TOKEN_SECONDS: i64 = 24 * 3600;
/// Login rate limit: this many failures per e-mail address within the window → 429.
pub const MAX_LOGIN_FAILURES: i64 = 5;
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// 32 random bytes as 64 hex characters.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::fill(&mut b);
    hex(&b)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Only this hash of a session, API or setup token is stored, so a leaked database opens nothing.
pub fn sha256_hex(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares secrets without an early exit, so timing does not reveal a matching prefix.
pub fn constant_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Hashes with argon2id off the async threads (it is deliberately slow).
pub async fn hash_password(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

pub async fn verify_password(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password: verifying against it costs the same as a real account, so the
/// response time does not tell whether an e-mail address is registered.
pub async fn dummy_verify(password: String) {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let phc = DUMMY
        .get_or_init(|| async { hash_password(new_token()).await.unwrap_or_default() })
        .await
        .clone();
    let _ = verify_password(password, phc).await;
}

/// Lower-cases and checks the shape of an e-mail address (a full check is sending mail).
pub fn normalize_email(s: &str) -> Option<String> {
    let e = s.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.len() <= 254
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    ok.then_some(e)
}

pub fn login_key(email: &str) -> String {
    format!("login:{}", email.trim().to_lowercase())
}

pub fn cookie(name: &'static str, value: String, secure: bool, max_age: i64) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(time_duration(max_age))
        .build()
}

pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    cookie(name, String::new(), secure, 0)
}

fn time_duration(secs: i64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(normalize_email(" A@B.cn "), Some("a@b.cn".into()));
        assert_eq!(normalize_email("ab.cn"), None);
        assert_eq!(normalize_email("a@b"), None);
        assert_eq!(normalize_email("a b@c.cn"), None);
        assert_eq!(normalize_email("a\0@b.cn"), None);
        assert_eq!(normalize_email("a@b.cn\u{7f}"), None);
    }

    #[test]
    fn tokens_and_hashes() {
        let t = new_token();
        assert_eq!(t.len(), 64);
        assert_ne!(t, new_token());
        assert_eq!(sha256_hex("abc").len(), 64);
        assert!(constant_eq("abc", "abc"));
        assert!(!constant_eq("abc", "abd"));
        assert!(!constant_eq("abc", "ab"));
    }
}
