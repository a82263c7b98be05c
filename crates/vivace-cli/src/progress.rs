//! The live progress line and the final statistics, as the Trino CLI prints them.

use std::time::Duration;

use vivace_protocol::StatementStats;

/// A count with K/M/B/T and 2, 1 or 0 decimals by size: `25`, `6.45M`, `473K`.
pub fn count(value: f64) -> String {
    scaled(value, 1000.0, &["", "K", "M", "B", "T", "Q"])
}

/// A byte size in binary units: `0B`, `560MiB`, `41.1KiB`.
pub fn bytes(value: f64) -> String {
    scaled(value, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB"])
}

fn scaled(mut value: f64, step: f64, units: &[&str]) -> String {
    let mut unit = 0;
    while value >= step && unit + 1 < units.len() {
        value /= step;
        unit += 1;
    }
    let text = if value < 10.0 {
        format!("{value:.2}")
    } else if value < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    };
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}{}", units[unit])
}

/// Elapsed time while running: `m:ss`, or `h:mm:ss`.
pub fn clock(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    if seconds >= 3600 {
        format!(
            "{}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    } else {
        format!("{}:{:02}", seconds / 60, seconds % 60)
    }
}

/// Elapsed time at the end: seconds with two decimals under a minute, else a clock.
pub fn final_time(elapsed: Duration) -> String {
    if elapsed < Duration::from_secs(60) {
        format!("{:.2}", elapsed.as_secs_f64())
    } else {
        clock(elapsed)
    }
}

fn per_second(value: i64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        0.0
    } else {
        value as f64 / seconds
    }
}

/// `[=====>>>      ]`: done, running and queued splits; a bouncing `<=>` before the
/// query knows its splits.
fn bar(stats: &StatementStats, width: usize, tick: u64) -> String {
    if width < 3 {
        return String::new();
    }
    let total = i64::from(stats.total_splits);
    if total <= 0 {
        let span = (width - 3) as u64;
        let step = if span == 0 { 0 } else { tick % (2 * span) };
        let at = if step > span { 2 * span - step } else { step } as usize;
        return format!("{}<=>{}", " ".repeat(at), " ".repeat(width - 3 - at));
    }
    let part = |n: i32| -> usize {
        (i64::from(n.max(0)) * width as i64 / total).clamp(0, width as i64) as usize
    };
    let done = part(stats.completed_splits);
    let running = part(stats.running_splits).min(width - done);
    format!(
        "{}{}{}",
        "=".repeat(done),
        ">".repeat(running),
        " ".repeat(width - done - running)
    )
}

/// The query's percent done, held at 99 until it has finished.
fn percent(stats: &StatementStats) -> u32 {
    let value = match stats.progress_percentage {
        Some(p) => p,
        None if stats.total_splits > 0 => {
            f64::from(stats.completed_splits) * 100.0 / f64::from(stats.total_splits)
        }
        None => 0.0,
    };
    let value = value.clamp(0.0, 100.0) as u32;
    if stats.state == "FINISHED" {
        100
    } else {
        value.min(99)
    }
}

/// The one-line progress of a running query, at most `width` columns wide.
pub fn line(
    stats: &StatementStats,
    query_id: Option<&str>,
    elapsed: Duration,
    width: usize,
    tick: u64,
) -> String {
    let rows = stats.processed_rows;
    let size = stats.processed_bytes;
    let head = match query_id {
        Some(id) => format!("{id} {}", stats.state),
        None => stats.state.clone(),
    };
    let figures = format!(
        "{} [{:>5} rows, {:>6}] [{:>5} rows/s, {:>8}]",
        clock(elapsed),
        count(rows as f64),
        bytes(size as f64),
        count(per_second(rows, elapsed)),
        format!("{}/s", bytes(per_second(size, elapsed))),
    );
    let splits = format!(
        "{}/{} splits",
        stats.completed_splits.max(0),
        stats.total_splits.max(0)
    );
    let pct = format!("{}%", percent(stats));
    let fixed = head.len() + figures.len() + pct.len() + splits.len() + 7;
    let bar_width = width.saturating_sub(fixed).min(30);
    let text = if bar_width >= 10 {
        format!(
            "{head} {figures} [{}] {pct} {splits}",
            bar(stats, bar_width, tick)
        )
    } else {
        format!("{head} {figures} {pct} {splits}")
    };
    text.chars().take(width.max(1)).collect()
}

/// The statistics printed after a query, framed by blank lines.
pub fn final_info(
    stats: &StatementStats,
    query_id: &str,
    info_uri: &str,
    elapsed: Duration,
    debug: bool,
) -> String {
    let nodes = match stats.nodes {
        1 => "1 node".to_string(),
        n => format!("{} nodes", n.max(0)),
    };
    let mut out = format!("\nQuery {query_id}, {}, {nodes}\n", stats.state);
    if debug {
        out.push_str(info_uri);
        out.push('\n');
    }
    let total = stats.total_splits.max(0);
    let done = stats.completed_splits.max(0);
    let share = if total == 0 {
        100.0
    } else {
        f64::from(done) * 100.0 / f64::from(total)
    };
    out.push_str(&format!(
        "Splits: {total} total, {done} done ({share:.2}%)\n"
    ));
    if debug {
        out.push_str(&format!(
            "CPU Time: {:.1}s total\nPeak Memory: {}\n",
            stats.cpu_time_millis as f64 / 1000.0,
            bytes(stats.peak_memory_bytes as f64)
        ));
    }
    out.push_str(&format!(
        "{} [{} rows, {}] [{} rows/s, {}/s]\n\n",
        final_time(elapsed),
        count(stats.processed_rows as f64),
        bytes(stats.processed_bytes as f64),
        count(per_second(stats.processed_rows, elapsed)),
        bytes(per_second(stats.processed_bytes, elapsed)),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(state: &str, total: i32, done: i32, running: i32) -> StatementStats {
        StatementStats {
            state: state.to_string(),
            nodes: 3,
            total_splits: total,
            completed_splits: done,
            running_splits: running,
            processed_rows: 6_450_000,
            processed_bytes: 560 * 1024 * 1024,
            ..StatementStats::default()
        }
    }

    #[test]
    fn counts_and_sizes_use_units_and_three_significant_digits() {
        assert_eq!(count(25.0), "25");
        assert_eq!(count(6_453_000.0), "6.45M");
        assert_eq!(count(473_400.0), "473K");
        assert_eq!(count(41_100.0), "41.1K");
        assert_eq!(bytes(0.0), "0B");
        assert_eq!(bytes(1536.0), "1.5KiB");
        assert_eq!(bytes(560.0 * 1024.0 * 1024.0), "560MiB");
        assert_eq!(clock(Duration::from_secs(13)), "0:13");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
        assert_eq!(final_time(Duration::from_millis(2920)), "2.92");
    }

    #[test]
    fn the_progress_line_shows_state_figures_bar_percent_and_splits() {
        let text = line(
            &stats("RUNNING", 10, 2, 3),
            None,
            Duration::from_secs(10),
            120,
            0,
        );
        assert_eq!(
            text,
            "RUNNING 0:10 [6.45M rows, 560MiB] [ 645K rows/s,  56MiB/s] \
             [======>>>>>>>>>                ] 20% 2/10 splits"
                .replace(
                    "[======>>>>>>>>>                ]",
                    &format!("[{}]", "=".repeat(6) + &">".repeat(9) + &" ".repeat(15))
                )
        );
        assert!(
            line(
                &stats("RUNNING", 10, 2, 3),
                None,
                Duration::from_secs(1),
                40,
                0
            )
            .len()
                <= 40
        );
        let waiting = line(
            &stats("QUEUED", 0, 0, 0),
            Some("q1"),
            Duration::ZERO,
            120,
            4,
        );
        assert!(waiting.starts_with("q1 QUEUED 0:00"), "{waiting}");
        assert!(waiting.contains("<=>"), "{waiting}");
    }

    #[test]
    fn percent_holds_at_99_until_finished() {
        assert_eq!(percent(&stats("RUNNING", 4, 4, 0)), 99);
        assert_eq!(percent(&stats("FINISHED", 4, 4, 0)), 100);
    }

    #[test]
    fn final_info_names_query_state_nodes_and_splits() {
        let text = final_info(
            &stats("FINISHED", 13, 13, 0),
            "q1",
            "http://h/ui/query.html?q1",
            Duration::from_millis(2500),
            false,
        );
        assert_eq!(
            text,
            "\nQuery q1, FINISHED, 3 nodes\nSplits: 13 total, 13 done (100.00%)\n\
             2.50 [6.45M rows, 560MiB] [2.58M rows/s, 224MiB/s]\n\n"
        );
    }
}
