//! Node and query information: `/v1/info`, `/v1/status`, `/v1/node`, `/v1/query`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Value, json};
use vivace_common::QueryId;
use vivace_common::properties::format_duration;
use vivace_engine::QueryHandle;
use vivace_protocol::{NodeVersion, ServerInfo};

use crate::auth::Authenticated;
use crate::connections::ConnectionInfo;
use crate::connections::read_body;
use crate::error::{RequestError, query_error};
use crate::headers::{detect_family, request_identity};
use crate::state::AppState;

/// `GET /v1/info`.
pub(crate) async fn info(State(app): State<Arc<AppState>>) -> Json<ServerInfo> {
    let node = app.service.node();
    Json(ServerInfo {
        node_version: NodeVersion {
            version: node.version.clone(),
        },
        environment: node.environment.clone(),
        coordinator: node.coordinator,
        starting: false,
        uptime: Some(format_duration(app.started.elapsed())),
    })
}

/// `PUT /v1/info/state` with `"SHUTTING_DOWN"`: drains the node and stops it, as SIGTERM
/// does. Only other nodes (signed with the internal secret) may ask, or, without a secret,
/// this host.
pub(crate) async fn put_state(
    State(app): State<Arc<AppState>>,
    connection: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, RequestError> {
    app.check_internal(
        &headers,
        connection.as_ref().map(|Extension(c)| c),
        "/v1/info/state",
    )?;
    let limits = &app.config.limits;
    let body = read_body(body, limits.max_request_body_size, limits.body_read_timeout).await?;
    let body = String::from_utf8_lossy(&body);
    let requested: String = serde_json::from_str(body.trim()).map_err(|_| {
        let shown: String = body.chars().take(64).collect();
        RequestError::BadRequest(format!(
            "expected a JSON string such as \"SHUTTING_DOWN\", got {shown:?}"
        ))
    })?;
    match requested.as_str() {
        "SHUTTING_DOWN" => {
            tracing::info!("shutdown requested through PUT /v1/info/state");
            app.request_shutdown();
            Ok(StatusCode::OK)
        }
        "ACTIVE" if !app.is_shutting_down() => Ok(StatusCode::OK),
        other => Err(RequestError::BadRequest(format!(
            "cannot change the node state to {other}; only SHUTTING_DOWN is accepted"
        ))),
    }
}

/// `GET /v1/info/state`: `"ACTIVE"`, then `"DRAINING"` on a worker or `"SHUTTING_DOWN"` on a
/// coordinator once it drains. A request signed by another node of the cluster also gets
/// this node's id in [`NODE_ID_HEADER`], so a node probing an address learns whether the
/// member it expects still answers there (a restarted container may hand its address to
/// another process).
pub(crate) async fn state(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let state = if !app.is_shutting_down() {
        "ACTIVE"
    } else if app.service.node().coordinator {
        "SHUTTING_DOWN"
    } else {
        "DRAINING"
    };
    let mut response = Json(state).into_response();
    let member = matches!(
        app.authentication.authenticate_internal(&headers),
        Ok(Some(_))
    );
    if member && let Ok(node_id) = axum::http::HeaderValue::from_str(&app.service.node().node_id) {
        response.headers_mut().insert(NODE_ID_HEADER, node_id);
    }
    response
}

/// The response header naming the node that answered a signed `GET /v1/info/state`.
pub(crate) const NODE_ID_HEADER: &str = vivace_cluster::NODE_ID_HEADER;

/// `GET /v1/info/coordinator`: 200 on a coordinator, 404 elsewhere.
pub(crate) async fn coordinator(State(app): State<Arc<AppState>>) -> StatusCode {
    if app.service.node().coordinator {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

/// `GET /v1/status`.
pub(crate) async fn status(State(app): State<Arc<AppState>>) -> Json<Value> {
    let node = app.service.node();
    Json(json!({
        "nodeId": node.node_id,
        "nodeVersion": {"version": node.version},
        "environment": node.environment,
        "coordinator": node.coordinator,
        "uptime": format_duration(app.started.elapsed()),
        "externalAddress": node.http_uri,
        "internalAddress": node.http_uri,
        "processors": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "runningQueries": app.service.running_queries(),
    }))
}

/// `GET /v1/node`: the nodes this node knows.
pub(crate) async fn nodes(State(app): State<Arc<AppState>>) -> Json<Value> {
    let node = app.service.node();
    let mut nodes = vec![json!({
        "uri": node.http_uri,
        "nodeId": node.node_id,
        "state": "ACTIVE",
        "coordinator": node.coordinator,
        "recentRequests": 0.0,
        "recentFailures": 0.0,
        "recentSuccesses": 0.0,
    })];
    nodes.extend(app.service.remote_nodes().into_iter().map(|other| {
        json!({
            "uri": other.http_uri,
            "nodeId": other.node_id,
            "state": other.state,
            "coordinator": other.coordinator,
            "recentRequests": 0.0,
            "recentFailures": 0.0,
            "recentSuccesses": 0.0,
        })
    }));
    Json(Value::Array(nodes))
}

/// The requesting user: the authenticated principal, or the protocol headers.
fn request_user(headers: &HeaderMap, principal: &Authenticated) -> Result<String, RequestError> {
    let family = detect_family(headers)?;
    Ok(request_identity(headers, family, principal.0.as_ref())?.user)
}

fn basic_info(query: &QueryHandle) -> Value {
    let status = query.status();
    let session = query.session();
    let mut info = json!({
        "queryId": query.id().as_str(),
        "state": status.state.as_str(),
        "query": query.sql(),
        "session": {
            "user": session.identity.user,
            "groups": session.identity.groups,
            "source": session.source,
            "catalog": session.catalog,
            "schema": session.schema,
        },
        "queryStats": {
            "createTime": query.created_at().to_rfc3339(),
            "elapsedTime": format_duration(query.elapsed()),
            "queuedTime": format_duration(query.queued_time()),
        },
    });
    if let Some(method) = &session.identity.authenticated_by {
        info["session"]["authenticationMethod"] = json!(method);
    }
    if let Some(failure) = &status.failure {
        info["errorCode"] = json!({
            "code": failure.code.code,
            "name": failure.code.name,
            "type": failure.code.kind.as_str(),
        });
        info["errorType"] = json!(failure.code.kind.as_str());
    }
    info
}

/// `GET /v1/query`: the requesting user's queries.
pub(crate) async fn list_queries(
    State(app): State<Arc<AppState>>,
    Extension(principal): Extension<Authenticated>,
    headers: HeaderMap,
) -> Result<Json<Value>, RequestError> {
    let user = request_user(&headers, &principal)?;
    let queries: Vec<Value> = app
        .service
        .queries()
        .iter()
        .filter(|q| q.session().identity.user == user)
        .map(|q| basic_info(q))
        .collect();
    Ok(Json(Value::Array(queries)))
}

/// The caller's query with this id; anyone else's is "not found".
fn owned_query(
    app: &AppState,
    id: &str,
    headers: &HeaderMap,
    principal: &Authenticated,
) -> Result<Arc<QueryHandle>, RequestError> {
    let user = request_user(headers, principal)?;
    let id = QueryId::parse(id).ok_or(RequestError::NotFound)?;
    // Another user's query is answered as an unknown one: the answer neither names its owner
    // nor tells that the id exists.
    app.service
        .query(&id)
        .filter(|query| query.session().identity.user == user)
        .ok_or(RequestError::NotFound)
}

/// `GET /v1/query/{id}`.
pub(crate) async fn get_query(
    State(app): State<Arc<AppState>>,
    Extension(principal): Extension<Authenticated>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match owned_query(&app, &id, &headers, &principal) {
        Ok(query) => {
            let mut info = basic_info(&query);
            if let Some(failure) = &query.status().failure {
                info["failureInfo"] = json!(query_error(failure).failure_info);
            }
            Json(info).into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// `DELETE /v1/query/{id}`: cancels the query (presto-python-client's cancel).
pub(crate) async fn kill_query(
    State(app): State<Arc<AppState>>,
    Extension(principal): Extension<Authenticated>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match owned_query(&app, &id, &headers, &principal) {
        Ok(query) => {
            query.cancel();
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// The `infoUri` page: a minimal view of one query.
pub(crate) async fn query_page(
    State(app): State<Arc<AppState>>,
    Extension(principal): Extension<Authenticated>,
    headers: HeaderMap,
    axum::extract::RawQuery(id): axum::extract::RawQuery,
) -> Response {
    match owned_query(&app, id.as_deref().unwrap_or(""), &headers, &principal) {
        Ok(query) => {
            let status = query.status();
            Html(format!(
                "<!doctype html><title>Query {id}</title><h1>Query {id}</h1><p>State: {state}</p><p>Elapsed: {elapsed}</p>",
                id = query.id(),
                state = status.state.as_str(),
                elapsed = format_duration(query.elapsed()),
            ))
            .into_response()
        }
        Err(error) => error.into_response(),
    }
}
