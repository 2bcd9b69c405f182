pub mod access;
pub mod api_keys;
pub mod audit;
pub mod companies;
pub mod keys;
pub mod sessions;
pub mod users;
