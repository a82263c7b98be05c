//! The routes: which handler answers which path, and which layers guard them. [`router`]
//! builds the whole application, so tests drive it in-process without a socket.

use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get};
use vivace_cluster::distributed::WORKER_GRPC_PATH;

use crate::state::AppState;
use crate::{auth, discovery, info as info_routes, statement};

/// The application: public, authenticated and internal routes over `state`.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.config.limits.max_request_body_size;
    let statement_path = "/v1/statement/{kind}/{id}/{slug}/{token}";
    let authenticated = Router::new()
        .route("/v1/statement", axum::routing::post(statement::submit))
        .route("/v1/node", get(info_routes::nodes))
        .route("/v1/query", get(info_routes::list_queries))
        .route(
            "/v1/query/{id}",
            get(info_routes::get_query).merge(delete(info_routes::kill_query)),
        )
        .route("/ui/query.html", get(info_routes::query_page))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            auth::authenticate,
        ));
    let mut internal = Router::new().route(
        "/v1/announcement/{node_id}",
        axum::routing::put(discovery::announce).delete(discovery::unannounce),
    );
    if let Some(worker) = &state.worker {
        internal = internal.route_service(WORKER_GRPC_PATH, worker.grpc_service());
    }
    let internal = internal.route_layer(axum::middleware::from_fn_with_state(
        Arc::clone(&state),
        auth::internal_only,
    ));
    // As in Trino, following `nextUri` needs no credentials: the random slug in the URI
    // authorizes it, so a query outlives its client's token.
    Router::new()
        .route(
            statement_path,
            get(statement::fetch)
                .delete(statement::cancel)
                .head(statement::heartbeat),
        )
        .route("/v1/info", get(info_routes::info))
        .route(
            "/v1/info/state",
            get(info_routes::state).put(info_routes::put_state),
        )
        .route("/v1/info/coordinator", get(info_routes::coordinator))
        .route("/v1/status", get(info_routes::status))
        .merge(authenticated)
        .merge(internal)
        .with_state(state)
        // Bodies are read with `read_body`; this bounds any other reader.
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use http_body_util::BodyExt;
    use parking_lot::Mutex;
    use serde_json::Value;
    use tower::ServiceExt;
    use vivace_common::{ErrorCode, QueryId, QueryIdGenerator};
    use vivace_engine::{NodeInfo, QueryFailure, QueryHandle, QueryService, RemoteNode, Session};
    use vivace_security::Authentication;

    use super::*;
    use crate::config::ServerConfig;
    use crate::connections::ConnectionInfo;

    /// A query service that fails every statement at once with a message naming what it
    /// received, so a test sees the session the headers became.
    struct StubService {
        node: NodeInfo,
        ids: QueryIdGenerator,
        queries: Mutex<Vec<Arc<QueryHandle>>>,
    }

    impl QueryService for StubService {
        fn submit(&self, session: Session, sql: String) -> Arc<QueryHandle> {
            let message = format!(
                "stub: {} in {} ran {sql}",
                session.identity.user,
                session.catalog.clone().unwrap_or_default()
            );
            let (handle, _events) = QueryHandle::new(self.ids.next_id(), session, sql);
            handle.fail(QueryFailure::new(ErrorCode::NOT_SUPPORTED, message, None));
            self.queries.lock().push(Arc::clone(&handle));
            handle
        }

        fn query(&self, id: &QueryId) -> Option<Arc<QueryHandle>> {
            self.queries.lock().iter().find(|q| q.id() == id).cloned()
        }

        fn queries(&self) -> Vec<Arc<QueryHandle>> {
            self.queries.lock().clone()
        }

        fn node(&self) -> &NodeInfo {
            &self.node
        }

        fn remote_nodes(&self) -> Vec<RemoteNode> {
            vec![]
        }

        fn begin_shutdown(&self) {}

        fn running_queries(&self) -> usize {
            0
        }
    }

    fn app() -> Router {
        let service = StubService {
            node: NodeInfo {
                node_id: "stub-node".to_string(),
                http_uri: "http://127.0.0.1:8080".to_string(),
                version: "476".to_string(),
                coordinator: true,
                environment: "test".to_string(),
            },
            ids: QueryIdGenerator::new(),
            queries: Mutex::new(vec![]),
        };
        router(Arc::new(AppState::new(
            ServerConfig::default(),
            Arc::new(service),
            Arc::new(Authentication::disabled()),
            None,
            None,
        )))
    }

    /// A request as the connection layer hands it over, from `remote`.
    fn request(
        method: Method,
        uri: &str,
        remote: IpAddr,
        headers: &[(&str, &str)],
    ) -> Request<Body> {
        request_with_body(method, uri, remote, headers, Body::empty())
    }

    fn request_with_body(
        method: Method,
        uri: &str,
        remote: IpAddr,
        headers: &[(&str, &str)],
        body: Body,
    ) -> Request<Body> {
        let mut builder = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder.body(body).unwrap();
        request.extensions_mut().insert(ConnectionInfo {
            remote: SocketAddr::new(remote, 50_000),
            local: IpAddr::V4(Ipv4Addr::LOCALHOST),
            tls: false,
        });
        request
    }

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const REMOTE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));

    async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn statements_are_submitted_and_paged() {
        let app = app();
        let (status, body) = send(
            &app,
            request_with_body(
                Method::POST,
                "/v1/statement",
                REMOTE,
                &[("x-trino-user", "alice"), ("x-trino-catalog", "tpch")],
                Body::from("SELECT 1"),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let first: Value = serde_json::from_str(&body).unwrap();
        let next = first["nextUri"].as_str().unwrap();
        let path = next.trim_start_matches("http://localhost:8080");
        let (status, body) = send(&app, request(Method::GET, path, REMOTE, &[])).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            page["error"]["message"], "stub: alice in tpch ran SELECT 1",
            "{body}"
        );
        // A wrong slug is an unknown query.
        let forged = path.replacen(
            first["id"].as_str().unwrap(),
            "20990101_000000_00000_xxxxx",
            1,
        );
        let (status, _) = send(&app, request(Method::GET, &forged, REMOTE, &[])).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // No user: refused before anything runs.
        let (status, _) = send(
            &app,
            request_with_body(
                Method::POST,
                "/v1/statement",
                REMOTE,
                &[],
                Body::from("SELECT 1"),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn info_routes_answer_without_credentials() {
        let app = app();
        let (status, body) = send(&app, request(Method::GET, "/v1/info", REMOTE, &[])).await;
        assert_eq!(status, StatusCode::OK);
        let info: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(info["coordinator"], true, "{body}");
        let (status, body) = send(&app, request(Method::GET, "/v1/info/state", REMOTE, &[])).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "\"ACTIVE\""));
        let (status, _) = send(&app, request(Method::GET, "/v1/status", REMOTE, &[])).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = send(
            &app,
            request(Method::GET, "/v1/info/coordinator", REMOTE, &[]),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn query_routes_show_only_the_callers_queries() {
        let app = app();
        for user in ["alice", "bob"] {
            let submit = request_with_body(
                Method::POST,
                "/v1/statement",
                REMOTE,
                &[("x-trino-user", user)],
                Body::from("SELECT 1"),
            );
            assert_eq!(send(&app, submit).await.0, StatusCode::OK);
        }
        let (status, body) = send(
            &app,
            request(
                Method::GET,
                "/v1/query",
                REMOTE,
                &[("x-trino-user", "alice")],
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let listed: Vec<Value> = serde_json::from_str(&body).unwrap();
        assert_eq!(listed.len(), 1, "{body}");
        let id = listed[0]["queryId"].as_str().unwrap().to_string();
        let uri = format!("/v1/query/{id}");
        let (status, _) = send(
            &app,
            request(Method::GET, &uri, REMOTE, &[("x-trino-user", "alice")]),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        // Bob neither sees nor cancels Alice's query.
        for method in [Method::GET, Method::DELETE] {
            let (status, _) = send(
                &app,
                request(method, &uri, REMOTE, &[("x-trino-user", "bob")]),
            )
            .await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        }
        let page = format!("/ui/query.html?{id}");
        let (status, body) = send(
            &app,
            request(Method::GET, &page, REMOTE, &[("x-trino-user", "alice")]),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains(&id), "{body}");
    }

    #[tokio::test]
    async fn node_route_lists_this_node() {
        let app = app();
        let (status, body) = send(
            &app,
            request(
                Method::GET,
                "/v1/node",
                REMOTE,
                &[("x-trino-user", "alice")],
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.starts_with('['), "{body}");
    }

    #[tokio::test]
    async fn internal_routes_refuse_other_hosts_without_a_secret() {
        let app = app();
        let announce = |remote| {
            request_with_body(
                Method::PUT,
                "/v1/announcement/worker-1",
                remote,
                &[("content-type", "application/json")],
                Body::from("{}"),
            )
        };
        let (status, _) = send(&app, announce(REMOTE)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // From this host it passes the check and reaches the handler, which finds no
        // directory on a node without one.
        let (status, _) = send(&app, announce(LOCAL)).await;
        assert_ne!(status, StatusCode::FORBIDDEN);
        let (status, _) = send(&app, request(Method::PUT, "/v1/info/state", REMOTE, &[])).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
