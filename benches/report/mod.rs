//! p50 / p99 figures and their table, for the benches' `report` mode.

use std::time::Duration;

pub struct Figure {
    pub what: String,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

pub fn figure(what: &str, mut runs: Vec<Duration>) -> Figure {
    runs.sort();
    let at = |q: f64| runs[((runs.len() - 1) as f64 * q).round() as usize];
    let figure = Figure {
        what: what.to_string(),
        p50: at(0.5),
        p99: at(0.99),
        max: runs[runs.len() - 1],
    };
    println!(
        "  {}: p50 {} · p99 {} · max {} ({} runs)",
        figure.what,
        fmt_duration(figure.p50),
        fmt_duration(figure.p99),
        fmt_duration(figure.max),
        runs.len()
    );
    figure
}

pub fn print_table(figures: &[Figure]) {
    let rows: Vec<[String; 4]> = figures
        .iter()
        .map(|f| {
            [
                f.what.clone(),
                fmt_duration(f.p50),
                fmt_duration(f.p99),
                fmt_duration(f.max),
            ]
        })
        .collect();
    let header = ["figure", "p50", "p99", "max"].map(String::from);
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .chain(std::iter::once(&header))
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String; 4]| {
        let cells: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.chars().count()))))
            .collect();
        format!("| {} |", cells.join(" | "))
    };
    println!();
    println!("{}", line(&header));
    println!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for row in &rows {
        println!("{}", line(row));
    }
}
