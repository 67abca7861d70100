//! End-to-end tests of the `smedx` binary: exit codes, JSON shapes and messages a user sees.

mod assess;
mod backup;
mod cli;
mod regional;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The result of one run of the binary.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts a zero exit code and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        &self.stdout
    }

    /// Asserts exit code 2 (bad input) and returns stderr.
    #[track_caller]
    pub fn bad_input(&self) -> &str {
        assert_eq!(
            self.code,
            Some(2),
            "expected exit code 2 (bad input)\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "bad input must not panic:\n{}",
            self.stderr
        );
        &self.stderr
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| {
            panic!(
                "stdout should be JSON: {e}\n--- stdout ---\n{}",
                self.stdout
            )
        })
    }
}

/// Runs the built `smedx` with the given arguments, ignoring the user's SMEDX_* settings.
pub fn smedx<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out: Output = Command::new(env!("CARGO_BIN_EXE_smedx"))
        .args(args)
        .env_remove("SMEDX_KB")
        .env_remove("SMEDX_LANG")
        .output()
        .expect("the smedx binary should start");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A file under the repository's `examples/`.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// A unique path under the system temp dir, removed (file or folder) when dropped.
pub struct TempPath(pub PathBuf);

impl TempPath {
    pub fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        TempPath(
            std::env::temp_dir().join(format!("smedx-cli-test-{}-{n}-{name}", std::process::id())),
        )
    }

    /// A temp file with this content.
    pub fn file(name: &str, content: &str) -> Self {
        let t = TempPath::new(name);
        std::fs::write(&t.0, content).expect("the temp file should be writable");
        t
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.0.is_dir() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}
