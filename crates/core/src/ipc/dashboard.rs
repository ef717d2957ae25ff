//! The dashboard's types.
