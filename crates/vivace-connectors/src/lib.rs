//! The built-in connectors: `tpch`, `memory` and `filesystem` (the `system` catalog is
//! mounted by the engine). Each implements the SPI of `vivace-spi`; this crate must not depend
//! on any other crate of ours but `vivace-spi` and `vivace-common`: connectors know nothing
//! about sessions, HTTP, the engine or the cluster.

pub mod filesystem;
pub mod memory;
pub mod tpch;

use std::sync::Arc;

use vivace_spi::ConnectorFactory;

/// The factories of the built-in connectors.
pub fn builtin_factories() -> Vec<Arc<dyn ConnectorFactory>> {
    vec![
        Arc::new(tpch::TpchConnectorFactory),
        Arc::new(memory::MemoryConnectorFactory),
        Arc::new(filesystem::FilesystemConnectorFactory),
    ]
}
