//! See ../security.rs.
