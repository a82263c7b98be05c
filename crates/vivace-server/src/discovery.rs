//! The coordinator's discovery service: `PUT`/`DELETE /v1/announcement/{nodeId}`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use vivace_cluster::Announcement;

use crate::connections::read_body;
use crate::error::RequestError;
use crate::state::AppState;

fn not_discovery() -> RequestError {
    RequestError::BadRequest(
        "This node does not run the discovery service; announce to the coordinator".to_string(),
    )
}

/// `PUT /v1/announcement/{nodeId}`: 202 when the node is recorded.
pub(crate) async fn announce(
    State(app): State<Arc<AppState>>,
    Path(node_id): Path<String>,
    body: Body,
) -> Result<StatusCode, RequestError> {
    let membership = app.membership.as_ref().ok_or_else(not_discovery)?;
    let limits = &app.config.limits;
    let body = read_body(body, limits.max_request_body_size, limits.body_read_timeout).await?;
    let announcement: Announcement = serde_json::from_slice(&body)
        .map_err(|e| RequestError::BadRequest(format!("Invalid announcement: {e}")))?;
    membership
        .announce(&node_id, &announcement)
        .await
        .map_err(|e| {
            crate::log_limit::warn_limited!("announcement of node {node_id:?} refused: {e}");
            RequestError::from(e)
        })?;
    Ok(StatusCode::ACCEPTED)
}

/// `DELETE /v1/announcement/{nodeId}`: the node leaves.
pub(crate) async fn unannounce(
    State(app): State<Arc<AppState>>,
    Path(node_id): Path<String>,
) -> Result<StatusCode, RequestError> {
    app.membership
        .as_ref()
        .ok_or_else(not_discovery)?
        .unannounce(&node_id);
    Ok(StatusCode::NO_CONTENT)
}
