//! Procedures run by `CALL`. There is one, Trino's `system.runtime.kill_query(query_id,
//! message)`, which Superset and operators use to stop a query.

use vivace_common::{ErrorCode, QueryId};

use crate::error::{EngineError, EngineResult, QueryFailure};
use crate::session::Session;
use crate::tracker::QueryTracker;
use vivace_sql::statement::CallArgument;

/// A procedure `CALL` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Procedure {
    /// `system.runtime.kill_query`
    KillQuery,
}

impl Procedure {
    /// The procedure named by `parts` (`[catalog.]schema.name`), with the session's catalog
    /// filling a missing catalog.
    pub(crate) fn resolve(parts: &[String], session: &Session) -> EngineResult<Self> {
        let qualified: Vec<&str> = match parts {
            [schema, name] => match &session.catalog {
                Some(catalog) => vec![catalog.as_str(), schema, name],
                None => {
                    return Err(EngineError::new(
                        ErrorCode::MISSING_CATALOG_NAME,
                        "Catalog must be specified when session catalog is not set",
                    ));
                }
            },
            [catalog, schema, name] => vec![catalog, schema, name],
            _ => {
                let name = parts.join(".");
                return Err(EngineError::new(
                    ErrorCode::PROCEDURE_NOT_FOUND,
                    format!("Procedure not registered: {name}"),
                ));
            }
        };
        match qualified.as_slice() {
            ["system", "runtime", "kill_query"] => Ok(Procedure::KillQuery),
            _ => Err(EngineError::new(
                ErrorCode::PROCEDURE_NOT_FOUND,
                format!("Procedure not registered: {}", qualified.join(".")),
            )),
        }
    }

    /// The parameters, in order.
    fn parameters(self) -> &'static [&'static str] {
        match self {
            Procedure::KillQuery => &["query_id", "message"],
        }
    }

    /// Matches `arguments` to the parameters: positional ones first, then named ones; a
    /// missing trailing argument is NULL.
    fn bind(self, arguments: &[CallArgument]) -> EngineResult<Vec<Option<String>>> {
        let parameters = self.parameters();
        let invalid =
            |message: String| EngineError::new(ErrorCode::INVALID_PROCEDURE_ARGUMENT, message);
        if arguments.len() > parameters.len() {
            return Err(invalid(format!(
                "Too many arguments for procedure: expected at most {}, got {}",
                parameters.len(),
                arguments.len()
            )));
        }
        let named = arguments.iter().any(|a| a.name.is_some());
        if named && arguments.iter().any(|a| a.name.is_none()) {
            return Err(invalid(
                "Named and positional arguments cannot be mixed".to_string(),
            ));
        }
        let mut values: Vec<Option<Option<String>>> = vec![None; parameters.len()];
        for (position, argument) in arguments.iter().enumerate() {
            let index = match &argument.name {
                None => position,
                Some(name) => parameters
                    .iter()
                    .position(|p| p.eq_ignore_ascii_case(name))
                    .ok_or_else(|| invalid(format!("Unknown argument name: {name}")))?,
            };
            if values[index].is_some() {
                return Err(invalid(format!(
                    "Duplicate procedure argument: {}",
                    parameters[index]
                )));
            }
            values[index] = Some(argument.value.clone());
        }
        Ok(values.into_iter().map(Option::flatten).collect())
    }

    /// Runs the procedure for `caller`.
    pub(crate) fn run(
        self,
        arguments: &[CallArgument],
        caller: &Session,
        tracker: &QueryTracker,
    ) -> EngineResult<()> {
        let values = self.bind(arguments)?;
        match self {
            Procedure::KillQuery => {
                let query_id = values.first().cloned().flatten();
                let message = values.get(1).cloned().flatten();
                kill_query(query_id.as_deref(), message.as_deref(), caller, tracker)
            }
        }
    }
}

/// Fails a running query with `ADMINISTRATIVELY_KILLED`, as Trino's `kill_query` does. Each
/// user may kill only their own queries.
fn kill_query(
    query_id: Option<&str>,
    message: Option<&str>,
    caller: &Session,
    tracker: &QueryTracker,
) -> EngineResult<()> {
    let Some(text) = query_id else {
        return Err(EngineError::new(
            ErrorCode::INVALID_PROCEDURE_ARGUMENT,
            "query_id cannot be null",
        ));
    };
    let id = QueryId::parse(text).ok_or_else(|| {
        EngineError::new(
            ErrorCode::INVALID_PROCEDURE_ARGUMENT,
            format!("Invalid query id: {text}"),
        )
    })?;
    let not_found = || {
        EngineError::new(
            ErrorCode::NOT_FOUND,
            format!("Target query not found: {text}"),
        )
    };
    let target = tracker.get(&id).ok_or_else(not_found)?;
    // Trino's denial, which does not name the owner.
    if target.session().identity.user != caller.identity.user {
        return Err(EngineError::new(
            ErrorCode::PERMISSION_DENIED,
            "Access Denied: Cannot kill query",
        ));
    }
    let reason = match message.filter(|m| !m.is_empty()) {
        Some(message) => format!("Query killed. Message: {message}"),
        None => "Query killed. No message provided.".to_string(),
    };
    let failure = QueryFailure::new(ErrorCode::ADMINISTRATIVELY_KILLED, reason, None);
    if target.fail(failure) {
        Ok(())
    } else {
        Err(EngineError::new(
            ErrorCode::NOT_SUPPORTED,
            format!("Target query is not running: {text}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(error: EngineError) -> Option<ErrorCode> {
        match error {
            EngineError::Query { code, .. } => Some(code),
            _ => None,
        }
    }

    fn positional(values: &[Option<&str>]) -> Vec<CallArgument> {
        values
            .iter()
            .map(|v| CallArgument {
                name: None,
                value: v.map(str::to_string),
            })
            .collect()
    }

    #[test]
    fn procedure_names_resolve_with_the_session_catalog() {
        let mut session = Session::default();
        let parts = |text: &str| text.split('.').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            Procedure::resolve(&parts("system.runtime.kill_query"), &session).ok(),
            Some(Procedure::KillQuery)
        );
        let error = Procedure::resolve(&parts("runtime.kill_query"), &session).err();
        assert_eq!(
            error.and_then(code_of),
            Some(ErrorCode::MISSING_CATALOG_NAME)
        );
        session.catalog = Some("system".to_string());
        assert!(Procedure::resolve(&parts("runtime.kill_query"), &session).is_ok());
        let error = Procedure::resolve(&parts("system.runtime.nope"), &session).err();
        assert_eq!(
            error.and_then(code_of),
            Some(ErrorCode::PROCEDURE_NOT_FOUND)
        );
    }

    #[test]
    fn arguments_bind_by_position_or_name() {
        let kill = Procedure::KillQuery;
        assert_eq!(
            kill.bind(&positional(&[Some("q")])).ok(),
            Some(vec![Some("q".to_string()), None])
        );
        let named = vec![
            CallArgument {
                name: Some("message".to_string()),
                value: Some("m".to_string()),
            },
            CallArgument {
                name: Some("QUERY_ID".to_string()),
                value: Some("q".to_string()),
            },
        ];
        assert_eq!(
            kill.bind(&named).ok(),
            Some(vec![Some("q".to_string()), Some("m".to_string())])
        );
        let too_many = kill.bind(&positional(&[Some("a"), Some("b"), Some("c")]));
        assert_eq!(
            too_many.err().and_then(code_of),
            Some(ErrorCode::INVALID_PROCEDURE_ARGUMENT)
        );
        let unknown = vec![CallArgument {
            name: Some("reason".to_string()),
            value: None,
        }];
        assert_eq!(
            kill.bind(&unknown).err().and_then(code_of),
            Some(ErrorCode::INVALID_PROCEDURE_ARGUMENT)
        );
    }
}
