//! Encodes connectors' own plan nodes for the trip to a worker. Built-in DataFusion nodes are
//! encoded by datafusion-proto; a connector's node is written as its connector's name (one
//! length byte, then the name) followed by the bytes the connector's own codec wrote.

use std::sync::Arc;

use datafusion::common::{DataFusionError, Result as DfResult, not_impl_err};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use super::connectors::ConnectorPlans;

/// The codec for connectors' plan nodes, installed on the coordinator and every worker.
#[derive(Debug, Clone)]
pub struct VivaceCodec {
    connectors: ConnectorPlans,
}

impl VivaceCodec {
    /// A codec for the plan nodes of `connectors`.
    pub fn new(connectors: ConnectorPlans) -> Self {
        VivaceCodec { connectors }
    }
}

impl PhysicalExtensionCodec for VivaceCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let undecodable = |why: &str| {
            DataFusionError::Internal(format!("undecodable connector plan node: {why}"))
        };
        let (&name_length, rest) = buf.split_first().ok_or_else(|| undecodable("empty"))?;
        let name_length = usize::from(name_length);
        if rest.len() < name_length {
            return Err(undecodable("truncated"));
        }
        let (name, payload) = rest.split_at(name_length);
        let name = std::str::from_utf8(name).map_err(|_| undecodable("connector name"))?;
        let connector = self
            .connectors
            .named(name)
            .ok_or_else(|| undecodable(&format!("no connector {name:?} on this node")))?;
        connector.decode(payload, inputs)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<()> {
        for connector in self.connectors.iter() {
            let Some(encoded) = connector.encode(&node) else {
                continue;
            };
            let name = connector.name();
            let Ok(name_length) = u8::try_from(name.len()) else {
                return not_impl_err!("connector name {name} is too long to tag a plan node");
            };
            buf.push(name_length);
            buf.extend_from_slice(name.as_bytes());
            buf.extend_from_slice(&encoded?);
            return Ok(());
        }
        not_impl_err!("plan node {} cannot be sent to a worker", node.name())
    }
}

#[cfg(test)]
mod tests {
    use datafusion_proto::physical_plan::DefaultPhysicalProtoConverter;
    use vivace_connectors::tpch::{TpchDistribution, TpchScanExec, TpchScanSpec};

    use super::*;

    fn codec() -> VivaceCodec {
        VivaceCodec::new(ConnectorPlans::new(vec![Arc::new(TpchDistribution)]))
    }

    #[test]
    fn connector_nodes_round_trip() {
        let spec = TpchScanSpec {
            table: "lineitem".to_string(),
            scale: 0.01,
            standard_naming: false,
            total_parts: 4,
            first_part: 3,
            part_count: 2,
            projection: Some(vec![0, 4]),
            limit: Some(10),
            spread: false,
        };
        let plan: Arc<dyn ExecutionPlan> = Arc::new(TpchScanExec::try_new(spec.clone()).unwrap());
        let mut buf = Vec::new();
        codec()
            .try_encode(plan, &mut buf, &DefaultPhysicalProtoConverter {})
            .unwrap();
        let ctx = TaskContext::default();
        let decoded = codec()
            .try_decode(&buf, &[], &ctx, &DefaultPhysicalProtoConverter {})
            .unwrap();
        assert_eq!(
            decoded.downcast_ref::<TpchScanExec>().unwrap().spec(),
            &spec
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let ctx = TaskContext::default();
        for garbage in [
            &b""[..],
            b"\x09tpch",
            b"\x04tpch{not json",
            b"\x03abc{}",
            b"\x02\xff\xfe",
        ] {
            let err = codec()
                .try_decode(garbage, &[], &ctx, &DefaultPhysicalProtoConverter {})
                .unwrap_err();
            assert!(err.to_string().contains("undecodable"), "{err}");
        }
    }
}
