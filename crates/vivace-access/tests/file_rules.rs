//! Trino's file-based access control semantics, case by case (after Trino's
//! `BaseFileBasedSystemAccessControlTest` and the documentation's examples).

#![allow(clippy::unwrap_used)]

use vivace_access::{CatalogAccess, FileRules, SchemaName, Subject, TableName};

fn rules(json: &str) -> FileRules {
    FileRules::parse("test.json", json).unwrap()
}

fn user(name: &str) -> Subject {
    Subject::new(name, vec![])
}

fn member(name: &str, groups: &[&str]) -> Subject {
    Subject::new(name, groups.iter().map(|g| g.to_string()).collect())
}

fn table(catalog: &str, schema: &str, name: &str) -> TableName {
    TableName::new(catalog, schema, name)
}

fn denial(result: Result<(), vivace_access::AccessDenied>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn an_empty_file_allows_everything_but_system_information_and_impersonation() {
    let rules = rules("{}");
    let alice = user("alice");
    let t = table("sales", "s", "t");
    rules
        .check_can_select_from_columns(&alice, &t, &["a"])
        .unwrap();
    rules.check_can_insert_into_table(&alice, &t).unwrap();
    rules.check_can_drop_table(&alice, &t).unwrap();
    rules
        .check_can_create_schema(&alice, &SchemaName::new("sales", "x"))
        .unwrap();
    rules.check_can_execute_query(&alice).unwrap();
    rules.check_can_kill_query_owned_by(&alice, "bob").unwrap();
    rules
        .check_can_set_system_session_property(&alice, "query_max_run_time")
        .unwrap();
    assert_eq!(
        denial(rules.check_can_read_system_information(&alice)),
        "Access Denied: Cannot read system information"
    );
    assert_eq!(
        denial(rules.check_can_impersonate_user(&alice, "bob")),
        "Access Denied: User alice cannot impersonate user bob"
    );
    rules
        .check_can_execute_function(&alice, "system", "builtin", "abs")
        .unwrap();
    assert_eq!(
        denial(rules.check_can_execute_function(&alice, "sales", "s", "my_udf")),
        "Access Denied: Cannot execute function sales.s.my_udf"
    );
}

#[test]
fn catalog_rules_gate_reads_and_writes() {
    let rules = rules(
        r#"{"catalogs": [
            {"user": "admin", "catalog": ".*", "allow": "all"},
            {"group": "analysts", "catalog": "sales", "allow": "read-only"},
            {"catalog": "hr", "allow": "none"},
            {"catalog": "legacy", "allow": true}
        ]}"#,
    );
    let analyst = member("ann", &["analysts"]);
    let t = table("sales", "s", "orders");
    rules
        .check_can_select_from_columns(&analyst, &t, &["id"])
        .unwrap();
    assert_eq!(
        denial(rules.check_can_insert_into_table(&analyst, &t)),
        "Access Denied: Cannot insert into table sales.s.orders"
    );
    assert_eq!(
        denial(rules.check_can_access_catalog(&analyst, "hr")),
        "Access Denied: Cannot access catalog hr"
    );
    // A catalog no rule names is denied once `catalogs` exists, but `system` stays readable.
    assert_eq!(rules.catalog_access(&analyst, "other"), CatalogAccess::None);
    assert_eq!(rules.catalog_access(&analyst, "system"), CatalogAccess::All);
    assert_eq!(rules.catalog_access(&analyst, "legacy"), CatalogAccess::All);
    rules
        .check_can_insert_into_table(&user("admin"), &t)
        .unwrap();
    // Schema ownership needs `all` on the catalog.
    assert_eq!(
        denial(rules.check_can_create_schema(&analyst, &SchemaName::new("sales", "new"))),
        "Access Denied: Cannot create schema sales.new"
    );
}

#[test]
fn an_earlier_rule_can_take_system_away() {
    let rules = rules(r#"{"catalogs": [{"user": "guest", "catalog": "system", "allow": "none"}]}"#);
    assert_eq!(
        rules.catalog_access(&user("guest"), "system"),
        CatalogAccess::None
    );
    assert_eq!(
        rules.catalog_access(&user("other"), "system"),
        CatalogAccess::All
    );
}

#[test]
fn the_first_matching_table_rule_decides() {
    let rules = rules(
        r#"{"tables": [
            {"user": "bob", "table": "secret", "privileges": []},
            {"catalog": "sales", "privileges": ["SELECT"],
             "columns": [{"name": "ssn", "allow": false}]}
        ]}"#,
    );
    let bob = user("bob");
    let alice = user("alice");
    assert_eq!(
        denial(rules.check_can_select_from_columns(&bob, &table("sales", "s", "secret"), &[])),
        "Access Denied: Cannot select from table sales.s.secret"
    );
    let people = table("sales", "s", "people");
    rules
        .check_can_select_from_columns(&alice, &people, &["name"])
        .unwrap();
    // count(*) reads no column and passes; a denied column fails with the table message.
    rules
        .check_can_select_from_columns(&alice, &people, &[])
        .unwrap();
    assert_eq!(
        denial(rules.check_can_select_from_columns(&alice, &people, &["name", "ssn"])),
        "Access Denied: Cannot select from table sales.s.people"
    );
    // No rule matches another catalog: denied.
    assert!(
        rules
            .check_can_select_from_columns(&alice, &table("other", "s", "t"), &[])
            .is_err()
    );
    // information_schema is readable whenever the catalog is.
    rules
        .check_can_select_from_columns(
            &alice,
            &table("other", "information_schema", "tables"),
            &["x"],
        )
        .unwrap();
}

#[test]
fn one_template_rule_serves_every_tenant() {
    let rules = rules(
        r#"{
        "catalogs": [{"catalog": "lake", "allow": "read-only"}],
        "schemas": [{"catalog": "lake", "schema": "{user}", "owner": true}],
        "tables": [{"catalog": "lake", "schema": "{user}", "privileges": ["SELECT"]}]
        }"#,
    );
    let acme = user("acme");
    let globex = user("globex");
    rules
        .check_can_select_from_columns(&acme, &table("lake", "acme", "orders"), &["id"])
        .unwrap();
    assert!(
        rules
            .check_can_select_from_columns(&acme, &table("lake", "globex", "orders"), &["id"])
            .is_err()
    );
    let schemas = vec![
        "acme".to_string(),
        "globex".to_string(),
        "initech".to_string(),
    ];
    assert_eq!(
        rules.filter_schemas(&acme, "lake", schemas.clone()),
        ["acme"]
    );
    assert_eq!(rules.filter_schemas(&globex, "lake", schemas), ["globex"]);
    // A user whose name is a pattern matches only a schema of that literal name.
    let sneaky = user(".*");
    assert!(
        rules
            .check_can_select_from_columns(&sneaky, &table("lake", "acme", "orders"), &[])
            .is_err()
    );
}

#[test]
fn without_a_schemas_section_every_readable_catalog_is_listed() {
    // Trino's defaults: everyone owns every schema and may set every catalog session
    // property, and either makes every readable catalog visible.
    let rules = rules(r#"{"catalogs": [{"catalog": "sales", "allow": "read-only"}]}"#);
    let catalogs = vec!["hr".to_string(), "sales".to_string()];
    assert_eq!(rules.filter_catalogs(&user("bob"), catalogs), ["sales"]);
}

#[test]
fn group_per_tenant_rules() {
    let rules = rules(
        r#"{"tables": [
            {"group": "tenant_acme", "schema": "acme", "privileges": ["SELECT", "INSERT"]},
            {"group": "tenant_globex", "schema": "globex", "privileges": ["SELECT"]}
        ]}"#,
    );
    let acme_user = member("u1", &["tenant_acme"]);
    let no_groups = user("u2");
    rules
        .check_can_insert_into_table(&acme_user, &table("memory", "acme", "t"))
        .unwrap();
    assert!(
        rules
            .check_can_select_from_columns(&acme_user, &table("memory", "globex", "t"), &[])
            .is_err()
    );
    assert!(
        rules
            .check_can_select_from_columns(&no_groups, &table("memory", "acme", "t"), &[])
            .is_err()
    );
}

#[test]
fn visibility_follows_the_patterns() {
    let rules = rules(
        r#"{
        "catalogs": [{"catalog": "(sales|hr)", "allow": "read-only"}],
        "schemas": [],
        "catalog_session_properties": [],
        "tables": [{"user": "alice", "catalog": "sales", "schema": "s", "table": "t1",
                    "privileges": ["SELECT"], "columns": [{"name": "secret", "allow": false}]},
                   {"user": "alice", "catalog": "sales", "schema": "s", "table": "t2",
                    "privileges": ["SELECT", "INSERT"], "columns": [{"name": "secret", "allow": false}]}]
        }"#,
    );
    let alice = user("alice");
    let bob = user("bob");
    let catalogs = vec![
        "hr".to_string(),
        "sales".to_string(),
        "system".to_string(),
        "tpch".to_string(),
    ];
    // hr is readable but nothing in it is granted: not listed; tpch is not readable. system
    // stays visible to everyone through the default rule for built-in functions.
    assert_eq!(
        rules.filter_catalogs(&alice, catalogs.clone()),
        ["sales", "system"]
    );
    assert_eq!(rules.filter_catalogs(&bob, catalogs), ["system"]);
    assert_eq!(
        denial(rules.check_can_show_schemas(&bob, "sales")),
        "Access Denied: Cannot show schemas"
    );
    assert_eq!(
        denial(rules.check_can_show_tables(&bob, &SchemaName::new("sales", "s"))),
        "Access Denied: Cannot show tables of schema sales.s"
    );
    assert!(rules.can_see_table(&alice, &table("sales", "s", "t1")));
    assert!(!rules.can_see_table(&alice, &table("sales", "s", "t3")));
    let columns = vec!["id".to_string(), "secret".to_string()];
    // Select-only: the denied column is hidden. A privilege beyond SELECT shows every column.
    assert_eq!(
        rules.filter_columns(&alice, &table("sales", "s", "t1"), columns.clone()),
        ["id"]
    );
    assert_eq!(
        rules.filter_columns(&alice, &table("sales", "s", "t2"), columns.clone()),
        ["id", "secret"]
    );
    assert!(
        rules
            .filter_columns(&bob, &table("sales", "s", "t1"), columns)
            .is_empty()
    );
    assert_eq!(
        denial(rules.check_can_show_columns(&bob, &table("sales", "s", "t1"))),
        "Access Denied: Cannot show columns of table sales.s.t1"
    );
}

#[test]
fn filters_and_masks_come_from_the_first_matching_rule_only() {
    let rules = rules(
        r#"{"tables": [
            {"user": "alice", "table": "orders", "privileges": ["SELECT"],
             "filter": "region = 'EU'", "filter_environment": {"user": "policy"},
             "columns": [{"name": "card", "mask": "'****'"}]},
            {"table": "orders", "privileges": ["SELECT"], "filter": "false"}
        ]}"#,
    );
    let orders = table("lake", "shop", "orders");
    let filter = rules.row_filter(&user("alice"), &orders).unwrap();
    assert_eq!(filter.expression, "region = 'EU'");
    assert_eq!(filter.run_as.as_deref(), Some("policy"));
    assert_eq!(
        (filter.catalog.as_str(), filter.schema.as_str()),
        ("lake", "shop")
    );
    let mask = rules.column_mask(&user("alice"), &orders, "card").unwrap();
    assert_eq!((mask.expression.as_str(), mask.run_as), ("'****'", None));
    assert!(rules.column_mask(&user("alice"), &orders, "Card").is_none());
    assert_eq!(
        rules.row_filter(&user("bob"), &orders).unwrap().expression,
        "false"
    );
    assert!(rules.column_mask(&user("bob"), &orders, "card").is_none());
    assert!(
        rules
            .row_filter(
                &user("alice"),
                &table("lake", "information_schema", "orders")
            )
            .is_none()
    );
}

#[test]
fn query_rules_as_in_trinos_query_fixture() {
    let rules = rules(
        r#"{"queries": [
            {"user": "admin", "allow": ["execute", "kill", "view"]},
            {"user": "alice", "queryOwner": "bob", "allow": ["view"]},
            {"user": "alice", "allow": ["execute"]},
            {"user": "bob", "allow": ["kill"]}
        ]}"#,
    );
    let alice = user("alice");
    let bob = user("bob");
    rules.check_can_execute_query(&user("admin")).unwrap();
    rules
        .check_can_kill_query_owned_by(&user("admin"), "anyone")
        .unwrap();
    rules.check_can_execute_query(&alice).unwrap();
    rules.check_can_view_query_owned_by(&alice, "bob").unwrap();
    assert_eq!(
        denial(rules.check_can_view_query_owned_by(&alice, "carol")),
        "Access Denied: Cannot view query"
    );
    assert_eq!(
        denial(rules.check_can_kill_query_owned_by(&alice, "bob")),
        "Access Denied: Cannot kill query"
    );
    assert_eq!(
        denial(rules.check_can_execute_query(&bob)),
        "Access Denied: Cannot execute query"
    );
    rules.check_can_kill_query_owned_by(&bob, "alice").unwrap();
    assert!(rules.check_can_execute_query(&user("nobody")).is_err());
}

#[test]
fn impersonation_with_references_to_the_original_user() {
    let rules = rules(
        r#"{"impersonation": [
            {"original_user": "team_(.*)", "new_user": "team_$1_sandbox"},
            {"original_user": "admin", "new_user": "root", "allow": false},
            {"original_user": "admin", "new_user": ".*"}
        ]}"#,
    );
    rules
        .check_can_impersonate_user(&user("team_a"), "team_a_sandbox")
        .unwrap();
    assert!(
        rules
            .check_can_impersonate_user(&user("team_a"), "team_b_sandbox")
            .is_err()
    );
    // The captured text is a literal: a user named with pattern characters gains nothing.
    assert!(
        rules
            .check_can_impersonate_user(&user("team_.*"), "team_x_sandbox")
            .is_err()
    );
    assert!(
        rules
            .check_can_impersonate_user(&user("admin"), "root")
            .is_err()
    );
    rules
        .check_can_impersonate_user(&user("admin"), "anyone")
        .unwrap();
}

#[test]
fn an_impersonation_rule_that_cannot_be_evaluated_denies() {
    let rules = rules(
        r#"{"impersonation": [
            {"original_user": "a(.*)", "new_user": "x$2"},
            {"new_user": ".*"}
        ]}"#,
    );
    assert!(rules.check_can_impersonate_user(&user("ab"), "xb").is_err());
    rules
        .check_can_impersonate_user(&user("zz"), "anyone")
        .unwrap();
}

#[test]
fn session_properties_and_system_information() {
    let rules = rules(
        r#"{
        "system_session_properties": [{"user": "admin", "allow": true},
                                      {"property": "query_max_.*", "allow": false},
                                      {"allow": true}],
        "catalog_session_properties": [{"catalog": "hive", "property": "x", "allow": false},
                                       {"allow": true}],
        "system_information": [{"user": "ops", "allow": ["read"]}, {"user": "admin", "allow": ["read", "write"]}]
        }"#,
    );
    let alice = user("alice");
    assert_eq!(
        denial(rules.check_can_set_system_session_property(&alice, "query_max_run_time")),
        "Access Denied: Cannot set system session property query_max_run_time"
    );
    rules
        .check_can_set_system_session_property(&alice, "join_distribution_type")
        .unwrap();
    rules
        .check_can_set_system_session_property(&user("admin"), "query_max_run_time")
        .unwrap();
    assert_eq!(
        denial(rules.check_can_set_catalog_session_property(&alice, "hive", "x")),
        "Access Denied: Cannot set catalog session property x"
    );
    rules
        .check_can_read_system_information(&user("ops"))
        .unwrap();
    assert_eq!(
        denial(rules.check_can_write_system_information(&user("ops"))),
        "Access Denied: Cannot write system information"
    );
    rules
        .check_can_write_system_information(&user("admin"))
        .unwrap();
}

#[test]
fn invalid_files_are_errors_naming_what_is_wrong() {
    let cases = [
        (r#"{"tabels": []}"#, "unknown field `tabels`"),
        (
            r#"{"tables": [{"privileges": ["SELECT"], "colums": []}]}"#,
            "unknown field `colums`",
        ),
        (
            r#"{"tables": [{"table": "t"}]}"#,
            "missing field `privileges`",
        ),
        (
            r#"{"tables": [{"privileges": ["READ"]}]}"#,
            "unknown table privilege 'READ'",
        ),
        (
            r#"{"catalogs": [{"allow": "some"}]}"#,
            "unknown catalog access 'some'",
        ),
        (
            r#"{"catalogs": [{"catalog": "("}]}"#,
            "missing field `allow`",
        ),
        (
            r#"{"catalogs": [{"catalog": "(", "allow": "all"}]}"#,
            "invalid pattern for 'catalog'",
        ),
        (
            r#"{"queries": [{"queryOwner": "x", "allow": ["execute"]}]}"#,
            "cannot combine a queryOwner condition",
        ),
        (
            r#"{"system_information": [{"group": "g", "allow": ["read"]}]}"#,
            "unknown field `group`",
        ),
        (
            r#"{"tables": [{"privileges": [], "columns": [{"name": "a"}, {"name": "a"}]}]}"#,
            "column 'a' appears twice",
        ),
        (r#"{"tables": []} trailing"#, "trailing characters"),
        ("", "EOF"),
    ];
    for (json, expected) in cases {
        let err = FileRules::parse("rules.json", json)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("rules.json"), "{err}");
        assert!(err.contains(expected), "{json}: {err}");
    }
}

#[test]
fn privilege_names_take_any_letter_case() {
    let rules = rules(r#"{"tables": [{"privileges": ["select", "Grant_Select"]}]}"#);
    rules
        .check_can_select_from_columns(&user("a"), &table("c", "s", "t"), &[])
        .unwrap();
}

#[test]
fn roles_never_match_a_user_without_roles() {
    let rules = rules(r#"{"tables": [{"role": ".*", "privileges": ["SELECT"]}]}"#);
    assert!(
        rules
            .check_can_select_from_columns(&user("a"), &table("c", "s", "t"), &[])
            .is_err()
    );
}
