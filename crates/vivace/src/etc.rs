//! Loading a node's configuration: the embedded default, or a Trino-style `etc/` directory,
//! with `-Dkey=value` overrides. Every key is consumed by a typed config; what is left is an
//! error naming the file, line and key. A configuration file under `etc/` that Vivace would
//! ignore is an error too (`etc_files.rs`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vivace_cluster::ClusterConfig;
use vivace_common::{PropertiesError, PropertyMap};
use vivace_connectors::builtin_factories;
use vivace_engine::EngineConfig;
use vivace_security::{SecurityConfig, SecurityError};
use vivace_server::ServerConfig;
use vivace_spi::{ConnectorError, ConnectorFactory, MountedConnector};

use crate::logging::LogFormat;

/// A node's whole configuration, validated.
#[derive(Debug)]
pub struct NodeConfig {
    /// Engine settings.
    pub engine: EngineConfig,
    /// HTTP settings.
    pub server: ServerConfig,
    /// Authentication and internal trust.
    pub security: SecurityConfig,
    /// Membership: discovery, announcements, failure detection.
    pub cluster: ClusterConfig,
    /// Mounted catalogs, by name.
    pub catalogs: Vec<MountedConnector>,
    /// Log output format.
    pub log_format: LogFormat,
}

/// Why a node cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A property file problem.
    #[error(transparent)]
    Properties(#[from] PropertiesError),
    /// A security setting problem.
    #[error(transparent)]
    Security(#[from] SecurityError),
    /// A connector rejected its catalog.
    #[error("{file}: {source}")]
    Connector {
        /// The catalog file.
        file: String,
        /// The connector's error.
        source: ConnectorError,
    },
    /// Anything else, already worded.
    #[error("{0}")]
    Invalid(String),
}

/// Splits `-D` arguments into key and value.
pub fn parse_overrides(arguments: &[String]) -> Result<Vec<(String, String)>, StartupError> {
    arguments
        .iter()
        .map(|argument| {
            let (key, value) = argument.split_once('=').ok_or_else(|| {
                StartupError::Invalid(format!(
                    "invalid override -D{argument}: expected -Dkey=value"
                ))
            })?;
            let key = key.trim();
            if key.is_empty() {
                return Err(StartupError::Invalid(format!(
                    "invalid override -D{argument}: empty key"
                )));
            }
            Ok((key.to_string(), value.trim().to_string()))
        })
        .collect()
}

/// Loads the embedded default (`etc` is `None`) or an `etc/` directory, applying overrides.
/// When no `node.id` is set, `default_node_id` is used, else an id is generated (and kept in
/// `node.data-dir` when there is one).
pub fn load(
    etc: Option<&Path>,
    overrides: &[(String, String)],
    default_node_id: Option<String>,
) -> Result<NodeConfig, StartupError> {
    let (mut config_props, mut node_props) = match etc {
        Some(dir) => {
            if !dir.is_dir() {
                return Err(StartupError::Invalid(format!(
                    "{}: not a directory",
                    dir.display()
                )));
            }
            let node_path = dir.join("node.properties");
            let node = if node_path.exists() {
                PropertyMap::load(&node_path)?
            } else {
                PropertyMap::new(node_path.display().to_string())
            };
            (PropertyMap::load(&dir.join("config.properties"))?, node)
        }
        None => (
            PropertyMap::new("embedded config.properties"),
            PropertyMap::new("embedded node.properties"),
        ),
    };
    for (key, value) in overrides {
        if key.starts_with("node.") {
            node_props.set_override(key, value);
        } else {
            config_props.set_override(key, value);
        }
    }

    let mut engine = EngineConfig::default();
    let explicit_node_id = node_props.contains("node.id");
    engine.take_node_properties(&mut node_props)?;
    let data_dir = node_props.take_string("node.data-dir");
    if let Some(dir) = &data_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            StartupError::Invalid(format!("node.data-dir {dir}: cannot create: {e}"))
        })?;
    }
    if !explicit_node_id {
        engine.node_id = match default_node_id {
            Some(id) => id,
            None => generated_node_id(data_dir.as_deref().map(Path::new))?,
        };
    }
    let internal_address = node_props.take_string("node.internal-address");
    node_props.finish()?;

    let mut server = ServerConfig::default();
    server.take_properties(&mut config_props)?;
    let security = SecurityConfig::take_properties(&mut config_props, etc)?;
    if let Some(dir) = etc {
        crate::etc_files::check_etc_files(dir, &security.password_authenticator_files)
            .map_err(StartupError::Invalid)?;
    }
    engine.take_server_properties(&mut config_props)?;
    if !engine.coordinator && security.shared_secret.is_none() {
        return Err(StartupError::Invalid(format!(
            "{}: internal-communication.shared-secret is required for a cluster: a worker \
             (coordinator=false) joins its coordinator only when every node has the same secret; \
             without one a node serves only itself",
            config_props.source_name()
        )));
    }
    let log_format = config_props
        .take_with("log.format", LogFormat::parse)?
        .unwrap_or_default();
    let mut cluster = take_cluster_keys(&mut config_props, engine.coordinator)?;
    config_props.finish()?;

    let host = if server.bind_address == "0.0.0.0" {
        "localhost"
    } else {
        &server.bind_address
    };
    engine.http_uri = match (&server.https, server.http_enabled) {
        (Some(https), false) => format!("https://{host}:{}", https.port),
        _ => format!("http://{host}:{}", server.http_port),
    };
    let internal_host = match internal_address {
        Some(address) => address,
        None if server.bind_address != "0.0.0.0" => server.bind_address.clone(),
        None => {
            cluster.follow_route_address = cluster.discovery_uri.is_some();
            cluster
                .discovery_uri
                .as_deref()
                .and_then(vivace_cluster::route_address)
                .map(|address| match address {
                    std::net::IpAddr::V6(v6) => format!("[{v6}]"),
                    v4 => v4.to_string(),
                })
                .unwrap_or_else(|| "localhost".to_string())
        }
    };
    cluster.internal_uri = match (&server.https, server.http_enabled) {
        (Some(https), false) => format!("https://{internal_host}:{}", https.port),
        _ => format!("http://{internal_host}:{}", server.http_port),
    };
    cluster.environment = engine.environment.clone();
    cluster.node_id = engine.node_id.clone();

    let catalogs = match etc {
        Some(dir) => load_catalogs(&dir.join("catalog"))?,
        None => default_catalogs()?,
    };
    Ok(NodeConfig {
        engine,
        server,
        security,
        cluster,
        catalogs,
        log_format,
    })
}

/// Discovery and failure-detector keys. A worker needs `discovery.uri`.
fn take_cluster_keys(
    props: &mut PropertyMap,
    coordinator: bool,
) -> Result<ClusterConfig, StartupError> {
    let mut cluster = ClusterConfig::default();
    // Deprecated in Trino and always on: the coordinator runs the discovery service.
    props.take_bool("discovery-server.enabled")?;
    cluster.discovery_uri = props.take_with("discovery.uri", |uri| {
        let uri = uri.trim().trim_end_matches('/');
        if uri.starts_with("http://") || uri.starts_with("https://") {
            Ok(uri.to_string())
        } else {
            Err(format!("expected an http:// or https:// URI, got '{uri}'"))
        }
    })?;
    if let Some(v) = props.take_duration("discovery.announcement-interval")? {
        cluster.announcement_interval = v.max(std::time::Duration::from_millis(100));
    }
    if let Some(v) = props.take_duration("discovery.max-age")? {
        cluster.max_age = v;
    }
    if let Some(v) = props.take_duration("failure-detector.heartbeat-interval")? {
        cluster.heartbeat_interval = v.max(std::time::Duration::from_millis(100));
    }
    if let Some(v) = props.take_parsed("failure-detector.threshold-failures")? {
        cluster.failure_threshold = v;
    }
    if !coordinator && cluster.discovery_uri.is_none() {
        return Err(StartupError::Invalid(format!(
            "{}: coordinator=false needs discovery.uri (the coordinator's URI, e.g. http://coordinator:8080)",
            props.source_name()
        )));
    }
    if let Some(v) = props.take_bool("node-scheduler.include-coordinator")? {
        cluster.include_coordinator = v;
    }
    if let Some(v) = props.take_duration("query.max-queued-time")? {
        cluster.max_queued_time = v;
    }
    Ok(cluster)
}

/// This host's name as a node id (as Trino's image sets `node.id=$HOSTNAME`): characters other
/// than letters, digits, `-` and `_` become `-`.
pub fn hostname_node_id() -> Result<String, StartupError> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| {
            StartupError::Invalid(
                "--node-id-from-hostname: cannot read this host's name".to_string(),
            )
        })?;
    Ok(name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect())
}

/// A node id kept in `node.data-dir/node-id` (created on first start), or a fresh one when
/// there is no data directory.
fn generated_node_id(data_dir: Option<&Path>) -> Result<String, StartupError> {
    let fresh = || uuid::Uuid::new_v4().to_string();
    let Some(dir) = data_dir else {
        return Ok(fresh());
    };
    let path = dir.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_string()),
        _ => {
            let id = fresh();
            std::fs::write(&path, format!("{id}\n")).map_err(|e| {
                StartupError::Invalid(format!("{}: cannot write the node id: {e}", path.display()))
            })?;
            Ok(id)
        }
    }
}

fn default_catalogs() -> Result<Vec<MountedConnector>, StartupError> {
    let factories = builtin_factories();
    let mut catalogs = Vec::new();
    for name in ["tpch", "memory"] {
        let factory = find_factory(&factories, name)
            .ok_or_else(|| StartupError::Invalid(format!("built-in connector {name} missing")))?;
        let mut props = PropertyMap::new(format!("embedded catalog {name}"));
        let connector =
            factory
                .create(name, &mut props)
                .map_err(|source| StartupError::Connector {
                    file: format!("embedded catalog {name}"),
                    source,
                })?;
        catalogs.push((name.to_string(), connector));
    }
    Ok(catalogs)
}

fn find_factory<'a>(
    factories: &'a [Arc<dyn ConnectorFactory>],
    name: &str,
) -> Option<&'a Arc<dyn ConnectorFactory>> {
    factories.iter().find(|f| f.name() == name)
}

/// Reads every `catalog/NAME.properties`; the file name is the catalog name.
fn load_catalogs(dir: &Path) -> Result<Vec<MountedConnector>, StartupError> {
    if !dir.exists() {
        return Ok(vec![]);
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| StartupError::Invalid(format!("{}: cannot read: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "properties"))
        .collect();
    files.sort();
    let factories = builtin_factories();
    let mut catalogs = Vec::new();
    for file in files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(StartupError::Invalid(format!(
                "{}: catalog name '{name}' must contain only lower-case letters, digits and underscores",
                file.display()
            )));
        }
        if name == "system" {
            return Err(StartupError::Invalid(format!(
                "{}: the catalog name 'system' is reserved",
                file.display()
            )));
        }
        let mut props = PropertyMap::load(&file)?;
        let connector_property =
            props
                .take("connector.name")
                .ok_or_else(|| PropertiesError::Missing {
                    source_name: file.display().to_string(),
                    key: "connector.name".to_string(),
                })?;
        let factory = find_factory(&factories, &connector_property.value).ok_or_else(|| {
            let known: Vec<&str> = factories.iter().map(|f| f.name()).collect();
            StartupError::Invalid(format!(
                "{}:{}: property 'connector.name': unknown connector '{}' (known: {})",
                file.display(),
                connector_property.line,
                connector_property.value,
                known.join(", ")
            ))
        })?;
        let connector =
            factory
                .create(&name, &mut props)
                .map_err(|source| StartupError::Connector {
                    file: file.display().to_string(),
                    source,
                })?;
        props.finish()?;
        catalogs.push((name, connector));
    }
    Ok(catalogs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir.join(name).parent().unwrap()).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn embedded_default_has_tpch_and_memory() {
        let config = load(None, &[], None).unwrap();
        let names: Vec<&str> = config.catalogs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["tpch", "memory"]);
        assert_eq!(config.server.http_port, 8080);
    }

    #[test]
    fn etc_directory_with_overrides() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "config.properties",
            "coordinator=true\nhttp-server.http.port=9000\nquery.max-memory=1GB\n",
        );
        write(dir.path(), "node.properties", "node.environment=test\n");
        write(
            dir.path(),
            "catalog/sales.properties",
            "connector.name=memory\n",
        );
        let overrides = parse_overrides(&["http-server.http.port=9001".to_string()]).unwrap();
        let config = load(Some(dir.path()), &overrides, None).unwrap();
        assert_eq!(config.server.http_port, 9001);
        assert_eq!(config.engine.environment, "test");
        assert_eq!(config.catalogs[0].0, "sales");
    }

    #[test]
    fn default_node_id_applies_only_when_none_is_set() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "config.properties", "coordinator=true\n");
        let config = load(Some(dir.path()), &[], Some("host-1".to_string())).unwrap();
        assert_eq!(config.engine.node_id, "host-1");
        assert_eq!(config.cluster.node_id, "host-1");
        write(dir.path(), "node.properties", "node.id=configured\n");
        let config = load(Some(dir.path()), &[], Some("host-1".to_string())).unwrap();
        assert_eq!(config.engine.node_id, "configured");
        let id = hostname_node_id().unwrap();
        assert!(!id.is_empty());
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "config.properties",
            "coordinator=true\nhttp-server.http.prot=9000\n",
        );
        let err = load(Some(dir.path()), &[], None).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "config.properties:2: property 'http-server.http.prot': unknown property"
            ),
            "{err}"
        );

        write(dir.path(), "config.properties", "coordinator=true\n");
        write(
            dir.path(),
            "catalog/x.properties",
            "\nconnector.name=nope\n",
        );
        let err = load(Some(dir.path()), &[], None).unwrap_err().to_string();
        assert!(
            err.contains("x.properties:2: property 'connector.name': unknown connector 'nope'"),
            "{err}"
        );

        write(
            dir.path(),
            "catalog/x.properties",
            "connector.name=tpch\ntpch.colum-naming=STANDARD\n",
        );
        let err = load(Some(dir.path()), &[], None).unwrap_err().to_string();
        assert!(
            err.contains("x.properties:2: property 'tpch.colum-naming': unknown property"),
            "{err}"
        );

        let missing = tempfile::tempdir().unwrap();
        let err = load(Some(missing.path()), &[], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("config.properties"), "{err}");

        assert!(parse_overrides(&["novalue".to_string()]).is_err());
    }

    #[test]
    fn a_worker_needs_the_shared_secret() {
        let worker = parse_overrides(&[
            "coordinator=false".to_string(),
            "discovery.uri=http://127.0.0.1:8080".to_string(),
        ])
        .unwrap();
        let err = load(None, &worker, None).unwrap_err().to_string();
        assert!(
            err.contains("internal-communication.shared-secret is required for a cluster"),
            "{err}"
        );
        let mut with_secret = worker.clone();
        with_secret.push((
            "internal-communication.shared-secret".to_string(),
            "s3cret".to_string(),
        ));
        let config = load(None, &with_secret, None).unwrap();
        assert!(!config.engine.coordinator);
        // A coordinator runs without one, on its own.
        assert!(
            load(None, &[], None)
                .unwrap()
                .security
                .shared_secret
                .is_none()
        );
    }
}
