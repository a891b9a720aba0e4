"""Post-market monitoring: results read from exports, tied to deployments, judged against the plan's bands."""

from .evaluate import (DRIFT_SHARE, Alert, DeploymentMonitoring, Monitoring, ModelMonitoring, band_text, cadence_days,
                       monitor)
from .feedback import TrackerExport, TrackerFeedback, read_feedback
from .read import (DAY, VALUE, ColumnDrift, MonitoringPoint, MonitoringResults, PointRow, Snapshot, mlflow_points,
                   read_monitoring)

__all__ = ["DAY", "DRIFT_SHARE", "VALUE", "Alert", "ColumnDrift", "DeploymentMonitoring", "Monitoring",
           "ModelMonitoring", "MonitoringPoint", "MonitoringResults", "PointRow", "Snapshot", "TrackerExport",
           "TrackerFeedback", "band_text", "cadence_days", "mlflow_points", "monitor", "read_feedback",
           "read_monitoring"]
