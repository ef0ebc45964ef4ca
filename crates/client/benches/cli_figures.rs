//! The figures a person feels, for `make bench`, timed end to end through the release
//! binaries as a user drives them (`QUIRE_CLI_BIN`, `QUIRE_SERVER_BIN`; process start
//! included), with ordinary notes of about 1 KB (16 lines of words):
//!
//! - taking in a folder of 10,000 Markdown files (`quire config set vault-dir`, then `quire
//!   vault scan`), a new folder and device each run;
//! - pushing those 10,000 queued notes (`quire sync` on the device that scanned them);
//! - a fresh device's first sync of them (`quire account login`, then `quire sync`);
//! - a vault pass after one file of the 10,000 changed, through `quire vault scan`, and in
//!   process (a `Store` and the vault module, no process start): the pass the watcher makes
//!   when told the file's name, which has the target, and a pass that checks every file;
//! - the first sync of 100,000 notes into a fresh device (the notes made through the
//!   library, pushed with `quire sync`).
//!
//! The server is the release `quire-server` on a SQLite file; every directory is on disk
//! (/var/tmp). Each timed command runs 3 times and the median counts; min–max is shown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use quire_client::credentials::{FileStore, CREDENTIALS_FILE};
use quire_client::vault::{self, Scope};
use quire_client::Store;
use serde_json::Value;
use support::{Device, Row};

const NOTES: usize = 10_000;
const MANY_NOTES: usize = 100_000;
/// The counts as the table shows them.
const NOTES_TEXT: &str = "10,000";
const MANY_NOTES_TEXT: &str = "100,000";
const RUNS: usize = 3;
const PASSWORD: &str = "long enough pw";

/// What a failed step says; the rows measured before it are kept.
type Step<T> = Result<T, String>;

/// Figures measured together, adding their rows as they go.
type Group = fn(&Quire, &str, &tokio::runtime::Runtime, &mut Vec<Row>) -> Step<()>;

/// The `quire` binary, run on one data dir at a time with file credentials.
struct Quire {
    bin: PathBuf,
}

/// One finished command: its wall time, when its first line of output came (for `quire
/// sync`, the round's report; after it the device closes, and a vault folder follows), and
/// its output.
struct Timed {
    total: Duration,
    first_output: Option<Duration>,
    json: Value,
}

impl Quire {
    fn command(&self, data_dir: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .arg("--json")
            .args(args)
            .env("QUIRE_DATA_DIR", data_dir)
            .env("QUIRE_CREDENTIALS", "file")
            .env("QUIRE_PASSWORD", PASSWORD)
            .env("QUIRE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs `quire --json ARGS` on `data_dir` and times it from spawn to exit.
    fn run(&self, data_dir: &Path, args: &[&str]) -> Step<Timed> {
        let started = Instant::now();
        let mut child = self
            .command(data_dir, args)
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", self.bin.display()))?;
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let out_reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            let mut buf = [0_u8; 8192];
            let mut first = None;
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                first.get_or_insert_with(|| started.elapsed());
                text.extend_from_slice(&buf[..n]);
            }
            (first, text)
        });
        let err_reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let status = child.wait().map_err(|err| err.to_string())?;
        let total = started.elapsed();
        let (first_output, text) = out_reader.join().unwrap();
        let errors = err_reader.join().unwrap();
        if !status.success() {
            let last = errors.lines().last().unwrap_or("").trim();
            return Err(format!(
                "quire {} failed ({status}): {last}",
                args.join(" ")
            ));
        }
        let json = serde_json::from_slice(&text).unwrap_or(Value::Null);
        Ok(Timed {
            total,
            first_output,
            json,
        })
    }

    fn sign_in(&self, data_dir: &Path, server: &str, user: &str, new: bool) -> Step<()> {
        let verb = if new { "register" } else { "login" };
        self.run(
            data_dir,
            &["account", verb, "--server", server, "--user", user],
        )
        .map(drop)
    }
}

/// A count in a command's JSON answer, which must be `want`.
fn expect_count(timed: &Timed, key: &str, want: usize, what: &str) -> Step<()> {
    let got = timed.json.get(key).and_then(Value::as_u64);
    if got == Some(want as u64) {
        Ok(())
    } else {
        Err(format!("{what}: {key} was {got:?}, not {want}"))
    }
}

/// A folder of `count` Markdown files as another app leaves them: `note N.md`, an ordinary
/// note's body each, no front matter.
fn markdown_folder(count: usize) -> tempfile::TempDir {
    let dir = support::disk_dir("quire-bench-vault-");
    for i in 0..count {
        std::fs::write(
            dir.path().join(format!("note {i}.md")),
            support::ordinary_body(i),
        )
        .unwrap();
    }
    dir
}

/// Changes one file of the folder the way an editor saves it: a line added at the end.
fn edit_one_file(folder: &Path, i: usize, run: usize) -> Step<()> {
    let path = folder.join(format!("note {i}.md"));
    let mut text =
        std::fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    text.push_str(&format!("A line added in another editor, edit {run}.\n"));
    std::fs::write(&path, text).map_err(|err| format!("{}: {err}", path.display()))
}

/// Median, min and max.
fn spread(samples: &[Duration]) -> (Duration, Duration, Duration) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    (
        sorted[sorted.len() / 2],
        sorted[0],
        sorted[sorted.len() - 1],
    )
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn millis(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// "median (min–max, N runs)" in `unit`.
fn measured(samples: &[Duration], unit: fn(Duration) -> String) -> String {
    let (median, min, max) = spread(samples);
    if samples.len() == 1 {
        return unit(median);
    }
    format!(
        "{} ({}–{}, {} runs)",
        unit(median),
        unit(min),
        unit(max),
        samples.len()
    )
}

fn timed_row(
    figure: String,
    samples: &[Duration],
    unit: fn(Duration) -> String,
    target: Option<(Duration, &str)>,
) -> Row {
    let (median, ..) = spread(samples);
    Row {
        figure,
        measured: measured(samples, unit),
        target: target.map_or("report", |(_, text)| text).to_owned(),
        met: target.map(|(limit, _)| median <= limit),
    }
}

/// A device that took in a folder, kept for the figures after the import.
struct Scanned {
    device: tempfile::TempDir,
    folder: tempfile::TempDir,
}

/// The 10,000-note figures: import, push, a fresh device's pull, a vault pass after one
/// change. Rows are added as they are measured.
fn ten_thousand(
    quire: &Quire,
    server: &str,
    runtime: &tokio::runtime::Runtime,
    rows: &mut Vec<Row>,
) -> Step<()> {
    // Take in a folder: a new folder and device each run.
    let mut scanned = Vec::new();
    let mut imports = Vec::new();
    for _ in 0..RUNS {
        let folder = markdown_folder(NOTES);
        let device = support::disk_dir("quire-bench-cli-device-");
        let dir = folder.path().to_str().unwrap();
        quire.run(device.path(), &["config", "set", "vault-dir", dir])?;
        let scan = quire.run(device.path(), &["vault", "scan"])?;
        expect_count(&scan, "created", NOTES, "quire vault scan")?;
        imports.push(scan.total);
        scanned.push(Scanned { device, folder });
    }
    rows.push(timed_row(
        format!("take in a folder of {NOTES_TEXT} Markdown files (quire vault scan, new folder and device each run)"),
        &imports,
        secs,
        Some((Duration::from_secs(2), "≤ 2 s")),
    ));

    // Push what each device took in, each to its own account.
    let mut pushes = Vec::new();
    let mut rounds = Vec::new();
    for (run, device) in scanned.iter().enumerate() {
        quire.sign_in(device.device.path(), server, &format!("cli-{run}"), true)?;
        let sync = quire.run(device.device.path(), &["sync"])?;
        expect_count(&sync, "pushed", NOTES, "quire sync (push)")?;
        pushes.push(sync.total);
        rounds.push(sync.first_output.unwrap_or(sync.total));
    }
    let mut push = timed_row(
        format!("push {NOTES_TEXT} queued notes (quire sync on the device that scanned them)"),
        &pushes,
        secs,
        Some((Duration::from_millis(450), "≤ 0.45 s")),
    );
    push.measured.push_str(&format!(
        "; its round reported after {}, the rest is quire closing (the vault folder follows)",
        measured(&rounds, secs)
    ));
    rows.push(push);

    // A fresh device signs in to each account and pulls.
    let mut pulls = Vec::new();
    for run in 0..RUNS {
        let fresh = support::disk_dir("quire-bench-cli-fresh-");
        quire.sign_in(fresh.path(), server, &format!("cli-{run}"), false)?;
        let sync = quire.run(fresh.path(), &["sync"])?;
        expect_count(&sync, "pulled", NOTES, "quire sync (fresh device)")?;
        pulls.push(sync.total);
    }
    rows.push(timed_row(
        format!("fresh device pulls {NOTES_TEXT} notes (quire sync after quire account login)"),
        &pulls,
        secs,
        Some((Duration::from_millis(400), "≤ 0.40 s")),
    ));

    // One file changed in the folder of the first device, then a pass.
    let Scanned { device, folder } = scanned.swap_remove(0);
    drop(scanned);
    let mut cli_passes = Vec::new();
    for run in 0..RUNS {
        edit_one_file(folder.path(), 1_000 + run, run)?;
        let scan = quire.run(device.path(), &["vault", "scan"])?;
        expect_count(&scan, "updated", 1, "quire vault scan after one change")?;
        cli_passes.push(scan.total);
    }
    rows.push(timed_row(
        format!("vault pass after one file changed, {NOTES_TEXT} files (quire vault scan, process start included)"),
        &cli_passes,
        millis,
        None,
    ));

    let (scoped, full) = runtime.block_on(in_process_passes(device.path(), folder.path()))?;
    rows.push(timed_row(
        format!("vault pass after one file changed, {NOTES_TEXT} files, in process (vault::pass told the file's name, as the watcher is)"),
        &scoped,
        millis,
        Some((Duration::from_millis(50), "≤ 50 ms")),
    ));
    rows.push(timed_row(
        format!("vault pass after one file changed, {NOTES_TEXT} files, in process, every file checked (vault::sync_folder)"),
        &full,
        millis,
        None,
    ));
    Ok(())
}

/// Times vault passes after one file changed, in process: the device's store opened through
/// the library, then for each run a file changed and the pass the watcher makes on being
/// told its name (`vault::pass` with `Scope::Names`), and, apart, the full pass (`quire vault
/// scan`'s, `vault::sync_folder`) after another file changed.
async fn in_process_passes(device: &Path, folder: &Path) -> Step<(Vec<Duration>, Vec<Duration>)> {
    let secrets = FileStore::new(device.join(CREDENTIALS_FILE));
    let store = Store::open(device, &secrets)
        .await
        .map_err(|err| format!("opening the device's store: {err}"))?;
    let outcome = async {
        let mut scoped = Vec::new();
        let mut full = Vec::new();
        for run in 0..RUNS {
            let changed = 2_000 + run;
            edit_one_file(folder, changed, run)?;
            let names = HashSet::from([format!("note {changed}.md")]);
            let started = Instant::now();
            let report = vault::pass(&store, folder, &Scope::Names(names), &|_| {})
                .await
                .map_err(|err| format!("vault::pass: {err}"))?;
            scoped.push(started.elapsed());
            expect_updated(report.updated, "vault::pass after one change")?;

            let changed = 3_000 + run;
            edit_one_file(folder, changed, run)?;
            let started = Instant::now();
            let report = vault::sync_folder(&store, folder)
                .await
                .map_err(|err| format!("vault::sync_folder: {err}"))?;
            full.push(started.elapsed());
            expect_updated(report.updated, "vault::sync_folder after one change")?;
        }
        Ok((scoped, full))
    }
    .await;
    store.close().await;
    outcome
}

fn expect_updated(updated: u64, what: &str) -> Step<()> {
    if updated == 1 {
        Ok(())
    } else {
        Err(format!("{what} updated {updated} notes, not 1"))
    }
}

/// The 100,000-note figures: the push (reported) and a fresh device's first sync.
fn hundred_thousand(
    quire: &Quire,
    server: &str,
    runtime: &tokio::runtime::Runtime,
    rows: &mut Vec<Row>,
) -> Step<()> {
    // Made through the library in imports of 1,000, as another app's notes would come in.
    let writer = runtime.block_on(async {
        let device = Device::new().await;
        device.fill(MANY_NOTES).await;
        let Device { dir, store, .. } = device;
        store.close().await;
        dir
    });
    quire.sign_in(writer.path(), server, "cli-many", true)?;
    let push = quire.run(writer.path(), &["sync"])?;
    expect_count(&push, "pushed", MANY_NOTES, "quire sync (push)")?;
    rows.push(timed_row(
        format!("push {MANY_NOTES_TEXT} queued notes (quire sync)"),
        &[push.total],
        secs,
        None,
    ));
    drop(writer);

    let mut pulls = Vec::new();
    for _ in 0..RUNS {
        let fresh = support::disk_dir("quire-bench-cli-fresh-");
        quire.sign_in(fresh.path(), server, "cli-many", false)?;
        let sync = quire.run(fresh.path(), &["sync"])?;
        expect_count(&sync, "pulled", MANY_NOTES, "quire sync (fresh device)")?;
        pulls.push(sync.total);
    }
    rows.push(timed_row(
        format!("first sync of {MANY_NOTES_TEXT} notes into a fresh device (quire sync after quire account login)"),
        &pulls,
        secs,
        Some((Duration::from_secs(5), "≤ 5 s")),
    ));
    Ok(())
}

fn main() {
    support::check_ordinary_notes();
    // `cargo test --all-targets` runs this too; only `make bench` names the release binaries.
    let (Ok(cli_bin), Ok(server_bin)) = (
        std::env::var("QUIRE_CLI_BIN"),
        std::env::var("QUIRE_SERVER_BIN"),
    ) else {
        support::report(
            "cli",
            &[Row {
                figure: "figures through the release quire and quire-server".into(),
                measured:
                    "not run: QUIRE_CLI_BIN or QUIRE_SERVER_BIN unset (run through make bench)"
                        .into(),
                target: "see make bench".into(),
                met: Some(false),
            }],
        );
        return;
    };
    let quire = Quire {
        bin: PathBuf::from(cli_bin),
    };
    // Every bench device signs up from 127.0.0.1: lift the per-address sign-up limit.
    let server =
        support::ServerProcess::start(&server_bin, &["--max-registrations-per-hour", "10000"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();

    let mut rows = Vec::new();
    let groups: [(&str, Group); 2] = [
        ("the 10,000-note figures", ten_thousand),
        ("the 100,000-note figures", hundred_thousand),
    ];
    for (name, group) in groups {
        if let Err(err) = group(&quire, &server.url, &runtime, &mut rows) {
            rows.push(Row {
                figure: format!("{name} not measured yet"),
                measured: format!("failed: {err}"),
                target: "every figure measured".into(),
                met: Some(false),
            });
        }
    }
    drop(server);
    support::report("cli", &rows);
}
