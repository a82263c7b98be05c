//! `/v1/statement`: submitting statements and paging through their results.

use std::sync::Arc;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::Authenticated;
use crate::connections::ConnectionInfo;
use crate::connections::read_body;
use crate::error::RequestError;
use crate::headers::{detect_family, session_from_headers};
use crate::paging::{Page, ProtocolQuery};
use crate::state::AppState;

/// `POST /v1/statement`: the body is the SQL text.
pub(crate) async fn submit(
    State(app): State<Arc<AppState>>,
    Extension(connection): Extension<ConnectionInfo>,
    Extension(Authenticated(principal)): Extension<Authenticated>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, RequestError> {
    if !app.service.node().coordinator {
        return Err(RequestError::BadRequest(
            "This node is a worker; send queries to the coordinator".to_string(),
        ));
    }
    if app.is_shutting_down() {
        return Err(RequestError::Unavailable(
            "Server is shutting down".to_string(),
        ));
    }
    let family = detect_family(&headers)?;
    let session = session_from_headers(&headers, family, principal.as_ref())?;
    // Counted before the body is read, so a user over the rate costs the server little.
    let user = &session.identity.user;
    app.statement_rate
        .admit(user)
        .map_err(|retry_after| RequestError::TooManyStatements {
            user: user.clone(),
            per_second: app.config.max_statements_per_second_per_user,
            retry_after,
        })?;
    let limits = &app.config.limits;
    let body = read_body(body, limits.max_request_body_size, limits.body_read_timeout).await?;
    let sql = std::str::from_utf8(&body)
        .map_err(|_| RequestError::BadRequest("SQL statement is not valid UTF-8".to_string()))?
        .trim();
    if sql.is_empty() {
        return Err(RequestError::BadRequest(
            "SQL statement is empty".to_string(),
        ));
    }
    let handle = app.service.submit(session, sql.to_string());
    let query = Arc::new(ProtocolQuery::new(
        handle,
        family,
        app.service.output_runtime(),
    ));
    app.register(Arc::clone(&query));
    let base = app.base_uri(&headers, connection.tls);
    Ok(page_response(query.first_page(&base).await))
}

/// `GET /v1/statement/{queued|executing}/{id}/{slug}/{token}`.
pub(crate) async fn fetch(
    State(app): State<Arc<AppState>>,
    Extension(connection): Extension<ConnectionInfo>,
    Path((_kind, id, slug, token)): Path<(String, String, String, u64)>,
    headers: HeaderMap,
) -> Result<Response, RequestError> {
    let query = app.find(&id, &slug)?;
    let base = app.base_uri(&headers, connection.tls);
    let page = query
        .page(token, &base, app.config.target_page_bytes)
        .await?;
    Ok(page_response(page))
}

/// `HEAD` on a statement URI: a heartbeat that does not advance the query.
pub(crate) async fn heartbeat(
    State(app): State<Arc<AppState>>,
    Path((_kind, id, slug, _token)): Path<(String, String, String, u64)>,
) -> Result<StatusCode, RequestError> {
    app.find(&id, &slug)?.touch();
    Ok(StatusCode::OK)
}

/// `DELETE` on a statement URI: cancels the query.
pub(crate) async fn cancel(
    State(app): State<Arc<AppState>>,
    Path((_kind, id, slug, _token)): Path<(String, String, String, u64)>,
) -> Result<StatusCode, RequestError> {
    let query = app.find(&id, &slug)?;
    query.handle.cancel();
    Ok(StatusCode::NO_CONTENT)
}

fn page_response(page: Page) -> Response {
    let mut response = (StatusCode::OK, page.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in page.headers {
        headers.append(name, value);
    }
    response
}
