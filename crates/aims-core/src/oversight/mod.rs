//! Human oversight at runtime: approval requests, incidents and anomaly monitoring.
