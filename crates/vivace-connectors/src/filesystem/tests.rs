use super::*;

use datafusion::arrow::array::{Array, Int64Array};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::prelude::{SessionConfig, SessionContext};

/// Writes `text` to `root/relative`, creating parent directories.
fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Writes a Parquet file at `root/relative` from a SQL query.
async fn write_parquet(root: &Path, relative: &str, query: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let ctx = SessionContext::new();
    ctx.sql(&format!(
        "COPY ({query}) TO '{}' STORED AS PARQUET",
        path.display()
    ))
    .await
    .unwrap()
    .collect()
    .await
    .unwrap();
    assert!(path.is_file(), "{} was not written", path.display());
}

/// A lake with a `default` schema (CSV, JSON, Parquet), a `lake` schema with a
/// Hive-partitioned table, a mixed-case schema and some hidden or ignored entries.
async fn lake() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "default/people.csv",
        "id,name\n1,alice\n2,bob\n3,carol\n",
    );
    write(
        root,
        "default/events.jsonl",
        "{\"kind\":\"click\",\"n\":1}\n{\"kind\":\"view\",\"n\":2}\n",
    );
    write_parquet(
        root,
        "default/numbers.parquet",
        "SELECT * FROM (VALUES (1, 'one'), (2, 'two')) AS t(n, word)",
    )
    .await;
    write(root, "default/notes.txt", "not a table\n");
    write(root, "default/.hidden.csv", "a\n1\n");
    write_parquet(
        root,
        "lake/sales/year=2024/part.parquet",
        "SELECT * FROM (VALUES (1, 10.5), (2, 20.0)) AS t(id, amount)",
    )
    .await;
    write_parquet(
        root,
        "lake/sales/year=2025/part.parquet",
        "SELECT * FROM (VALUES (3, 30.0), (4, 40.0)) AS t(id, amount)",
    )
    .await;
    write(root, "lake/sales/_SUCCESS", "");
    write(root, "lake/empty/readme.md", "no data here\n");
    write(root, "Mixed/Data.CSV", "Value\n7\n8\n");
    write(root, "_staging/t.csv", "a\n1\n");
    write(root, ".git/t.csv", "a\n1\n");
    write(root, "information_schema/t.csv", "a\n1\n");
    write(root, "stray.csv", "a\n1\n");
    dir
}

fn connector(root: &Path) -> FilesystemConnector {
    FilesystemConnector::new("fs", root).unwrap()
}

fn context(connector: &FilesystemConnector) -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_information_schema(true));
    ctx.register_catalog("fs", connector.catalog());
    ctx
}

async fn query(ctx: &SessionContext, sql: &str) -> DfResult<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}

/// The single `bigint` value of a one-row query.
async fn scalar(ctx: &SessionContext, sql: &str) -> i64 {
    let batches = query(ctx, sql).await.unwrap();
    let batch = batches.iter().find(|b| b.num_rows() > 0).unwrap();
    let column = batch
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    column.value(0)
}

/// The first column of a query, formatted.
async fn column(ctx: &SessionContext, sql: &str) -> Vec<String> {
    let batches = query(ctx, sql).await.unwrap();
    let mut values = Vec::new();
    for batch in batches {
        let column = batch.column(0);
        for row in 0..column.len() {
            values.push(array_value_to_string(column, row).unwrap());
        }
    }
    values
}

#[tokio::test]
async fn lists_schemas_and_tables() {
    let dir = lake().await;
    let connector = connector(dir.path());
    assert_eq!(connector.connector_name(), "filesystem");
    let catalog = connector.catalog();
    assert_eq!(catalog.schema_names(), vec!["default", "lake", "mixed"]);
    let default = catalog.schema("default").unwrap();
    assert_eq!(default.table_names(), vec!["events", "numbers", "people"]);
    assert!(default.table_exist("PEOPLE"));
    assert!(!default.table_exist("notes"));
    assert!(!default.table_exist("hidden"));
    let lake = catalog.schema("LAKE").unwrap();
    assert_eq!(lake.table_names(), vec!["sales"]);
    assert!(catalog.schema("missing").is_none());
    assert!(catalog.schema("information_schema").is_none());

    let ctx = context(&connector);
    let tables = column(
        &ctx,
        "SELECT table_schema || '.' || table_name FROM fs.information_schema.tables \
         WHERE table_schema <> 'information_schema' ORDER BY 1",
    )
    .await;
    assert_eq!(
        tables,
        vec![
            "default.events",
            "default.numbers",
            "default.people",
            "lake.sales",
            "mixed.data"
        ]
    );
}

#[tokio::test]
async fn reads_csv_json_and_parquet() {
    let dir = lake().await;
    let connector = connector(dir.path());
    let ctx = context(&connector);
    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM fs.default.people").await,
        3
    );
    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM fs.default.events").await,
        2
    );
    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM fs.default.numbers").await,
        2
    );
    assert_eq!(
        column(
            &ctx,
            "SELECT name FROM fs.default.people WHERE id > 1 ORDER BY id"
        )
        .await,
        vec!["bob", "carol"]
    );
    assert_eq!(
        column(&ctx, "SELECT kind FROM fs.default.events WHERE n = 2").await,
        vec!["view"]
    );
    assert_eq!(
        column(&ctx, "SELECT word FROM fs.default.numbers ORDER BY n DESC").await,
        vec!["two", "one"]
    );
    // Names match case-insensitively; column names keep the files' spelling.
    assert_eq!(
        scalar(&ctx, "SELECT sum(\"Value\") FROM fs.mixed.data").await,
        15
    );
    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM fs.\"MIXED\".\"Data\"").await,
        2
    );
}

#[tokio::test]
async fn partitioned_directory_table() {
    let dir = lake().await;
    let connector = connector(dir.path());
    let ctx = context(&connector);

    let table = ctx.table_provider("fs.lake.sales").await.unwrap();
    let schema = table.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, vec!["id", "amount", "year"]);
    assert_eq!(schema.field(2).data_type(), &DataType::Int64);

    assert_eq!(scalar(&ctx, "SELECT count(*) FROM fs.lake.sales").await, 4);
    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM fs.lake.sales WHERE year = 2025").await,
        2
    );
    assert_eq!(
        column(
            &ctx,
            "SELECT id FROM fs.lake.sales WHERE year = 2024 ORDER BY id"
        )
        .await,
        vec!["1", "2"]
    );
    assert_eq!(
        column(
            &ctx,
            "SELECT year FROM fs.lake.sales WHERE amount > 25 ORDER BY id"
        )
        .await,
        vec!["2025", "2025"]
    );

    // Predicates prune Parquet row groups by their statistics.
    let table = table.downcast_ref::<FilesystemTable>().unwrap();
    let parquet = table
        .inner
        .options()
        .format
        .downcast_ref::<ParquetFormat>()
        .unwrap();
    assert!(parquet.options().global.pruning);
}

#[tokio::test]
async fn sees_files_added_later() {
    let dir = lake().await;
    let connector = connector(dir.path());
    let ctx = context(&connector);
    assert_eq!(scalar(&ctx, "SELECT count(*) FROM fs.lake.sales").await, 4);

    write(dir.path(), "default/later.csv", "x\n1\n2\n3\n4\n");
    write(dir.path(), "newschema/t.ndjson", "{\"a\":1}\n");
    write_parquet(
        dir.path(),
        "lake/sales/year=2026/part.parquet",
        "SELECT * FROM (VALUES (5, 50.0)) AS t(id, amount)",
    )
    .await;

    let catalog = connector.catalog();
    assert!(catalog.schema_names().contains(&"newschema".to_string()));
    assert!(
        catalog
            .schema("default")
            .unwrap()
            .table_names()
            .contains(&"later".to_string())
    );
    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM fs.default.later").await,
        4
    );
    assert_eq!(scalar(&ctx, "SELECT count(*) FROM fs.newschema.t").await, 1);
    assert_eq!(scalar(&ctx, "SELECT count(*) FROM fs.lake.sales").await, 5);
    assert_eq!(
        scalar(&ctx, "SELECT max(year) FROM fs.lake.sales").await,
        2026
    );

    // A changed file is re-inferred.
    write(dir.path(), "default/later.csv", "x,y\n1,2\n");
    assert_eq!(scalar(&ctx, "SELECT sum(y) FROM fs.default.later").await, 2);
}

#[tokio::test]
async fn factory_takes_root_and_validates_it() {
    let dir = lake().await;
    let factory = FilesystemConnectorFactory;
    assert_eq!(factory.name(), "filesystem");

    let text = format!(
        "connector.name=filesystem\nfilesystem.root={}\nother.key=1\n",
        dir.path().display()
    );
    let mut properties =
        PropertyMap::parse(Path::new("etc/catalog/fs.properties"), &text, &|_| None).unwrap();
    let created = factory.create("fs", &mut properties).unwrap();
    assert_eq!(created.connector_name(), "filesystem");
    assert!(!properties.contains(ROOT_PROPERTY));
    assert!(properties.contains("other.key"));

    let mut properties =
        PropertyMap::parse(Path::new("etc/catalog/fs.properties"), "a=b\n", &|_| None).unwrap();
    let err = factory.create("fs", &mut properties).unwrap_err();
    assert!(matches!(
        err,
        ConnectorError::Config(PropertiesError::Missing { .. })
    ));
    assert_eq!(
        err.to_string(),
        "etc/catalog/fs.properties: missing required property 'filesystem.root'"
    );

    let missing = dir.path().join("nope");
    let text = format!("filesystem.root={}\n", missing.display());
    let mut properties =
        PropertyMap::parse(Path::new("etc/catalog/fs.properties"), &text, &|_| None).unwrap();
    let err = factory.create("fs", &mut properties).unwrap_err();
    assert!(matches!(
        err,
        ConnectorError::Config(PropertiesError::Invalid { .. })
    ));
    let message = err.to_string();
    assert!(
        message.starts_with("etc/catalog/fs.properties:1: property 'filesystem.root'"),
        "{message}"
    );
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );

    let file = dir.path().join("stray.csv");
    let text = format!("filesystem.root={}\n", file.display());
    let mut properties = PropertyMap::parse(Path::new("fs.properties"), &text, &|_| None).unwrap();
    let message = factory
        .create("fs", &mut properties)
        .unwrap_err()
        .to_string();
    assert!(message.contains("is not a directory"), "{message}");

    let err = FilesystemConnector::new("fs", &missing).unwrap_err();
    assert!(matches!(err, ConnectorError::External(_)));
    assert!(err.to_string().contains("Catalog 'fs'"), "{err}");
}

/// Asserts that `message` names no server path: neither the lake's root (in any form)
/// nor anything under `/tmp`.
fn assert_no_paths(message: &str, root: &Path) {
    let root = root.to_str().unwrap();
    assert!(!message.contains(root), "{message}");
    assert!(!message.contains(root.trim_start_matches('/')), "{message}");
    assert!(!message.contains("/tmp"), "{message}");
    assert!(!message.contains("file:"), "{message}");
}

#[tokio::test]
async fn bad_files_fail_only_their_table() {
    let dir = lake().await;
    let root = dir.path();
    write(root, "default/ragged.csv", "a,b\n1,2\n3,4,5\n6\n");
    write(root, "default/broken.parquet", "this is not parquet");
    write(root, "default/garbage.json", "{\"a\": 1}\n{not json\n");
    write(root, "default/dup.csv", "a\n1\n");
    write(root, "default/dup.json", "{\"a\":1}\n");
    write(root, "lake/mixed/one.csv", "a\n1\n");
    write(root, "lake/mixed/two.jsonl", "{\"a\":1}\n");
    write(root, "lake/uneven/year=2024/a.csv", "a\n1\n");
    write(root, "lake/uneven/b.csv", "a\n1\n");
    write(root, "lake/nameless/=1/a.csv", "a\n1\n");
    write_parquet(root, "lake/conflict/a.parquet", "SELECT 1 AS x").await;
    write_parquet(root, "lake/conflict/b.parquet", "SELECT 'a' AS x").await;
    write(root, "lake/half/year=2024/x.parquet", "not parquet either");
    let connector = connector(root);
    let ctx = context(&connector);

    let default = connector.catalog().schema("default").unwrap();
    for table in ["broken", "dup", "garbage", "people", "ragged"] {
        assert!(
            default.table_names().contains(&table.to_string()),
            "{table}"
        );
    }

    for (sql, needle) in [
        (
            "SELECT * FROM fs.default.ragged",
            "Catalog 'fs' (filesystem connector): cannot read table 'default.ragged': the \
             file is not valid CSV: Encountered unequal lengths between records on CSV file. \
             Expected 2 records, found 3 records at line 3",
        ),
        (
            "SELECT * FROM fs.default.broken",
            "cannot read table 'default.broken': the file is not valid Parquet",
        ),
        (
            "SELECT * FROM fs.default.garbage",
            "cannot read table 'default.garbage': the file is not valid JSON: Not valid JSON",
        ),
        (
            "SELECT * FROM fs.default.dup",
            "table name 'default.dup' is ambiguous: it matches 'dup.csv', 'dup.json'",
        ),
        (
            "SELECT * FROM fs.lake.mixed",
            "the directory mixes file types: 'one.csv' (CSV) and 'two.jsonl' (JSON)",
        ),
        (
            "SELECT * FROM fs.lake.uneven",
            "inconsistent partition folders: 'b.csv' is under [] but 'year=2024/a.csv' is \
             under [\"year\"]",
        ),
        (
            "SELECT * FROM fs.lake.nameless",
            "partition folder '=1' has no column name (in '=1/a.csv')",
        ),
        (
            "SELECT * FROM fs.lake.conflict",
            "a file of the table cannot be read as Parquet: Arrow error: Schema error: Fail \
             to merge schema field 'x'",
        ),
        (
            "SELECT * FROM fs.lake.half",
            "cannot read table 'lake.half': a file of the table is not valid Parquet",
        ),
    ] {
        let message = match query(&ctx, sql).await {
            Ok(batches) => panic!("{sql} succeeded: {batches:?}"),
            Err(e) => e.to_string(),
        };
        assert!(message.contains(needle), "{sql}: {message}");
        assert!(!message.contains('\n'), "{sql}: {message}");
        assert_no_paths(&message, root);
    }

    // The other tables are unaffected.
    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM fs.default.people").await,
        3
    );
    assert_eq!(scalar(&ctx, "SELECT count(*) FROM fs.lake.sales").await, 4);
}

#[tokio::test]
async fn scan_errors_have_a_message_without_paths() {
    let dir = lake().await;
    let root = dir.path();
    write(root, "default/gone.csv", "x\n1\n");
    let mut late = String::new();
    for i in 0..1100 {
        late.push_str(&format!("{{\"a\":{i}}}\n"));
    }
    late.push_str("{oops\n");
    write(root, "default/late.json", &late);
    let connector = connector(root);
    let ctx = context(&connector);

    // A file removed between planning and execution: DataFusion's error names its path,
    // the message for clients does not.
    let plan = ctx
        .sql("SELECT * FROM fs.default.gone")
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    std::fs::remove_file(root.join("default/gone.csv")).unwrap();
    let error = datafusion::physical_plan::collect(plan, ctx.task_ctx())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains(root.to_str().unwrap()),
        "{error}"
    );
    let message = storage_error::client_message(&error).unwrap();
    assert_eq!(message, "A data file of the query was not found");

    // A malformed record past the rows read to infer the schema fails the scan.
    let error = query(&ctx, "SELECT * FROM fs.default.late")
        .await
        .unwrap_err();
    let message = storage_error::client_message(&error).unwrap();
    assert!(
        message.starts_with("A data file of the query is not valid JSON: "),
        "{message}"
    );
    assert_no_paths(&message, root);
}

#[tokio::test]
async fn parquet_footers_are_checked_before_the_reader_trusts_them() {
    let dir = lake().await;
    let root = dir.path();
    // A footer claiming more metadata than the file holds made the reader panic.
    let mut lying = b"PAR1 this is not a parquet file ".to_vec();
    lying.extend_from_slice(&u32::MAX.to_le_bytes());
    lying.extend_from_slice(b"PAR1");
    std::fs::write(root.join("default/lying.parquet"), &lying).unwrap();
    std::fs::write(
        root.join("default/fil.parquet"),
        b"PAR1 this is not a parquet file PAR1",
    )
    .unwrap();
    std::fs::write(root.join("default/short.parquet"), b"PAR1PAR1").unwrap();
    write(root, "lake/parts/a.parquet", "PAR1 garbage PAR1");
    let connector = connector(root);
    let ctx = context(&connector);
    for (table, subject) in [
        ("default.lying", "the file"),
        ("default.fil", "the file"),
        ("default.short", "the file"),
        ("lake.parts", "a file of the table"),
    ] {
        let message = query(&ctx, &format!("SELECT * FROM fs.{table}"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(&format!(
                "cannot read table '{table}': {subject} is not valid Parquet"
            )),
            "{message}"
        );
        assert_no_paths(&message, root);
    }
    // Valid files pass the check.
    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM fs.default.numbers").await,
        2
    );
}

#[test]
fn panics_are_described() {
    let text: Box<dyn std::any::Any + Send> = Box::new("boom");
    assert_eq!(panic_message(text.as_ref()), "boom");
    let owned: Box<dyn std::any::Any + Send> = Box::new(String::from("bang"));
    assert_eq!(panic_message(owned.as_ref()), "bang");
    let other: Box<dyn std::any::Any + Send> = Box::new(7);
    assert_eq!(panic_message(other.as_ref()), "(no message)");
}

#[test]
fn scrub_removes_the_root_in_every_form() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("a b");
    std::fs::create_dir(&root).unwrap();
    let connector = connector(&root);
    let shared = &connector.catalog.shared;
    let path = shared.root.to_str().unwrap().to_string();
    let url = file_url(&shared.root, false).unwrap().as_str().to_string();
    for text in [
        format!("Object at location {path}/s/t.csv not found"),
        format!(
            "Object at location {}/s/t.csv not found",
            path.trim_start_matches('/')
        ),
        format!("Error reading {url}s/t.csv"),
        format!("at {}", url.trim_start_matches("file://")),
        "see /srv/other/place.csv".to_string(),
    ] {
        let scrubbed = shared.scrub(&text);
        assert_no_paths(&scrubbed, &shared.root);
        assert!(
            !scrubbed.contains("a b") && !scrubbed.contains("a%20b"),
            "{scrubbed}"
        );
    }
}

#[tokio::test]
async fn rejects_writes() {
    let dir = lake().await;
    let connector = connector(dir.path());
    let ctx = context(&connector);
    for (sql, needle) in [
        (
            "CREATE TABLE fs.default.t AS SELECT 1 AS x",
            "does not support creating tables",
        ),
        (
            "CREATE TABLE fs.default.t (x INT)",
            "does not support creating tables",
        ),
        (
            "INSERT INTO fs.default.people VALUES (4, 'dan')",
            "does not support inserts",
        ),
        (
            "CREATE SCHEMA fs.newschema",
            "does not support creating schemas",
        ),
    ] {
        let message = match query(&ctx, sql).await {
            Ok(_) => panic!("{sql} succeeded"),
            Err(e) => e.to_string(),
        };
        assert!(message.contains(needle), "{sql}: {message}");
        assert!(
            message.contains("Catalog 'fs' (filesystem connector)"),
            "{message}"
        );
    }
    // DataFusion's own DROP TABLE reports any deregistration failure as a missing table,
    // so the provider's message is checked directly.
    let catalog = connector.catalog();
    let message = catalog
        .schema("default")
        .unwrap()
        .deregister_table("people")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("Catalog 'fs' (filesystem connector) does not support dropping tables"),
        "{message}"
    );
    let message = catalog
        .deregister_schema("default", true)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("does not support dropping schemas"),
        "{message}"
    );
    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM fs.default.people").await,
        3
    );
}

#[test]
fn helpers() {
    assert_eq!(
        data_file("a.parquet"),
        Some(("a", ".parquet", Format::Parquet))
    );
    assert_eq!(data_file("A.B.CSV"), Some(("A.B", ".CSV", Format::Csv)));
    assert_eq!(data_file("x.ndjson").map(|f| f.2), Some(Format::Json));
    assert_eq!(data_file(".csv"), None);
    assert_eq!(data_file("x.csv.gz"), None);
    assert_eq!(partition_type(&["2024", "-3"]), DataType::Int64);
    assert_eq!(partition_type(&["2024", "07"]), DataType::Utf8);
    assert_eq!(partition_type(&["us"]), DataType::Utf8);
    let url = file_url(Path::new("/data/a b[1]*/x=1/"), true).unwrap();
    assert_eq!(url.as_str(), "file:///data/a%20b%5B1%5D%2A/x%3D1/");
    assert!(url.get_glob().is_none());
}
