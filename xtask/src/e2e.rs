//! The end-to-end suite's surroundings: a virtual X display (Xvfb), tauri-driver
//! in front of WebKitWebDriver, and the test crate run against them.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::proc::Guard;
use crate::test::Tally;
use crate::{build, demo, paths, proc, setup};

/// `cargo xtask e2e [NAME…]`: set up, build, run only the end-to-end suite (only the
/// tests whose names contain one of `names`, when given).
pub fn run_suite_only(names: &[String]) -> Result<()> {
    setup::ensure(setup::Purpose::Test)?;
    build::build_ui()?;
    let app = build::build_app()?;
    let mut tally = Tally::default();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let result = run_suite_with(&app, &names, &mut tally);
    tally.print();
    result
}

/// Run the end-to-end test crate against `app`, adding its counts to `tally`.
pub fn run_suite(app: &Path, tally: &mut Tally) -> Result<()> {
    run_suite_with(app, &[], tally)
}

/// [`run_suite`] narrowed to the tests whose names contain one of `names` (all if none).
fn run_suite_with(app: &Path, names: &[&str], tally: &mut Tally) -> Result<()> {
    if !cfg!(target_os = "linux") {
        proc::step("End-to-end suite");
        proc::info(
            "skipped: tauri-driver drives the real window on Linux (WebKitGTK) and Windows only; CI runs it on Linux",
        );
        return Ok(());
    }
    proc::step("End-to-end suite: the real window under Xvfb, driven by tauri-driver");
    // A new demo company each run: its figures are for the current period, and no
    // earlier run's enrollments or sign-ins are in the way.
    let demo_dir = paths::target_dir().join("e2e-demo");
    if demo_dir.exists() {
        std::fs::remove_dir_all(&demo_dir)
            .with_context(|| format!("cannot clear {}", demo_dir.display()))?;
    }
    let server = demo::start(&demo_dir)?;
    let out = paths::e2e_out();
    let (ok, output) = window_tests(
        app,
        &paths::target_dir().join("e2e-app"),
        &out,
        // P11's memory run needs a 1M-member demo: `cargo xtask bench P11` runs it.
        &[names, &["--skip", MILLION_TEST]].concat(),
        &[
            ("CANOPY_E2E_PROVISIONING", server.provisioning.as_os_str()),
            ("CANOPY_E2E_SERVER", demo::server_binary().as_os_str()),
        ],
    )?;
    tally.add_output(&output);
    drop(server);
    if !ok {
        bail!(
            "the end-to-end suite failed (screenshots, if any, are in {})",
            out.display()
        );
    }
    proc::info(&format!("screenshots: {}", out.display()));
    Ok(())
}

/// A private Xvfb display on the first free number from :90.
/// The window test that measures P11's memory half.
const MILLION_TEST: &str = "a_million_members_in_the_window";

/// Runs the window tests of `canopy-e2e` (all the ignored ones, narrowed by `filter`, one
/// at a time) against `app` under a new Xvfb display and tauri-driver, the app's files in
/// `app_dir`, screenshots in `out`
/// (cleared). Returns whether they passed, and their output.
fn window_tests(
    app: &Path,
    app_dir: &Path,
    out: &Path,
    filter: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> Result<(bool, String)> {
    std::fs::create_dir_all(app_dir)
        .with_context(|| format!("cannot create {}", app_dir.display()))?;
    let app_provisioning = app_dir.join("provisioning.json");
    let app_data = app_dir.join("data");
    let display = Display::start()?;
    let driver = Driver::start(&display.name, &app_provisioning, &app_data)?;
    if out.exists() {
        std::fs::remove_dir_all(out).with_context(|| format!("cannot clear {}", out.display()))?;
    }
    let mut cmd = proc::cargo();
    cmd.args([
        "test",
        "--package",
        "canopy-e2e",
        "--",
        "--ignored",
        "--test-threads=1",
    ])
    .args(filter)
    .env("DISPLAY", &display.name)
    .env("CANOPY_E2E_APP", app)
    .env(
        "CANOPY_E2E_WEBDRIVER",
        format!("http://127.0.0.1:{}", driver.port),
    )
    .env("CANOPY_E2E_OUT", out)
    .env("CANOPY_E2E_APP_PROVISIONING", &app_provisioning)
    .env("CANOPY_E2E_APP_DATA", &app_data)
    .env(
        "CANOPY_E2E_SCRATCH",
        paths::target_dir().join("e2e-scratch"),
    );
    for (name, value) in env {
        cmd.env(name, value);
    }
    let result = proc::run_captured(&mut cmd);
    drop(driver);
    drop(display);
    result
}

/// P11's memory half: the release app against a release `canopy-server demo --members
/// 1000000` (kept under `target/bench/`, so the company is seeded once), in the window
/// test that signs in as its admin, waits out the first sync, uses the genealogy and reads
/// the app's memory. Returns that test's report.
pub fn million_memory(app: &Path) -> Result<serde_json::Value> {
    proc::step("P11: the release server with a 1,000,000-member demo");
    proc::run(proc::cargo().args(["build", "--release", "--package", "canopy-server"]))?;
    let name = if cfg!(windows) {
        "canopy-server.exe"
    } else {
        "canopy-server"
    };
    let binary = paths::target_dir().join("release").join(name);
    // Seeding a million members takes minutes the first time.
    let server = demo::start_with(
        &binary,
        &paths::bench_out().join("demo-1000000"),
        &["--members", "1000000"],
        Duration::from_secs(1_800),
    )?;
    proc::step("P11: the app's memory with the 1M cache open, in the real window");
    let out = paths::bench_out().join("p11");
    let (ok, output) = window_tests(
        app,
        &paths::bench_out().join("p11-app"),
        &out,
        &["--exact", MILLION_TEST],
        &[("CANOPY_E2E_MILLION", server.provisioning.as_os_str())],
    )?;
    drop(server);
    if !ok {
        bail!(
            "the memory run failed (screenshots, if any, are in {}):\n{output}",
            out.display()
        );
    }
    let report = out.join("p11-memory.json");
    let text = std::fs::read_to_string(&report)
        .with_context(|| format!("the memory run wrote no {}", report.display()))?;
    Ok(serde_json::from_str(&text)?)
}

struct Display {
    name: String,
    _server: Guard,
}

impl Display {
    fn start() -> Result<Self> {
        let number = (90..200)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .context("no free X display number between :90 and :199")?;
        let name = format!(":{number}");
        proc::info(&format!(
            "$ Xvfb {name} -screen 0 1280x800x24 -nolisten tcp"
        ));
        let server = Command::new("Xvfb")
            .args([
                name.as_str(),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start Xvfb (Debian package `xvfb`)")?;
        let server = Guard(server);
        let socket = format!("/tmp/.X11-unix/X{number}");
        wait_until(Duration::from_secs(15), || Path::new(&socket).exists())
            .with_context(|| format!("Xvfb did not open display {name}"))?;
        Ok(Self {
            name,
            _server: server,
        })
    }
}

/// tauri-driver on a free loopback port, in front of Debian's WebKitWebDriver.
struct Driver {
    port: u16,
    _process: Guard,
}

impl Driver {
    /// The app it starts inherits its environment: the display and the
    /// provisioning file of the demo server.
    fn start(display: &str, provisioning: &Path, data: &Path) -> Result<Self> {
        let port = free_port()?;
        let native_port = free_port()?;
        let native = which_webkit_driver()?;
        let mut cmd = proc::command("tauri-driver");
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
            "--native-driver",
            &native,
        ])
        .env("DISPLAY", display)
        .env("CANOPY_PROVISIONING", provisioning)
        .env("CANOPY_DATA_DIR", data)
        // Software rendering: Xvfb has no GPU, and WebKit's DMA-BUF renderer
        // would otherwise leave the window blank.
        .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .stdout(Stdio::null());
        proc::info(&format!(
            "$ tauri-driver --port {port} --native-port {native_port} --native-driver {native}"
        ));
        let process = Guard(cmd.spawn().context("cannot start tauri-driver")?);
        wait_until(Duration::from_secs(15), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        })
        .context("tauri-driver did not start listening")?;
        Ok(Self {
            port,
            _process: process,
        })
    }
}

fn which_webkit_driver() -> Result<String> {
    for candidate in [
        "/usr/bin/WebKitWebDriver",
        "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitWebDriver",
    ] {
        if Path::new(candidate).is_file() {
            return Ok(candidate.to_owned());
        }
    }
    if proc::on_path("WebKitWebDriver") {
        return Ok("WebKitWebDriver".to_owned());
    }
    bail!("WebKitWebDriver not found (Debian package `webkit2gtk-driver`)")
}

fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind(("127.0.0.1", 0)).context("cannot find a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("timed out after {limit:?}")
}
