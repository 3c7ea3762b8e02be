//! Launch → first painted frame of the demo, and what an idle termdesk
//! costs: CPU over 10 idle seconds and bytes written to the terminal.
//! Prints figures; asserts nothing. `cargo bench --bench startup`.

#[path = "../tests/common/pty.rs"]
mod pty;

use std::time::Duration;

use pty::{Tty, scratch_home};
use termdesk::sandbox::{Sandbox, SandboxOptions};

const BINARY: &str = env!("CARGO_BIN_EXE_termdesk");
const LAUNCHES: usize = 7;
const IDLE: Duration = Duration::from_secs(10);

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of a process, in clock ticks (Linux).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn first_frame_ms() -> f64 {
    let home = scratch_home();
    let mut tty = Tty::spawn(BINARY.as_ref(), &[], &home, &[], 120, 40);
    let elapsed = tty.wait_for("the first frame", Duration::from_secs(20), |s| {
        s.contains("DEMO")
    });
    tty.send("q");
    let _ = tty.wait_exit(Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(home);
    elapsed.as_secs_f64() * 1000.0
}

fn idle(label: &str, args: &[&str], env: &[(&str, &str)], ready: &str) {
    let home = scratch_home();
    let mut tty = Tty::spawn(BINARY.as_ref(), args, &home, env, 120, 40);
    tty.wait_for("the inbox", Duration::from_secs(30), |s| s.contains(ready));
    // Let the first full sync finish before measuring.
    std::thread::sleep(Duration::from_secs(3));
    let Some(pid) = tty.child.process_id() else {
        println!("{label}: no process id; skipped");
        return;
    };
    let (ticks_before, bytes_before) = (cpu_ticks(pid), tty.output_len());
    std::thread::sleep(IDLE);
    let (ticks_after, bytes_after) = (cpu_ticks(pid), tty.output_len());
    match (ticks_before, ticks_after) {
        (Some(before), Some(after)) => {
            let cpu_seconds = (after - before) as f64 / clock_ticks_per_second();
            println!(
                "{label}: CPU {:.2}% over {} idle seconds ({:.3} s of CPU); {} bytes written to the terminal",
                100.0 * cpu_seconds / IDLE.as_secs_f64(),
                IDLE.as_secs(),
                cpu_seconds,
                bytes_after - bytes_before
            );
        }
        _ => println!("{label}: /proc not readable; CPU not measured"),
    }
    tty.send("q");
    let _ = tty.wait_exit(Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(home);
}

fn main() {
    // `cargo bench` passes flags such as --bench; this harness takes none.
    let mut times: Vec<f64> = (0..LAUNCHES).map(|_| first_frame_ms()).collect();
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "demo launch → first painted frame over {LAUNCHES} launches: min {:.0} ms, median {:.0} ms, max {:.0} ms",
        times[0],
        times[LAUNCHES / 2],
        times[LAUNCHES - 1]
    );

    idle(
        "demo (in-process sandbox with live traffic, 2 s polling)",
        &[],
        &[],
        "All 3",
    );

    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let sandbox = runtime
        .block_on(Sandbox::start(
            ([127, 0, 0, 1], 0).into(),
            SandboxOptions::default(),
        ))
        .expect("sandbox");
    let home = scratch_home();
    let config = home.join("bench.toml");
    std::fs::write(
        &config,
        format!(
            "[[accounts]]\nname = \"bench\"\nprovider = \"qpien\"\nbase_url = \"{}\"\nclient_id = \"demo\"\nclient_secret_env = \"TERMDESK_BENCH_SECRET\"\npoll_interval_secs = 5\n",
            sandbox.base_url()
        ),
    )
    .expect("write config");
    idle(
        "configured account, nothing happening (5 s polling)",
        &["--config", &config.to_string_lossy()],
        &[("TERMDESK_BENCH_SECRET", "demo")],
        "All 320",
    );
    runtime.block_on(sandbox.shutdown());
}
