//! The `nexus` binary as an operator uses it: first start, restart, user commands.

#[path = "cli/archive.rs"]
mod archive;
#[path = "cli/durability.rs"]
mod durability;
#[path = "cli/faults.rs"]
mod faults;
#[path = "cli/ops.rs"]
mod ops;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nexus-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn nexus(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nexus"))
        .args(args)
        .env("NEXUS_DATA_DIR", dir)
        .env_remove("DATABASE_URL")
        .env_remove("NEXUS_ADMIN_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("run nexus")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Starts `nexus serve` on a free port, reads its log until it listens, stops it, and
/// returns what it printed to stdout.
fn serve_once(dir: &Path) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nexus"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("NEXUS_DATA_DIR", dir)
        .env("NEXUS_LOG", "info")
        .env_remove("DATABASE_URL")
        .env_remove("NEXUS_ADMIN_PASSWORD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut listening = false;
    for line in stderr.lines() {
        if line.expect("stderr line").contains("listening on") {
            listening = true;
            break;
        }
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(listening, "nexus serve did not start");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut out)
        .expect("read stdout");
    out
}

#[test]
fn first_start_prints_the_admin_password_once() {
    let dir = data_dir("serve");
    let first = serve_once(&dir);
    assert!(
        first.contains("Created the `admin` account with password: "),
        "{first}"
    );
    assert!(dir.join("nexus.db").exists());
    assert!(dir.join("secret").exists());
    let second = serve_once(&dir);
    assert!(!second.contains("password"), "{second}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_short_admin_password_is_refused_with_the_reason() {
    let dir = data_dir("short");
    let out = Command::new(env!("CARGO_BIN_EXE_nexus"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("NEXUS_DATA_DIR", &dir)
        .env("NEXUS_ADMIN_PASSWORD", "short")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run nexus");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("creating defaults: NEXUS_ADMIN_PASSWORD: must be at least"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn user_commands() {
    let dir = data_dir("user");
    let out = nexus(&dir, &["migrate"]);
    assert!(out.status.success(), "{out:?}");

    let out = nexus(
        &dir,
        &[
            "user",
            "add",
            "Operator1",
            "--role",
            "staff",
            "--password",
            "operator-password",
            "--email",
            "op1@plant.example",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("created user operator1"));

    let out = nexus(&dir, &["user", "add", "x", "--password", "short"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("username") && err.contains("password"),
        "{err}"
    );

    let out = nexus(
        &dir,
        &[
            "user",
            "add",
            "operator1",
            "--password",
            "operator-password",
        ],
    );
    assert!(!out.status.success(), "duplicate refused");

    let out = nexus(&dir, &["user", "set-role", "operator1", "manager"]);
    assert!(out.status.success(), "{out:?}");
    let out = nexus(&dir, &["user", "set-role", "operator1", "emperor"]);
    assert!(!out.status.success());
    let out = nexus(
        &dir,
        &[
            "user",
            "set-password",
            "operator1",
            "--password",
            "another-password",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let out = nexus(
        &dir,
        &[
            "user",
            "set-password",
            "ghost",
            "--password",
            "another-password",
        ],
    );
    assert!(!out.status.success());

    let list = stdout(&nexus(&dir, &["user", "list"]));
    assert!(
        list.contains("operator1")
            && list.contains("manager")
            && list.contains("op1@plant.example"),
        "{list}"
    );
    assert!(list.contains("admin"));
    assert!(list.contains("2 user(s)"));
    let _ = std::fs::remove_dir_all(dir);
}
