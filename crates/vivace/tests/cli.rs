//! `vivace cli` as a process against a real server: every output format and `--help` as
//! snapshots, batch-mode exit codes, and one-line errors for bad input.
//!
//! The snapshots live in `tests/snapshots/cli/`. After an intended change of output, rewrite
//! them with `VIVACE_UPDATE_SNAPSHOTS=1 cargo test --release --workspace --test cli` and
//! read the diff.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use support::ServerProcess;

/// One query covering the value kinds the formats treat differently: right-aligned numbers,
/// NULL, wide (CJK) and accented text, quotes, commas, tabs and newlines, booleans, doubles,
/// dates and nested values.
const SNAPSHOT_SQL: &str = "\
SELECT nationkey AS id, name, nationkey * 1.5e0 AS ratio, CAST(nationkey AS DECIMAL(5, 2)) AS price, \
regionkey = 1 AS american, DATE '2024-01-31' AS day, X'cafe' AS raw, [nationkey, regionkey] AS keys, \
MAP(ARRAY['n'], ARRAY[nationkey]) AS tags, named_struct('key', nationkey, 'region', regionkey) AS nested \
FROM tpch.tiny.nation WHERE nationkey < 3 \
UNION ALL SELECT 10, '東京 café', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
UNION ALL SELECT 11, 'say \"hi\", then' || chr(9) || 'tab', -0.25e0, -1, false, DATE '1999-12-31', X'', \
[], MAP(ARRAY['a', 'b'], ARRAY[1, NULL]), named_struct('key', 11, 'region', NULL) \
UNION ALL SELECT 12, 'two' || chr(10) || 'lines', 1e10, 0.5, true, NULL, NULL, [NULL], NULL, NULL \
ORDER BY id";

const FORMATS: &[&str] = &[
    "ALIGNED",
    "VERTICAL",
    "CSV",
    "CSV_HEADER",
    "CSV_UNQUOTED",
    "CSV_HEADER_UNQUOTED",
    "TSV",
    "TSV_HEADER",
    "JSON",
    "MARKDOWN",
    "NULL",
];

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/cli")
        .join(format!("{name}.txt"))
}

/// Compares `actual` with the stored snapshot `name`, or stores it when
/// `VIVACE_UPDATE_SNAPSHOTS` is set.
fn check_snapshot(name: &str, actual: &str) {
    let path = snapshot_path(name);
    if std::env::var_os("VIVACE_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read snapshot {}: {e}; create it with VIVACE_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "snapshot {name} differs\n--- expected ({})\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// `vivace cli` with `args`, isolated from the caller's environment, with `stdin` as input.
fn cli(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vivace"))
        .arg("cli")
        .args(args)
        .env_remove("TRINO_PAGER")
        .env_remove("TRINO_HISTORY_FILE")
        .env_remove("TRINO_PASSWORD")
        .env("USER", "cli-test")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Checks a failure: exit code 1 or 2, one clear line on stderr containing `expected`, and
/// nothing on stdout.
fn assert_one_line_error(output: &Output, expected: &str) {
    let stderr = text(&output.stderr);
    assert!(
        matches!(output.status.code(), Some(1 | 2)),
        "exit {:?}: {stderr}",
        output.status
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
}

async fn server() -> ServerProcess {
    let server = ServerProcess::start(&[], None).unwrap();
    server.wait_ready().await.unwrap();
    server
}

#[tokio::test]
async fn every_output_format_matches_its_snapshot() {
    let server = server().await;
    for format in FORMATS {
        let output = cli(
            &[
                "--server",
                &server.url,
                "--output-format",
                format,
                "--execute",
                SNAPSHOT_SQL,
            ],
            "",
        );
        assert!(
            output.status.success(),
            "{format}: {}",
            text(&output.stderr)
        );
        assert_eq!(text(&output.stderr), "", "{format}");
        check_snapshot(&format.to_lowercase(), &text(&output.stdout));
    }
}

#[tokio::test]
async fn empty_results_and_update_counts() {
    let server = server().await;
    let empty = "SELECT nationkey, name FROM tpch.tiny.nation WHERE false";
    for (format, expected) in [
        (
            "ALIGNED",
            " nationkey | name \n-----------+------\n(0 rows)\n",
        ),
        ("CSV_HEADER", "\"nationkey\",\"name\"\n"),
        ("VERTICAL", "(no rows)\n"),
        ("CSV", ""),
    ] {
        let output = cli(
            &[
                "--server",
                &server.url,
                "--output-format",
                format,
                "-e",
                empty,
            ],
            "",
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert_eq!(text(&output.stdout), expected, "{format}");
    }

    let output = cli(
        &[
            "--server",
            &server.url,
            "--execute",
            "CREATE TABLE memory.default.t AS SELECT * FROM tpch.tiny.region; \
             INSERT INTO memory.default.t SELECT * FROM tpch.tiny.region WHERE regionkey < 2",
        ],
        "",
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stderr),
        "CREATE TABLE: 5 rows\nINSERT: 2 rows\n"
    );
    assert_eq!(text(&output.stdout), "");
}

#[tokio::test]
async fn batch_mode_reads_files_and_stdin_and_keeps_the_session() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("queries.sql");
    std::fs::write(
        &file,
        "-- a comment; with a semicolon\nUSE tpch.tiny;\nSELECT count(*) FROM nation;\n\
         SELECT name FROM region WHERE regionkey = 1\\G\nSELECT 'no; split' AS s",
    )
    .unwrap();
    let output = cli(&["--server", &server.url, "-f", file.to_str().unwrap()], "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "\"25\"\n-[ RECORD 1 ]-\nname | AMERICA\n\"no; split\"\n"
    );
    assert_eq!(text(&output.stderr), "USE\n");

    let output = cli(
        &[
            "--server",
            &server.url,
            "--catalog",
            "tpch",
            "--schema",
            "tiny",
        ],
        "SELECT count(*) FROM region;\nSELECT 1 + 1",
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "\"5\"\n\"2\"\n");

    let output = cli(
        &[
            "--server",
            &server.url,
            "--session",
            "query_max_run_time=1h",
            "--session",
            "no_such_property=1",
            "-e",
            "SELECT 1",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr).lines().count(),
        1,
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test]
async fn the_first_failure_stops_a_batch_unless_errors_are_ignored() {
    let server = server().await;
    let sql = "SELECT 1; SELECT * FROM tpch.tiny.no_such_table; SELECT 3";
    let output = cli(&["--server", &server.url, "-e", sql], "");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "\"1\"\n");
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("Query "), "{stderr}");
    assert!(stderr.contains("no_such_table"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let output = cli(&["--server", &server.url, "--ignore-errors", "-e", sql], "");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "\"1\"\n\"3\"\n");
}

#[tokio::test]
async fn a_syntax_error_is_one_line_and_debug_adds_the_stack() {
    let server = server().await;
    let output = cli(&["--server", &server.url, "-e", "SELEC 1"], "");
    assert_one_line_error(&output, "failed: ");
    assert!(
        text(&output.stderr).starts_with("Query "),
        "{}",
        text(&output.stderr)
    );

    let output = cli(&["--server", &server.url, "--debug", "-e", "SELEC 1"], "");
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.lines().count() > 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_unreachable_server_is_one_line() {
    let output = cli(&["--server", "http://127.0.0.1:1", "-e", "SELECT 1"], "");
    assert_one_line_error(&output, "127.0.0.1:1");
}

#[test]
fn wrong_urls_are_one_line_usage_errors() {
    for (server, expected) in [
        (
            "ftp://localhost:8080",
            "invalid --server 'ftp://localhost:8080'",
        ),
        ("http://localhost:8080/ui", "a server URL has no path"),
        ("http://localhost:http", "invalid --server"),
        ("http://:8080", "no host"),
    ] {
        let output = cli(&["--server", server, "-e", "SELECT 1"], "");
        assert_one_line_error(&output, expected);
        assert_eq!(output.status.code(), Some(2), "{server}");
    }
}

#[test]
fn a_server_that_is_not_trino_is_one_line() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0_u8; 4096];
            let _ = stream.read(&mut request);
            let body = "<html><body>It works!</body></html>";
            let _ = write!(
                stream,
                "HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let output = cli(&["--server", &url, "-e", "SELECT 1"], "");
    assert_one_line_error(&output, "404");
}

#[test]
fn a_malformed_session_property_is_a_usage_error() {
    for session in ["novalue", "=1"] {
        let output = cli(&["--session", session, "-e", "SELECT 1"], "");
        assert_one_line_error(&output, &format!("invalid --session '{session}'"));
        assert_eq!(output.status.code(), Some(2));
    }
}

#[test]
fn unknown_flags_and_formats_are_usage_errors() {
    let output = cli(&["--output-format", "XML", "-e", "SELECT 1"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("XML"),
        "{}",
        text(&output.stderr)
    );
    let output = cli(&["--execute", "SELECT 1", "-f", "x.sql"], "");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn help_matches_its_snapshot() {
    let output = cli(&["--help"], "");
    assert!(output.status.success());
    check_snapshot("help", &text(&output.stdout));
}
