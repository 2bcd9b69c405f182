pub mod activity;
pub mod artists;
pub mod meta;
