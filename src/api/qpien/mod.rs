//! Qpien GraphQL provider.
