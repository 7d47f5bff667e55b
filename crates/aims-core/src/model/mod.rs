//! The AIMS register: typed models of an ISO/IEC 42001 AI management system.
