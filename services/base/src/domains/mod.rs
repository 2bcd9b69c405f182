pub mod activity;
pub mod artists;
pub mod calendar;
pub mod dashboard;
pub mod events;
pub mod vendors;
pub mod venues;
pub mod workspace;
