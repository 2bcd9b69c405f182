//! Tests of the fleet as a whole live in `tests/it`.
