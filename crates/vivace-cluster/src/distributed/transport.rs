//! Telling a broken connection between nodes from a failure of the query itself.
//!
//! A connection can break while every node stays alive: a worker rejoins with a new address,
//! a pooled HTTP/2 connection is closed under a request, a cut network heals. The query then
//! fails with a transport error, and running it again on fresh connections succeeds.

use std::error::Error;

use datafusion::common::DataFusionError;
use tonic::Code;

/// How a transport error reads once a worker has relayed it: datafusion-distributed sends
/// errors between nodes as text, and a `tonic::Status` prints its source with `Debug`.
const RELAYED_TRANSPORT_ERROR: &str = "tonic::transport::Error(";

/// Whether `error` is a failed connection between nodes (refused, reset, closed under a
/// request) rather than a failure of the query's own work.
pub(crate) fn is_transport_failure(error: &DataFusionError) -> bool {
    let mut current: Option<&(dyn Error + 'static)> = Some(error);
    while let Some(e) = current {
        if e.is::<tonic::transport::Error>() {
            return true;
        }
        if let Some(status) = e.downcast_ref::<tonic::Status>()
            && status.code() == Code::Unavailable
        {
            return true;
        }
        current = e.source();
    }
    error.to_string().contains(RELAYED_TRANSPORT_ERROR)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::error::ArrowError;

    use super::*;

    fn relayed(text: &str) -> DataFusionError {
        DataFusionError::External(Box::new(std::io::Error::other(text.to_string())))
    }

    #[test]
    fn unavailable_status_is_a_transport_failure() {
        let status = tonic::Status::unavailable("connection refused");
        let error = DataFusionError::Context(
            "reading stage 2".into(),
            Box::new(DataFusionError::External(Box::new(status))),
        );
        assert!(is_transport_failure(&error));
        assert!(is_transport_failure(&DataFusionError::Shared(Arc::new(
            error
        ))));
    }

    #[test]
    fn a_relayed_closed_connection_is_a_transport_failure() {
        // What the coordinator received when a worker's HTTP/2 connection to another worker
        // closed under a request.
        let error = relayed(
            "code: 'The operation was cancelled', message: \"operation was canceled\", source: \
             tonic::transport::Error(Transport, hyper::Error(Canceled, \"connection closed\"))",
        );
        assert!(is_transport_failure(&error));
    }

    #[test]
    fn query_failures_are_not_transport_failures() {
        assert!(!is_transport_failure(&DataFusionError::ArrowError(
            Box::new(ArrowError::DivideByZero),
            None
        )));
        assert!(!is_transport_failure(&DataFusionError::ResourcesExhausted(
            "memory".into()
        )));
        let internal = tonic::Status::internal("DataFusionError");
        assert!(!is_transport_failure(&DataFusionError::External(Box::new(
            internal
        ))));
        assert!(!is_transport_failure(&relayed(
            "code: 'The operation was cancelled', message: \"query cancelled\""
        )));
    }
}
