//! Loading a node's configuration: the embedded default, or a Trino-style `etc/` directory,
//! with `-Dkey=value` overrides. Every key is consumed by a typed config; what is left is an
//! error naming the file, line and key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vivace_common::{PropertiesError, PropertyMap};
use vivace_connectors::{ConnectorError, ConnectorFactory, MountedConnector, builtin_factories};
use vivace_engine::EngineConfig;
use vivace_security::{SecurityConfig, SecurityError};
use vivace_server::ServerConfig;

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
pub fn load(
    etc: Option<&Path>,
    overrides: &[(String, String)],
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
    engine.take_node_properties(&mut node_props)?;
    if let Some(dir) = node_props.take_string("node.data-dir") {
        std::fs::create_dir_all(&dir).map_err(|e| {
            StartupError::Invalid(format!("node.data-dir {dir}: cannot create: {e}"))
        })?;
    }
    node_props.finish()?;

    let mut server = ServerConfig::default();
    server.take_properties(&mut config_props)?;
    let security = SecurityConfig::take_properties(&mut config_props, etc)?;
    engine.take_server_properties(&mut config_props)?;
    let log_format = config_props
        .take_with("log.format", LogFormat::parse)?
        .unwrap_or_default();
    take_single_node_keys(&mut config_props, engine.coordinator)?;
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

    let catalogs = match etc {
        Some(dir) => load_catalogs(&dir.join("catalog"))?,
        None => default_catalogs()?,
    };
    Ok(NodeConfig {
        engine,
        server,
        security,
        catalogs,
        log_format,
    })
}

/// Cluster keys a single-node config commonly carries; accepted when they describe a single
/// coordinator, refused with a clear message otherwise.
fn take_single_node_keys(props: &mut PropertyMap, coordinator: bool) -> Result<(), StartupError> {
    if !coordinator {
        return Err(StartupError::Invalid(format!(
            "{}: coordinator=false: worker nodes are not supported yet; run a single coordinator",
            props.source_name()
        )));
    }
    props.take_bool("discovery-server.enabled")?;
    props.take_string("discovery.uri");
    if props.take_bool("node-scheduler.include-coordinator")? == Some(false) {
        return Err(StartupError::Invalid(format!(
            "{}: node-scheduler.include-coordinator=false needs worker nodes, which are not supported yet",
            props.source_name()
        )));
    }
    Ok(())
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
        let config = load(None, &[]).unwrap();
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
        let config = load(Some(dir.path()), &overrides).unwrap();
        assert_eq!(config.server.http_port, 9001);
        assert_eq!(config.engine.environment, "test");
        assert_eq!(config.catalogs[0].0, "sales");
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "config.properties",
            "coordinator=true\nhttp-server.http.prot=9000\n",
        );
        let err = load(Some(dir.path()), &[]).unwrap_err().to_string();
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
        let err = load(Some(dir.path()), &[]).unwrap_err().to_string();
        assert!(
            err.contains("x.properties:2: property 'connector.name': unknown connector 'nope'"),
            "{err}"
        );

        write(
            dir.path(),
            "catalog/x.properties",
            "connector.name=tpch\ntpch.colum-naming=STANDARD\n",
        );
        let err = load(Some(dir.path()), &[]).unwrap_err().to_string();
        assert!(
            err.contains("x.properties:2: property 'tpch.colum-naming': unknown property"),
            "{err}"
        );

        let missing = tempfile::tempdir().unwrap();
        let err = load(Some(missing.path()), &[]).unwrap_err().to_string();
        assert!(err.contains("config.properties"), "{err}");

        assert!(parse_overrides(&["novalue".to_string()]).is_err());
    }
}
