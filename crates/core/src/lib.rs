//! quire-core: Quire's pure logic. No I/O lives here, so everything is unit-testable.
//!
//! # Layout
//! - [`protocol`]: the types client and server exchange over HTTP, versioned under `/v1`.
//!
//! Later parts of PRODUCT.md (notes, ops, clocks, three-way merge) land here as modules
//! with one job each.

pub mod protocol;
