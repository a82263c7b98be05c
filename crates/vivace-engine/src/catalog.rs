//! The mounted catalogs: each connector's catalog, with an `information_schema` added, exposed
//! to DataFusion as one [`CatalogProviderList`].

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::catalog::{CatalogProvider, CatalogProviderList, SchemaProvider};
use datafusion::common::{Result as DfResult, not_impl_err};
use parking_lot::RwLock;
use vivace_spi::Connector;

use crate::information_schema::{INFORMATION_SCHEMA, InformationSchema};

/// A mounted catalog.
#[derive(Debug, Clone)]
pub(crate) struct MountedCatalog {
    /// The catalog's name.
    pub name: String,
    /// The connector's name (`connector.name`).
    pub connector_name: String,
    /// Schemas and tables, `information_schema` included.
    pub provider: Arc<dyn CatalogProvider>,
}

/// Replaces `prefix` (a path without its leading `/`, ending in `/`) in `text` wherever it
/// starts a path: at the start of the text, after a `/` that itself starts the path, or after
/// a character that cannot be part of a path name.
fn replace_path_prefix(text: &str, prefix: &str, replacement: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = &rest[..at];
        let mut kept = before;
        let starts_path = match before.chars().last() {
            None => true,
            Some('/') => {
                let head = &before[..before.len() - 1];
                // `file:///srv/...` and `/srv/...`: the slash is the path's own.
                kept = head;
                !head.ends_with(|c: char| c.is_alphanumeric() || "._-~".contains(c))
            }
            Some(c) => !(c.is_alphanumeric() || "._-~".contains(c)),
        };
        if starts_path {
            out.push_str(kept);
            out.push_str(replacement);
        } else {
            out.push_str(before);
            out.push_str(prefix);
        }
        rest = &rest[at + prefix.len()..];
    }
    out.push_str(rest);
    out
}

/// The catalogs of this node, by name.
#[derive(Debug, Default)]
pub(crate) struct CatalogManager {
    catalogs: RwLock<BTreeMap<String, MountedCatalog>>,
    /// Connectors' private locations and the catalog name shown instead.
    private_locations: RwLock<Vec<(String, String)>>,
}

impl CatalogManager {
    /// An empty manager.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Mounts a connector's catalog under `name`, replacing any catalog of that name.
    pub(crate) fn mount(&self, name: &str, connector: &dyn Connector) {
        self.mount_provider(name, connector.connector_name(), connector.catalog());
        let mut hidden = self.private_locations.write();
        for location in connector.private_locations() {
            let location = location.trim_end_matches('/').to_string();
            if !location.is_empty() {
                hidden.push((location, format!("{name}:")));
            }
        }
        // Longest first, so a location inside another is replaced by its own catalog.
        hidden.sort_by_key(|(location, _)| std::cmp::Reverse(location.len()));
    }

    /// `text` (a plan shown to a client) with the connectors' private locations replaced by
    /// their catalog's name: `/srv/lake/a/b.parquet` reads `lake:/a/b.parquet`. Plans print
    /// paths with and without their leading `/`; both are replaced.
    pub(crate) fn hide_private_locations(&self, text: &str) -> String {
        let mut shown = text.to_string();
        for (location, catalog) in self.private_locations.read().iter() {
            let relative = location.trim_start_matches('/');
            shown = replace_path_prefix(&shown, &format!("{relative}/"), &format!("{catalog}/"));
        }
        shown
    }

    /// Mounts a catalog provider directly (used for the `system` catalog).
    pub(crate) fn mount_provider(
        &self,
        name: &str,
        connector_name: &str,
        provider: Arc<dyn CatalogProvider>,
    ) {
        let with_info = Arc::new(CatalogWithInformationSchema {
            name: name.to_string(),
            inner: provider,
        });
        self.catalogs.write().insert(
            name.to_string(),
            MountedCatalog {
                name: name.to_string(),
                connector_name: connector_name.to_string(),
                provider: with_info,
            },
        );
    }

    /// A mounted catalog.
    pub(crate) fn get(&self, name: &str) -> Option<MountedCatalog> {
        self.catalogs.read().get(name).cloned()
    }

    /// All mounted catalogs, by name.
    pub(crate) fn list(&self) -> Vec<MountedCatalog> {
        self.catalogs.read().values().cloned().collect()
    }
}

/// The catalog list DataFusion plans against.
#[derive(Debug)]
pub(crate) struct CatalogList {
    manager: Arc<CatalogManager>,
}

impl CatalogList {
    /// A view of the manager's catalogs.
    pub(crate) fn new(manager: Arc<CatalogManager>) -> Self {
        CatalogList { manager }
    }
}

impl CatalogProviderList for CatalogList {
    fn register_catalog(
        &self,
        name: String,
        catalog: Arc<dyn CatalogProvider>,
    ) -> Option<Arc<dyn CatalogProvider>> {
        let previous = self.manager.get(&name).map(|c| c.provider);
        self.manager.mount_provider(&name, "datafusion", catalog);
        previous
    }

    fn catalog_names(&self) -> Vec<String> {
        self.manager.list().into_iter().map(|c| c.name).collect()
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        self.manager.get(name).map(|c| c.provider)
    }
}

/// A connector's catalog with `information_schema` added.
#[derive(Debug)]
struct CatalogWithInformationSchema {
    name: String,
    inner: Arc<dyn CatalogProvider>,
}

impl CatalogProvider for CatalogWithInformationSchema {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.inner.schema_names();
        if !names.iter().any(|n| n == INFORMATION_SCHEMA) {
            names.push(INFORMATION_SCHEMA.to_string());
        }
        names.sort();
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if name == INFORMATION_SCHEMA {
            return Some(Arc::new(InformationSchema::new(
                &self.name,
                Arc::clone(&self.inner),
            )));
        }
        self.inner.schema(name)
    }

    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> DfResult<Option<Arc<dyn SchemaProvider>>> {
        if name == INFORMATION_SCHEMA {
            return not_impl_err!("Schema '{INFORMATION_SCHEMA}' is read-only");
        }
        self.inner.register_schema(name, schema)
    }

    fn deregister_schema(
        &self,
        name: &str,
        cascade: bool,
    ) -> DfResult<Option<Arc<dyn SchemaProvider>>> {
        if name == INFORMATION_SCHEMA {
            return not_impl_err!("Schema '{INFORMATION_SCHEMA}' is read-only");
        }
        self.inner.deregister_schema(name, cascade)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_locations_are_shown_as_their_catalog() {
        let hide = |text: &str| replace_path_prefix(text, "srv/lake/", "lake:/");
        assert_eq!(hide("[[srv/lake/a/b.parquet]]"), "[[lake:/a/b.parquet]]");
        assert_eq!(hide("file /srv/lake/a.csv"), "file lake:/a.csv");
        assert_eq!(hide("srv/lake/a"), "lake:/a");
        assert!(!hide("file:///srv/lake/a").contains("srv/lake"));
        // Not where the same letters are inside another path or a name.
        assert_eq!(hide("/other/srv/lake/a"), "/other/srv/lake/a");
        assert_eq!(hide("mysrv/lake/a"), "mysrv/lake/a");
    }
}
