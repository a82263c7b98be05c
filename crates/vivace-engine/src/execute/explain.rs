//! `EXPLAIN [ANALYZE]` in each of its types and formats.

use datafusion::common::format::ExplainStatementOptions;
use datafusion::sql::parser::{ExplainStatement, Statement as DfStatement};
use serde_json::Value;
use vivace_common::ErrorCode;
use vivace_protocol::TrinoType;

use crate::error::{EngineError, EngineResult};
use vivace_sql::statement::{self, Statement};

use super::{Completion, Execution};

impl Execution {
    pub(super) async fn explain(
        &self,
        analyze: bool,
        explain_type: Option<&str>,
        format: Option<&str>,
        sql: &str,
    ) -> EngineResult<Completion> {
        let format = format.unwrap_or(if explain_type == Some("IO") {
            "JSON"
        } else {
            "TEXT"
        });
        let supported = matches!(
            (explain_type, format),
            (None | Some("DISTRIBUTED" | "LOGICAL" | "VALIDATE"), "TEXT") | (Some("IO"), "JSON")
        );
        if !supported || (analyze && explain_type.is_some_and(|t| t == "IO" || t == "VALIDATE")) {
            return Err(EngineError::new(
                ErrorCode::NOT_SUPPORTED,
                format!(
                    "EXPLAIN{} (TYPE {}, FORMAT {format}) is not supported yet",
                    if analyze { " ANALYZE" } else { "" },
                    explain_type.unwrap_or("DISTRIBUTED")
                ),
            ));
        }
        let want = match explain_type {
            Some("LOGICAL") => "logical_plan",
            _ => "physical_plan",
        };
        let Statement::Sql(inner) = statement::parse(sql)? else {
            return Err(EngineError::new(
                ErrorCode::NOT_SUPPORTED,
                "EXPLAIN supports only queries and DML",
            ));
        };
        let parsed = self.parse_sql(&inner)?;
        self.check_names(&parsed, &inner)?;
        match explain_type {
            Some("VALIDATE") => {
                let ctx = self.context()?;
                self.plan_statement(&ctx.state(), parsed.statement).await?;
                return self
                    .values(
                        &[("Valid", TrinoType::Boolean)],
                        vec![vec![Value::from(true)]],
                    )
                    .await;
            }
            Some("IO") => {
                let ctx = self.context()?;
                let state = ctx.state();
                let logical = self.plan_statement(&state, parsed.statement).await?;
                let logical = state.optimize(&logical)?;
                let physical = state.create_physical_plan(&logical).await?;
                let text = crate::explain_io::io_plan_json(&logical, physical.as_ref(), &state)?;
                let text = self.engine.catalogs.hide_private_locations(&text);
                return self
                    .values(
                        &[("Query Plan", TrinoType::VARCHAR)],
                        vec![vec![Value::from(text)]],
                    )
                    .await;
            }
            _ => {}
        }
        if explain_type == Some("DISTRIBUTED")
            && !analyze
            && let Some(stages) = self.distributed_stages(&parsed.statement).await?
        {
            let stages = self.engine.catalogs.hide_private_locations(&stages);
            return self
                .values(
                    &[("Query Plan", TrinoType::VARCHAR)],
                    vec![vec![Value::from(stages)]],
                )
                .await;
        }
        // DataFusion's own EXPLAIN over the parsed statement, planned like any other so that
        // its scans are resolved by the scan policy too.
        let explain = DfStatement::Explain(ExplainStatement {
            options: ExplainStatementOptions {
                analyze,
                ..ExplainStatementOptions::default()
            },
            statement: Box::new(parsed.statement),
        });
        let ctx = self.context()?;
        let plan = self.plan_statement(&ctx.state(), explain).await?;
        let batches = ctx.execute_logical_plan(plan).await?.collect().await?;
        let mut text = String::new();
        for batch in &batches {
            let kinds = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
            let plans = arrow::compute::cast(batch.column(1), &arrow::datatypes::DataType::Utf8)?;
            let kinds = arrow::array::AsArray::as_string::<i32>(&kinds);
            let plans = arrow::array::AsArray::as_string::<i32>(&plans);
            for i in 0..batch.num_rows() {
                if analyze || kinds.value(i) == want {
                    text.push_str(plans.value(i));
                    text.push('\n');
                }
            }
        }
        let text = self.engine.catalogs.hide_private_locations(text.trim_end());
        self.values(
            &[("Query Plan", TrinoType::VARCHAR)],
            vec![vec![Value::from(text)]],
        )
        .await
    }
}
