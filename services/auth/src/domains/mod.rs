pub mod audit;
pub mod keys;
pub mod sessions;
pub mod users;
