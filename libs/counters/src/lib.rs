//! Fixed-window counters for rate limits and lockouts.
//!
//! `Counters::Redis` counts across every replica with one atomic script per
//! hit (INCR, and the window's expiry set by the first hit). `Counters::Memory`
//! counts in-process for the embedded mode. The connection to Redis is made
//! lazily and re-made after failures, so a service starts without Redis and
//! answers "unavailable" (never "allowed") while Redis is away.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Mutex as AsyncMutex;

mod budgets;
mod connect;
pub use budgets::Budgets;
pub use connect::{CA_CERT_FILE_VAR, open_client, open_client_with_ca};

#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    #[error("counter store unavailable: {0}")]
    Unavailable(String),
}

/// The count in the current window after a hit, and when the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub count: u64,
    pub resets_in: Duration,
}

impl Hit {
    /// Seconds to put in `Retry-After` (at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        self.resets_in.as_secs_f64().ceil().max(1.0) as u64
    }
}

#[derive(Clone)]
pub enum Counters {
    Memory(Memory),
    Redis(Arc<RedisCounters>),
}

#[derive(Clone)]
pub struct Memory {
    windows: moka::sync::Cache<String, Arc<Mutex<Window>>>,
}

struct Window {
    count: u64,
    ends: Instant,
}

/// An amount added to a key whose window is `window`, up to `limit`.
struct Addition<'a> {
    key: &'a str,
    add: u64,
    window: Duration,
    limit: u64,
}

pub struct RedisCounters {
    client: redis::Client,
    prefix: String,
    connection: AsyncMutex<Option<redis::aio::MultiplexedConnection>>,
    script: redis::Script,
}

/// Adds to each key in turn (ARGV[3i - 2] the amount, ARGV[3i - 1] its window
/// in ms, ARGV[3i] its limit), setting the window when the addition opened it,
/// and stops after the first key over its limit: returns, per key counted, its
/// count and the milliseconds left in its window.
const ADD_SCRIPT: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  local add = tonumber(ARGV[3 * i - 2])
  local window = ARGV[3 * i - 1]
  local count = redis.call('INCRBY', key, add)
  if count == add then redis.call('PEXPIRE', key, window) end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then redis.call('PEXPIRE', key, window); ttl = tonumber(window) end
  out[2 * i - 1] = count
  out[2 * i] = ttl
  if count > tonumber(ARGV[3 * i]) then break end
end
return out
";
impl Counters {
    pub fn memory() -> Self {
        Self::Memory(Memory {
            windows: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
        })
    }

    /// Counters in Redis under `prefix`; connects on first use.
    pub fn redis(url: &str, prefix: &str) -> Result<Self, CounterError> {
        let client = open_client(url).map_err(CounterError::Unavailable)?;
        Ok(Self::Redis(Arc::new(RedisCounters {
            client,
            prefix: prefix.to_owned(),
            connection: AsyncMutex::new(None),
            script: redis::Script::new(ADD_SCRIPT),
        })))
    }

    /// Counts one hit on `key` in a window of `window`.
    pub async fn hit(&self, key: &str, window: Duration) -> Result<Hit, CounterError> {
        let hits = self.hit_each(&[(key, u64::MAX)], window).await?;
        hits.into_iter().next().ok_or_else(|| CounterError::Unavailable("no count returned".to_owned()))
    }

    /// Counts one hit on each `(key, limit)` in turn (same window), in one
    /// round trip to Redis, and stops after the first key over its limit: a
    /// request refused by one budget does not use up the ones after it. The
    /// hits come back in order, the last one over its limit when it stopped.
    pub async fn hit_each(&self, keys: &[(&str, u64)], window: Duration) -> Result<Vec<Hit>, CounterError> {
        match self {
            Self::Memory(m) => {
                let mut hits = Vec::with_capacity(keys.len());
                for (key, limit) in keys {
                    let hit = m.hit(key, window);
                    hits.push(hit);
                    if hit.count > *limit {
                        break;
                    }
                }
                Ok(hits)
            }
            Self::Redis(r) => r.hit_each(keys, window).await,
        }
    }

    /// Forgets `key` (a successful login clears its failures).
    pub async fn reset(&self, key: &str) -> Result<(), CounterError> {
        match self {
            Self::Memory(m) => {
                m.windows.invalidate(key);
                Ok(())
            }
            Self::Redis(r) => r.reset(key).await,
        }
    }

    /// Whether the store answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), CounterError> {
        match self {
            Self::Memory(_) => Ok(()),
            Self::Redis(r) => {
                r.with_connection(
                    |mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await.map(|_| ()) },
                )
                .await
            }
        }
    }
}

impl Memory {
    fn hit(&self, key: &str, window: Duration) -> Hit {
        let now = Instant::now();
        let entry =
            self.windows.get_with(key.to_owned(), || Arc::new(Mutex::new(Window { count: 0, ends: now + window })));
        let mut w = entry.lock().unwrap_or_else(|p| p.into_inner());
        if now >= w.ends {
            w.count = 0;
            w.ends = now + window;
        }
        w.count += 1;
        Hit { count: w.count, resets_in: w.ends.saturating_duration_since(now) }
    }
}

impl RedisCounters {
    async fn with_connection<T, F, Fut>(&self, op: F) -> Result<T, CounterError>
    where
        F: FnOnce(redis::aio::MultiplexedConnection) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let connection = {
            let mut slot = self.connection.lock().await;
            match slot.as_ref() {
                Some(c) => c.clone(),
                None => {
                    let config = redis::AsyncConnectionConfig::new()
                        .set_connection_timeout(Some(Duration::from_millis(500)))
                        .set_response_timeout(Some(Duration::from_millis(500)));
                    let c = self
                        .client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await
                        .map_err(|e| CounterError::Unavailable(e.to_string()))?;
                    *slot = Some(c.clone());
                    c
                }
            }
        };
        match op(connection).await {
            Ok(v) => Ok(v),
            Err(e) => {
                // Reconnect next time.
                *self.connection.lock().await = None;
                Err(CounterError::Unavailable(e.to_string()))
            }
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }

    async fn hit_each(&self, keys: &[(&str, u64)], window: Duration) -> Result<Vec<Hit>, CounterError> {
        let additions: Vec<Addition<'_>> =
            keys.iter().map(|(key, limit)| Addition { key, add: 1, window, limit: *limit }).collect();
        self.add_each(&additions).await
    }

    /// One round trip: adds to each key in turn, stopping after the first over its limit.
    async fn add_each(&self, additions: &[Addition<'_>]) -> Result<Vec<Hit>, CounterError> {
        let mut invocation = self.script.prepare_invoke();
        for a in additions {
            let millis = u64::try_from(a.window.as_millis()).unwrap_or(u64::MAX).max(1);
            // Lua numbers are doubles: "no limit" is sent as a count never reached.
            invocation.key(self.key(a.key)).arg(a.add).arg(millis).arg(a.limit.min(1 << 52));
        }
        let answer: Vec<i64> =
            self.with_connection(|mut c| async move { invocation.invoke_async(&mut c).await }).await?;
        if answer.is_empty() || !answer.len().is_multiple_of(2) || answer.len() > additions.len() * 2 {
            return Err(CounterError::Unavailable(format!("{} counts for {} keys", answer.len() / 2, additions.len())));
        }
        Ok(answer
            .chunks_exact(2)
            .map(|pair| Hit {
                count: u64::try_from(pair[0]).unwrap_or(0),
                resets_in: Duration::from_millis(u64::try_from(pair[1].max(0)).unwrap_or(0)),
            })
            .collect())
    }

    async fn reset(&self, key: &str) -> Result<(), CounterError> {
        let key = format!("{}:{key}", self.prefix);
        self.with_connection(
            |mut c| async move { redis::cmd("DEL").arg(key).query_async::<i64>(&mut c).await.map(|_| ()) },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_windows_count_and_reset() {
        let counters = Counters::memory();
        for expected in 1..=3 {
            let hit =
                counters.hit("k", Duration::from_secs(60)).await.unwrap_or(Hit { count: 0, resets_in: Duration::ZERO });
            assert_eq!(hit.count, expected);
            assert!(hit.retry_after_secs() <= 60);
        }
        assert!(counters.reset("k").await.is_ok());
        let hit = counters.hit("k", Duration::from_secs(60)).await.map(|h| h.count).ok();
        assert_eq!(hit, Some(1));
    }

    /// Against a real Redis when `TEST_REDIS_URL` is set (the in-process
    /// counters otherwise): one call counts every key, each on its own, and
    /// stops at the first budget used up.
    #[tokio::test]
    async fn hit_each_counts_every_key_until_one_is_over() {
        let prefix = format!("test:{}:{}", std::process::id(), Instant::now().elapsed().as_nanos());
        let counters = match std::env::var("TEST_REDIS_URL") {
            Ok(url) if !url.is_empty() => Counters::redis(&url, &prefix).unwrap_or_else(|_| Counters::memory()),
            _ => Counters::memory(),
        };
        let window = Duration::from_secs(30);
        let counts =
            |hits: Result<Vec<Hit>, CounterError>| hits.map(|h| h.iter().map(|h| h.count).collect::<Vec<_>>()).ok();
        for round in 1..=3u64 {
            let hits = counters.hit_each(&[("a", 3), ("b", 100)], window).await;
            assert!(hits.as_ref().is_ok_and(|h| h.iter().all(|h| h.resets_in <= window && h.retry_after_secs() >= 1)));
            assert_eq!(counts(hits), Some(vec![round, round]));
        }
        // "a" is over its limit now: "b" is not counted for this call.
        assert_eq!(counts(counters.hit_each(&[("a", 3), ("b", 100)], window).await), Some(vec![4]));
        assert_eq!(counters.hit("b", window).await.map(|h| h.count).ok(), Some(4));
        assert_eq!(counts(counters.hit_each(&[("c", 1), ("a", 100)], window).await), Some(vec![1, 5]));
        for key in ["a", "b", "c"] {
            assert!(counters.reset(key).await.is_ok());
        }
    }

    #[tokio::test]
    async fn unreachable_redis_is_unavailable_not_allowed() {
        let Ok(counters) = Counters::redis("redis://127.0.0.1:1", "t") else {
            return;
        };
        assert!(counters.hit("k", Duration::from_secs(1)).await.is_err());
        assert!(counters.ping().await.is_err());
    }
}
