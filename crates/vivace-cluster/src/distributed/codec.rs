//! Encodes Vivace's own plan nodes for the trip to a worker. Built-in DataFusion nodes are
//! encoded by datafusion-proto; this codec handles what it cannot.

use std::sync::Arc;

use datafusion::common::{DataFusionError, Result as DfResult, not_impl_err};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use serde::{Deserialize, Serialize};
use vivace_connectors::tpch::{TpchScanExec, TpchScanSpec};

/// One encoded node.
#[derive(Debug, Serialize, Deserialize)]
enum EncodedNode {
    TpchScan(TpchScanSpec),
}

/// The codec for Vivace's plan nodes, installed on the coordinator and every worker.
#[derive(Debug, Default, Clone, Copy)]
pub struct VivaceCodec;

impl PhysicalExtensionCodec for VivaceCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let node: EncodedNode = serde_json::from_slice(buf)
            .map_err(|e| DataFusionError::Internal(format!("undecodable Vivace plan node: {e}")))?;
        match node {
            EncodedNode::TpchScan(spec) => {
                if !inputs.is_empty() {
                    return not_impl_err!("a tpch scan has no inputs");
                }
                Ok(Arc::new(TpchScanExec::try_new(spec)?))
            }
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<()> {
        let Some(scan) = node.downcast_ref::<TpchScanExec>() else {
            return not_impl_err!("plan node {} cannot be sent to a worker", node.name());
        };
        serde_json::to_writer(buf, &EncodedNode::TpchScan(scan.spec().clone()))
            .map_err(|e| DataFusionError::Internal(format!("cannot encode a tpch scan: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion_proto::physical_plan::DefaultPhysicalProtoConverter;

    #[test]
    fn tpch_scan_round_trips() {
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
        VivaceCodec
            .try_encode(plan, &mut buf, &DefaultPhysicalProtoConverter {})
            .unwrap();
        let ctx = TaskContext::default();
        let decoded = VivaceCodec
            .try_decode(&buf, &[], &ctx, &DefaultPhysicalProtoConverter {})
            .unwrap();
        let scan = decoded.downcast_ref::<TpchScanExec>().unwrap();
        assert_eq!(scan.spec(), &spec);
        assert_eq!(decoded.schema().fields().len(), 2);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let ctx = TaskContext::default();
        let err = VivaceCodec
            .try_decode(b"{not json", &[], &ctx, &DefaultPhysicalProtoConverter {})
            .unwrap_err();
        assert!(err.to_string().contains("undecodable"), "{err}");
    }
}
