//! Simulators of the provider APIs.
