//! The gRPC contracts of the fleet, generated at build time. Services convert
//! these types at their edge; they never reach a domain module.

#![allow(clippy::all, clippy::unwrap_used, clippy::panic)]

pub mod platform_core {
    pub mod v1 {
        tonic::include_proto!("marquee.platform_core.v1");
    }
}

pub mod auth {
    pub mod v1 {
        tonic::include_proto!("marquee.auth.v1");
    }
}

pub mod financial {
    pub mod v1 {
        tonic::include_proto!("marquee.financial.v1");
    }
}

pub mod integration {
    pub mod v1 {
        tonic::include_proto!("marquee.integration.v1");
    }
}

/// Encoded file descriptors of every contract, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));
