//! The shipper-account vault: merchants' carrier accounts and credentials, encrypted at rest.

pub mod vault;
