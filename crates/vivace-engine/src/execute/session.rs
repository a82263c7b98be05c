//! Session control (`USE`, `SET SESSION`, `SET TIME ZONE`, roles, path), procedures,
//! prepared statements (`PREPARE`, `DEALLOCATE`, `DESCRIBE INPUT|OUTPUT`) and transactions.

use arrow::datatypes::Field;
use serde_json::Value;
use vivace_common::ErrorCode;
use vivace_protocol::TrinoType;

use crate::error::{EngineError, EngineResult};
use crate::procedures::Procedure;
use crate::session::SessionUpdate;
use crate::session_properties::{self};
use vivace_functions::types::trino_type_of_field;
use vivace_sql::limits::SqlLimits;
use vivace_sql::statement::{self, RoleSelection, Statement};

use super::query::update_type_of;
use super::{Completion, Execution};
use vivace_sql::statement::CallArgument;

impl Execution {
    /// `CALL procedure(arguments)`.
    pub(super) async fn call(
        &self,
        procedure: &[String],
        arguments: &[CallArgument],
    ) -> EngineResult<Completion> {
        Procedure::resolve(procedure, self.session())?.run(
            arguments,
            self.session(),
            &self.engine.tracker,
        )?;
        self.update("CALL", SessionUpdate::default()).await
    }

    /// `SET ROLE ALL|NONE|role [IN catalog]`: there are no roles yet.
    pub(super) async fn set_role(
        &self,
        role: RoleSelection,
        catalog: Option<String>,
    ) -> EngineResult<Completion> {
        match role {
            RoleSelection::All | RoleSelection::None => {
                if let Some(catalog) = catalog {
                    self.catalog_or_session(Some(catalog))?;
                }
                self.update("SET ROLE", SessionUpdate::default()).await
            }
            RoleSelection::Role(name) => Err(EngineError::new(
                ErrorCode::ROLE_NOT_FOUND,
                format!("Role '{name}' does not exist"),
            )),
        }
    }

    /// `SET PATH`.
    pub(super) async fn set_path(&self, path: String) -> EngineResult<Completion> {
        self.update(
            "SET PATH",
            SessionUpdate {
                set_path: Some(path),
                ..SessionUpdate::default()
            },
        )
        .await
    }

    /// `USE [catalog.]schema`, once the schema is known to exist.
    pub(super) async fn use_schema(
        &self,
        catalog: Option<String>,
        schema: String,
    ) -> EngineResult<Completion> {
        let catalog = self.catalog_or_session(catalog)?;
        self.require_schema(&catalog, &schema)?;
        self.update(
            "USE",
            SessionUpdate {
                set_catalog: Some(catalog),
                set_schema: Some(schema),
                ..SessionUpdate::default()
            },
        )
        .await
    }

    /// `SET SESSION name = value`, validated against the property and the server's limits.
    pub(super) async fn set_session(&self, name: String, value: &str) -> EngineResult<Completion> {
        if name.contains('.') {
            return Err(EngineError::new(
                ErrorCode::INVALID_SESSION_PROPERTY,
                format!("Session property '{name}' does not exist"),
            ));
        }
        let value = session_properties::validate(&self.engine.config, &name, value)?;
        self.update(
            "SET SESSION",
            SessionUpdate {
                set_properties: vec![(name, value)],
                ..SessionUpdate::default()
            },
        )
        .await
    }

    /// `SET TIME ZONE`: a session property; `LOCAL` goes back to the zone the client sends
    /// (`X-Trino-Time-Zone`).
    pub(super) async fn set_time_zone(&self, zone: Option<String>) -> EngineResult<Completion> {
        let property = session_properties::TIME_ZONE_ID.to_string();
        let update = match zone {
            Some(zone) => SessionUpdate {
                set_properties: vec![(property, session_properties::validate_time_zone(&zone)?)],
                ..SessionUpdate::default()
            },
            None => SessionUpdate {
                reset_properties: vec![property],
                ..SessionUpdate::default()
            },
        };
        self.update("SET TIME ZONE", update).await
    }

    /// `RESET SESSION name`.
    pub(super) async fn reset_session(&self, name: String) -> EngineResult<Completion> {
        let known = name == session_properties::TIME_ZONE_ID
            || session_properties::system_properties(&self.engine.config)
                .iter()
                .any(|p| p.name == name);
        if !known {
            return Err(EngineError::new(
                ErrorCode::INVALID_SESSION_PROPERTY,
                format!("Session property '{name}' does not exist"),
            ));
        }
        self.update(
            "RESET SESSION",
            SessionUpdate {
                reset_properties: vec![name],
                ..SessionUpdate::default()
            },
        )
        .await
    }

    /// `PREPARE name FROM statement`, once the statement's syntax is checked.
    pub(super) async fn prepare(&self, name: String, body: String) -> EngineResult<Completion> {
        check_syntax(&body, &self.engine.config.sql_limits)?;
        self.update(
            "PREPARE",
            SessionUpdate {
                added_prepared: vec![(name, body)],
                ..SessionUpdate::default()
            },
        )
        .await
    }

    /// `DEALLOCATE PREPARE name`.
    pub(super) async fn deallocate(&self, name: String) -> EngineResult<Completion> {
        self.prepared(&name)?;
        self.update(
            "DEALLOCATE",
            SessionUpdate {
                deallocated_prepared: vec![name],
                ..SessionUpdate::default()
            },
        )
        .await
    }

    /// `DESCRIBE INPUT name`: one row per parameter.
    pub(super) async fn describe_input(&self, name: &str) -> EngineResult<Completion> {
        let body = self.prepared(name)?;
        let count = statement::parameter_count(&body)?;
        let rows = (0..count)
            .map(|i| vec![Value::from(i as i64), Value::from("unknown")])
            .collect();
        self.values(
            &[
                ("Position", TrinoType::Bigint),
                ("Type", TrinoType::VARCHAR),
            ],
            rows,
        )
        .await
    }

    pub(super) async fn describe_output(&self, name: &str) -> EngineResult<Completion> {
        let body = self.prepared(name)?;
        let count = statement::parameter_count(&body)?;
        let bound = statement::bind_parameters(&body, &vec!["NULL".to_string(); count])?;
        let fields = [
            ("Column Name", TrinoType::VARCHAR),
            ("Catalog", TrinoType::VARCHAR),
            ("Schema", TrinoType::VARCHAR),
            ("Table", TrinoType::VARCHAR),
            ("Type", TrinoType::VARCHAR),
            ("Type Size", TrinoType::Bigint),
            ("Aliased", TrinoType::Boolean),
        ];
        let mut aliased: Vec<bool> = vec![];
        let output: Vec<Field> = match statement::parse(&bound)? {
            Statement::Sql(text) => {
                let parsed = self.parse_sql(&text)?;
                self.check_names(&parsed, &text)?;
                aliased = parsed.aliased.clone().unwrap_or_default();
                let ctx = self.context()?;
                let plan = self.plan_statement(&ctx.state(), parsed.statement).await?;
                if update_type_of(&plan)?.is_some() {
                    vec![]
                } else {
                    plan.schema()
                        .fields()
                        .iter()
                        .map(|f| f.as_ref().clone())
                        .collect()
                }
            }
            _ => vec![],
        };
        let rows = output
            .iter()
            .enumerate()
            .map(|(index, field)| {
                let t = trino_type_of_field(field);
                vec![
                    Value::from(field.name().as_str()),
                    Value::from(""),
                    Value::from(""),
                    Value::from(""),
                    Value::from(t.display_name(self.legacy_datetime)),
                    Value::from(fixed_size(&t)),
                    Value::from(aliased.get(index).copied().unwrap_or(false)),
                ]
            })
            .collect();
        self.values(&fields, rows).await
    }

    /// `START TRANSACTION`: for clients that support transactions, outside of one.
    pub(super) async fn start_transaction(&self) -> EngineResult<Completion> {
        let session = self.session();
        if session.transaction_id.is_none() {
            return Err(EngineError::new(
                ErrorCode::INCOMPATIBLE_CLIENT,
                "Client does not support transactions",
            ));
        }
        if session.in_transaction() {
            return Err(EngineError::new(
                ErrorCode::NOT_SUPPORTED,
                "Nested transactions not supported",
            ));
        }
        self.update(
            "START TRANSACTION",
            SessionUpdate {
                started_transaction_id: Some(uuid::Uuid::new_v4().to_string()),
                ..SessionUpdate::default()
            },
        )
        .await
    }

    /// `COMMIT` or `ROLLBACK`: only reads run inside a transaction, so both just end it.
    pub(super) async fn end_transaction(&self, update_type: &str) -> EngineResult<Completion> {
        if !self.session().in_transaction() {
            return Err(EngineError::new(
                ErrorCode::NOT_IN_TRANSACTION,
                "No transaction in progress",
            ));
        }
        self.update(
            update_type,
            SessionUpdate {
                clear_transaction_id: true,
                ..SessionUpdate::default()
            },
        )
        .await
    }

    pub(super) fn prepared(&self, name: &str) -> EngineResult<String> {
        self.session()
            .prepared_statements
            .get(name)
            .cloned()
            .ok_or_else(|| {
                EngineError::new(
                    ErrorCode::NOT_FOUND,
                    format!("Prepared statement not found: {name}"),
                )
            })
    }
}

pub(super) fn check_syntax(sql: &str, limits: &SqlLimits) -> EngineResult<()> {
    if let Statement::Sql(text) = statement::parse(sql)? {
        vivace_sql::parse::check_syntax(&text, limits.parser_recursion_limit())?;
    }
    Ok(())
}

pub(super) fn fixed_size(t: &TrinoType) -> i64 {
    match t {
        TrinoType::Boolean | TrinoType::Tinyint => 1,
        TrinoType::Smallint => 2,
        TrinoType::Integer | TrinoType::Real | TrinoType::Date => 4,
        TrinoType::Bigint | TrinoType::Double => 8,
        TrinoType::Decimal { precision, .. } => {
            if *precision <= 18 {
                8
            } else {
                16
            }
        }
        TrinoType::Uuid => 16,
        _ => 0,
    }
}
