//! `cargo bench --bench validate [-- SIZE...]`: wall time and peak memory of
//! `cognito-sync validate` on generated manifests, 1k, 10k and 100k users by default.
//! Each measurement runs in a fresh child process so that peak memory (VmHWM) is the
//! validation's own. Three kinds of manifest per size:
//! - `plain`: users in block style. Target: 100k users in under 1 s and 200 MB; 1M users
//!   under 800 MB.
//! - `anchors`: the same with an anchor in `defaults` and an alias in every user. Target:
//!   no 2× penalty over `plain`.
//! - `invalid`: every user has an invalid email, all reported. Target: 100k in under 5 s.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
const RUNS: usize = 5;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Plain,
    Anchors,
    Invalid,
}

fn main() {
    let mut args = std::env::args().skip(1);
    if let (Some(flag), Some(path)) = (args.next(), args.next())
        && flag == "--child"
    {
        return child(Path::new(&path));
    }
    // `cargo bench` passes `--bench`; numbers are sizes.
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.replace('_', "").parse().ok()).collect();
    let sizes = if sizes.is_empty() { SIZES.to_vec() } else { sizes };
    let dir = tempfile::tempdir().expect("temp dir");
    println!("| manifest | users | file size | median wall time | peak memory |");
    println!("|---|---:|---:|---:|---:|");
    for kind in [Kind::Plain, Kind::Anchors, Kind::Invalid] {
        for &size in &sizes {
            let path = dir.path().join(format!("users-{size}.yaml"));
            std::fs::write(&path, manifest(size, kind)).expect("write manifest");
            let runs = if size >= 1_000_000 { 1 } else { RUNS };
            let mut times = Vec::new();
            let mut peak_kib = 0;
            for _ in 0..runs {
                let start = Instant::now();
                let out = Command::new(std::env::current_exe().expect("own path"))
                    .arg("--child")
                    .arg(&path)
                    .output()
                    .expect("run child");
                times.push(start.elapsed());
                assert!(out.status.success(), "child failed: {}", String::from_utf8_lossy(&out.stderr));
                let text = String::from_utf8_lossy(&out.stdout);
                let last = text.lines().last().unwrap_or_default();
                peak_kib = peak_kib.max(last.trim().parse::<u64>().expect("peak memory in KiB"));
            }
            times.sort();
            let bytes = std::fs::metadata(&path).expect("metadata").len();
            let name = match kind {
                Kind::Plain => "plain",
                Kind::Anchors => "anchors",
                Kind::Invalid => "invalid",
            };
            println!(
                "| {name} | {size} | {:.1} MB | {:.3} s | {:.1} MiB |",
                bytes as f64 / 1e6,
                times[runs / 2].as_secs_f64(),
                peak_kib as f64 / 1024.0
            );
        }
    }
}

/// Validates in this process (stderr, the report of an invalid manifest, goes to a file),
/// then prints its peak resident memory in KiB.
fn child(path: &Path) {
    let status = cognito_sync::run(["cognito-sync", "--quiet", "validate", path.to_str().expect("utf-8 path")]);
    let invalid = std::fs::read_to_string(path).expect("manifest").contains("@invalid\n");
    let expected = if invalid { cognito_sync::ExitStatus::Failure } else { cognito_sync::ExitStatus::Success };
    assert_eq!(status, expected);
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM");
    println!("{peak}");
}

/// A realistic manifest: defaults, a rule, and users with several attributes each.
fn manifest(users: usize, kind: Kind) -> String {
    let locale = if kind == Kind::Anchors { "&locale en-US" } else { "en-US" };
    let mut text = format!(
        "# yaml-language-server: $schema=../schemas/manifest.v1.json\nversion: 1\npool:\n  id: us-east-1_Bench1\nrules:\n  username_pattern: '^[a-z][a-z0-9._-]{{2,63}}$'\ndefaults:\n  email_verified: true\n  locale: {locale}\nusers:\n",
    );
    for i in 0..users {
        let domain = if kind == Kind::Invalid { "invalid" } else { "example.com" };
        text.push_str(&format!(
            "  - username: user{i:06}\n    email: user{i:06}@{domain}\n    given_name: Given{i}\n    family_name: Family, {i}\n    phone_number: '+1555{:07}'\n    custom:\n      department: dept{}\n",
            i % 10_000_000,
            i % 17
        ));
        if kind == Kind::Anchors {
            text.push_str("    locale: *locale\n");
        }
    }
    text
}
