pub mod activity;
pub mod artists;
pub mod events;
pub mod meta;
pub mod vendors;
pub mod venues;
