//! Validated PII and secret detection and masking.
