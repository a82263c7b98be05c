use super::*;

#[test]
fn recognises_session_statements() {
    assert_eq!(
        parse("use tpch.\"Tiny\";").unwrap(),
        Statement::Use {
            catalog: Some("tpch".into()),
            schema: "Tiny".into()
        }
    );
    assert_eq!(
        parse("SET SESSION query_max_execution_time = '10m'").unwrap(),
        Statement::SetSession {
            name: "query_max_execution_time".into(),
            value: "10m".into()
        }
    );
    assert_eq!(
        parse("PREPARE st1 FROM SELECT ? + 1").unwrap(),
        Statement::Prepare {
            name: "st1".into(),
            sql: "SELECT ? + 1".into()
        }
    );
    assert_eq!(
        parse("EXECUTE IMMEDIATE 'SELECT ''a'', ?' USING ARRAY[1, 2], 'x,y'").unwrap(),
        Statement::ExecuteImmediate {
            sql: "SELECT 'a', ?".into(),
            parameters: vec!["ARRAY[1, 2]".into(), "'x,y'".into()]
        }
    );
    assert_eq!(
        parse("START TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE").unwrap(),
        Statement::StartTransaction
    );
    assert!(matches!(
        parse("SHOW TABLES FROM tpch.tiny LIKE 'n%'").unwrap(),
        Statement::ShowTables { qualifier, like: Some(_) } if qualifier == vec!["tpch", "tiny"]
    ));
    assert!(matches!(parse("select 1").unwrap(), Statement::Sql(_)));
    assert!(matches!(
        parse("EXPLAIN (TYPE DISTRIBUTED) SELECT 1").unwrap(),
        Statement::Explain { explain_type: Some(t), .. } if t == "DISTRIBUTED"
    ));
}

#[test]
fn recognises_call_set_role_set_path_and_show_functions() {
    assert_eq!(
        parse("CALL system.runtime.kill_query(query_id => '1', message => NULL)").unwrap(),
        Statement::Call {
            procedure: vec!["system".into(), "runtime".into(), "kill_query".into()],
            arguments: vec![
                CallArgument {
                    name: Some("query_id".into()),
                    value: Some("1".into()),
                },
                CallArgument {
                    name: Some("message".into()),
                    value: None,
                },
            ],
        }
    );
    assert_eq!(
        parse("call p()").unwrap(),
        Statement::Call {
            procedure: vec!["p".into()],
            arguments: vec![],
        }
    );
    assert!(parse("CALL p('a' 'b')").is_err());
    assert_eq!(
        parse("SET ROLE NONE IN hive").unwrap(),
        Statement::SetRole {
            role: RoleSelection::None,
            catalog: Some("hive".into()),
        }
    );
    assert_eq!(
        parse("set role Admin").unwrap(),
        Statement::SetRole {
            role: RoleSelection::Role("admin".into()),
            catalog: None,
        }
    );
    assert_eq!(
        parse("SET PATH a.b, c").unwrap(),
        Statement::SetPath {
            path: "a.b, c".into()
        }
    );
    assert_eq!(
        parse("SHOW FUNCTIONS LIKE 'json%'").unwrap(),
        Statement::ShowFunctions {
            like: Some(Like {
                pattern: "json%".into(),
                escape: None,
            }),
        }
    );
}

#[test]
fn reports_syntax_errors_with_location() {
    let error = parse("USE a.b.c.").unwrap_err();
    assert!(matches!(error, TrinoError { code, .. } if code == ErrorCode::SYNTAX_ERROR));
    let error = parse("SHOW TABLES FROM").unwrap_err();
    assert!(error.to_string().contains("mismatched input"), "{error}");
}

#[test]
fn binds_parameters_outside_strings() {
    assert_eq!(
        bind_parameters(
            "SELECT ?, '?' FROM t WHERE a = ?",
            &["1".into(), "'x'".into()]
        )
        .unwrap(),
        "SELECT (1), '?' FROM t WHERE a = ('x')"
    );
    assert!(bind_parameters("SELECT ?", &[]).is_err());
    assert_eq!(parameter_count("SELECT ? + ?").unwrap(), 2);
}
