//! When a failed delivery is tried again: quickly at first for a blip, then
//! further apart, the last try about three days after the first.

use std::time::Duration;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;

/// The wait before each retry: the n-th entry follows the n-th failed attempt.
pub const RETRY_DELAYS: [Duration; 12] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(2 * MINUTE),
    Duration::from_secs(10 * MINUTE),
    Duration::from_secs(30 * MINUTE),
    Duration::from_secs(HOUR),
    Duration::from_secs(2 * HOUR),
    Duration::from_secs(4 * HOUR),
    Duration::from_secs(8 * HOUR),
    Duration::from_secs(12 * HOUR),
    Duration::from_secs(18 * HOUR),
    Duration::from_secs(24 * HOUR),
];

/// The wait after `attempts` failed attempts; none when they are all spent.
pub fn next_delay(attempts: u32) -> Option<Duration> {
    usize::try_from(attempts).ok().and_then(|n| n.checked_sub(1)).and_then(|n| RETRY_DELAYS.get(n).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_try_comes_about_three_days_after_the_first() {
        let total: Duration = RETRY_DELAYS.iter().sum();
        assert!(total > Duration::from_secs(66 * HOUR) && total <= Duration::from_secs(72 * HOUR), "{total:?}");
        assert_eq!(next_delay(1), Some(Duration::from_secs(5)));
        assert_eq!(next_delay(12), Some(Duration::from_secs(24 * HOUR)));
        assert_eq!(next_delay(13), None);
        assert_eq!(next_delay(0), None);
    }
}
