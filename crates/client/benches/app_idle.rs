//! The desktop app at rest, for `make bench`: a store of 10,000 notes, signed in to a local
//! server and up to date; the release `quire-app` (`QUIRE_APP_BIN`) is started on it under
//! the display `make bench` provides, left 20 s to load and finish its first round, then
//! watched for 30 s: CPU time used and resident memory, of quire-app itself and of the
//! WebKit processes it starts (which draw the window). Then once more on an empty store, for
//! what the notes themselves cost. The memory target is quire-app's own heap (`RssAnon`);
//! its whole RSS, mostly the libraries WebKitGTK and Mesa map, is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Device, Row};

const NOTES: usize = 10_000;
const SETTLE: Duration = Duration::from_secs(20);
const WATCH: Duration = Duration::from_secs(30);

/// A process and every process below it.
fn tree(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(ppid) = stat_fields(pid).and_then(|f| f.get(1).and_then(|p| p.parse().ok())) {
            parents.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    found
}

/// The fields of /proc/PID/stat after the command name (state is index 0, ppid 1).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    Some(after_name.split(' ').map(str::to_owned).collect())
}

/// User + system CPU time of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    stat_fields(pid).map_or(0, |f| {
        f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0)
    })
}

/// A `kB` line of /proc/PID/status (`VmRSS`, `RssAnon`), in bytes.
fn status_bytes(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

#[allow(clippy::cast_precision_loss)]
fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// What one run of the app used.
struct Sample {
    /// CPU over the watch, in % of one core: quire-app, and with its WebKit processes.
    cpu: (f64, f64),
    /// Resident bytes: quire-app, its anonymous (own) part, its WebKit processes together.
    rss: u64,
    rss_anon: u64,
    webkit_rss: u64,
    webkit_processes: usize,
}

/// Starts the app on `data_dir`, lets it settle, watches it for `watch`, and stops it.
#[allow(
    clippy::cast_precision_loss,
    clippy::disallowed_methods,
    reason = "the main thread only watches another process; the server runs on the runtime's workers"
)]
fn sample(app_bin: &str, data_dir: &std::path::Path, watch: Duration) -> Sample {
    let mut app = Command::new(app_bin)
        .env("QUIRE_DATA_DIR", data_dir)
        .env("QUIRE_CREDENTIALS", "file")
        .env("QUIRE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start quire-app");
    let pid = app.id();
    std::thread::sleep(SETTLE);
    assert!(app.try_wait().unwrap().is_none(), "quire-app exited early");
    let pids = tree(pid);
    let before: Vec<u64> = pids.iter().map(|p| cpu_ticks(*p)).collect();
    let started = Instant::now();
    std::thread::sleep(watch);
    let secs = started.elapsed().as_secs_f64();
    let used: Vec<u64> = pids
        .iter()
        .zip(&before)
        .map(|(p, b)| cpu_ticks(*p).saturating_sub(*b))
        .collect();
    let rss: Vec<u64> = pids.iter().map(|p| status_bytes(*p, "VmRSS")).collect();
    let rss_anon = status_bytes(pid, "RssAnon");
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = app.wait();

    let ticks = clock_ticks_per_second() as f64;
    let percent = |t: u64| t as f64 / ticks / secs.max(0.001) * 100.0;
    Sample {
        cpu: (percent(used[0]), percent(used.iter().sum())),
        rss: rss[0],
        rss_anon,
        webkit_rss: rss[1..].iter().sum(),
        webkit_processes: pids.len() - 1,
    }
}

fn rows(full: &Sample, empty: &Sample) -> Vec<Row> {
    vec![
        Row {
            figure: format!("quire-app idle CPU over {} s, {NOTES} notes", WATCH.as_secs()),
            measured: format!(
                "{:.2} % (with its {} WebKit processes {:.2} %)",
                full.cpu.0, full.webkit_processes, full.cpu.1
            ),
            target: "~0 %".into(),
            met: Some(full.cpu.1 < 1.0),
        },
        // The target is the app's own heap: its whole RSS also counts what WebKitGTK, GTK
        // and Mesa map, which on a machine without a GPU is more than any target for the app
        // (168 MB with no notes), so that is reported only.
        Row {
            figure: format!("quire-app own heap (RssAnon) with {NOTES} notes"),
            measured: format!(
                "{:.0} MB ({:.0} MB with no notes)",
                mb(full.rss_anon),
                mb(empty.rss_anon)
            ),
            target: "≤ 64 MB".into(),
            met: Some(mb(full.rss_anon) <= 64.0),
        },
        Row {
            figure: format!("quire-app RSS with {NOTES} notes"),
            measured: format!(
                "{:.0} MB, of which {:.0} MB its own heap and {:.0} MB mapped libraries (WebKitGTK, GTK, Mesa); {:.0} MB with no notes",
                mb(full.rss),
                mb(full.rss_anon),
                mb(full.rss - full.rss_anon),
                mb(empty.rss)
            ),
            target: "report MB".into(),
            met: None,
        },
        Row {
            figure: format!("its WebKit processes' RSS with {NOTES} notes"),
            measured: format!(
                "{:.0} MB ({:.0} MB with no notes)",
                mb(full.webkit_rss),
                mb(empty.webkit_rss)
            ),
            target: "report MB".into(),
            met: None,
        },
    ]
}

fn main() {
    let Ok(app_bin) = std::env::var("QUIRE_APP_BIN") else {
        support::report(
            "app",
            &[Row {
                figure: "quire-app idle CPU and RSS".into(),
                measured: "not run: QUIRE_APP_BIN unset (run through make bench)".into(),
                target: "~0 %, own heap ≤ 64 MB".into(),
                met: Some(false),
            }],
        );
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server_dir = support::disk_dir("quire-bench-app-server-");
    let (server, data_dir) = runtime.block_on(async {
        let db = format!("sqlite://{}", server_dir.path().join("s.db").display());
        let server = support::start_server(&db).await;
        let device = Device::new().await;
        device.sign_in(&server.url(), "idle", true).await;
        device.fill(NOTES).await;
        let report = device.sync().await;
        assert_eq!(report.pending, 0);
        // The app opens the store itself.
        let Device { dir, store, .. } = device;
        store.close().await;
        (server, dir)
    });
    let full = sample(&app_bin, data_dir.path(), WATCH);
    runtime.block_on(server.stop()).unwrap();
    // The same app on an empty store: what the notes themselves cost.
    let empty_dir = support::disk_dir("quire-bench-app-empty-");
    let empty = sample(&app_bin, empty_dir.path(), Duration::from_secs(1));
    support::report("app", &rows(&full, &empty));
}
