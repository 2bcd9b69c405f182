//! Password hashes: argon2id on a few hashing threads with a bounded
//! queue, so load beyond what the cores can hash is turned away at once
//! instead of waiting ever longer.

use std::alloc::System;
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;

use super::CryptoError;

/// Argon2id cost parameters (OWASP: 19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

/// The outcome of checking a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, and here is a hash at today's parameters to store instead.
    YesRehashed(String),
}

/// Hashes and verifies passwords without starving the async runtime.
#[derive(Clone)]
pub struct Passwords {
    cost: HashCost,
    pool: Pool,
    /// A hash of nothing anyone knows: unknown accounts are checked against it,
    /// so they cost the same as real ones.
    decoy: Arc<str>,
}

impl Passwords {
    /// At most `concurrency` hashes at once, and at most `queue` callers waiting.
    pub async fn new(cost: HashCost, concurrency: usize, queue: usize) -> Result<Self, CryptoError> {
        let mut decoy_password = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut decoy_password);
        let pool = Pool::new(concurrency, queue);
        let decoy = pool.run(move || hash_with(cost, &decoy_password)).await??;
        Ok(Self { cost, pool, decoy: decoy.into() })
    }

    /// A place in the hashing pool, or `Busy` at once when it is full. Sign-in
    /// takes one before it counts an attempt, so load that is turned away
    /// never locks anyone out.
    pub fn admit(&self) -> Result<Ticket, CryptoError> {
        self.pool.admit()
    }

    pub async fn hash(&self, password: &str) -> Result<String, CryptoError> {
        let cost = self.cost;
        let password = password.to_owned();
        self.pool.run(move || hash_with(cost, password.as_bytes())).await?
    }

    /// Checks `password` against `stored`, or against the decoy when there is no account.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<Verified, CryptoError> {
        self.verify_admitted(self.admit()?, password, stored).await
    }

    pub async fn verify_admitted(
        &self,
        ticket: Ticket,
        password: &str,
        stored: Option<&str>,
    ) -> Result<Verified, CryptoError> {
        let cost = self.cost;
        let real = stored.is_some();
        let stored = stored.map_or_else(|| self.decoy.to_string(), str::to_owned);
        let password = password.to_owned();
        self.pool
            .run_admitted(ticket, move || {
                let Ok(parsed) = PasswordHash::new(&stored) else {
                    return Ok(Verified::No);
                };
                if !matches(password.as_bytes(), &parsed) || !real {
                    return Ok(Verified::No);
                }
                let current = Params::try_from(&parsed).ok();
                let up_to_date = current.is_some_and(|p| {
                    p.m_cost() == cost.memory_kib && p.t_cost() == cost.iterations && p.p_cost() == cost.parallelism
                });
                if up_to_date {
                    Ok(Verified::Yes)
                } else {
                    hash_with(cost, password.as_bytes()).map(Verified::YesRehashed)
                }
            })
            .await?
    }
}

fn argon2(cost: HashCost) -> Result<Argon2<'static>, CryptoError> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|e| CryptoError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_error(e: impl std::fmt::Display) -> CryptoError {
    CryptoError::Hash(e.to_string())
}

/// A new PHC string for `password` at `cost`, with a fresh 16-byte salt.
fn hash_with(cost: HashCost, password: &[u8]) -> Result<String, CryptoError> {
    let argon2 = argon2(cost)?;
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_scratch(argon2.params().block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password, &salt, &mut out, blocks)
    })
    .map_err(hash_error)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(hash_error)?,
        salt: Some(Salt::new(&salt).map_err(hash_error)?),
        hash: Some(Output::new(&out).map_err(hash_error)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` hashes to `stored` with the stored algorithm, version,
/// parameters and salt; compared in constant time (`Output`'s equality).
fn matches(password: &[u8], stored: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = stored.version.map_or(Ok(Version::default()), Version::try_from) else {
        return false;
    };
    let Ok(params) = Params::try_from(stored) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let hashed = with_scratch(argon2.params().block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password, salt.as_ref(), &mut out, blocks)
    });
    hashed.is_ok() && Output::new(&out).is_ok_and(|computed| &computed == expected)
}

/// Blocks (1 KiB each) a hashing thread's working memory is sized for at
/// least: just over glibc's largest dynamic mmap threshold (32 MiB on 64-bit).
/// When a smaller mmapped chunk is freed, glibc raises its threshold to that
/// chunk's size, and from then on every thread's allocations below it stay in
/// the thread's arena after they are freed: freeing 19 MiB hashes that way kept
/// about 250 MB in auth after a load. A larger chunk leaves the threshold
/// alone, and its pages past the hash's size are never touched, so never resident.
/// It comes from the system allocator (glibc), not the process's (mimalloc):
/// glibc unmaps a chunk this large the moment it is freed, where mimalloc keeps
/// freed pages until later work purges them, and an idle auth kept 40 MB.
const SCRATCH_MIN_BLOCKS: usize = 32 * 1024 + 1;

/// A hashing thread gives its working memory back after this long without work.
const SCRATCH_IDLE: Duration = Duration::from_secs(1);

type Scratch = allocator_api2::vec::Vec<Block, System>;

thread_local! {
    /// The hashing thread's argon2 working memory, kept from one hash to the
    /// next so a busy thread neither allocates nor faults in 19 MiB per hash.
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::new_in(System)) };
}

fn with_scratch<T>(blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    SCRATCH.with_borrow_mut(|scratch| {
        if scratch.len() < blocks {
            let mut fresh = Scratch::with_capacity_in(blocks.max(SCRATCH_MIN_BLOCKS), System);
            fresh.resize(blocks, Block::default());
            *scratch = fresh;
        }
        work(&mut scratch[..blocks])
    })
}

fn release_scratch() {
    SCRATCH.with_borrow_mut(|scratch| *scratch = Scratch::new_in(System));
}

type Job = Box<dyn FnOnce() + Send>;

/// The threads that hash, and how many callers they have taken in (hashing
/// or waiting for a thread). A few long-lived threads rather than the
/// runtime's blocking pool, each keeping its working memory while busy and
/// giving it back when idle, so the number of threads bounds what hashing holds.
#[derive(Clone)]
struct Pool {
    jobs: crossbeam_channel::Sender<Job>,
    admitted: Arc<AtomicUsize>,
    /// Threads plus waiting places.
    capacity: usize,
}

/// A place taken in the hashing pool; given back however the work ends.
pub struct Ticket(Arc<AtomicUsize>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pool {
    fn new(threads: usize, queue: usize) -> Self {
        let threads = threads.max(1);
        // Every thread waits on the queue itself (a shared queue, not a
        // shared lock around one), so each one notices its own idleness.
        let (jobs, receiver) = crossbeam_channel::unbounded::<Job>();
        for i in 0..threads {
            let receiver = receiver.clone();
            let worker = move || {
                loop {
                    let job = match receiver.recv_timeout(SCRATCH_IDLE) {
                        Ok(job) => job,
                        Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                            release_scratch();
                            continue;
                        }
                        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                    };
                    // A failing job must not take the thread with it.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            };
            if let Err(e) = std::thread::Builder::new().name(format!("argon2-{i}")).spawn(worker) {
                tracing::error!(error = %e, "cannot start a hashing thread");
            }
        }
        Self { jobs, admitted: Arc::new(AtomicUsize::new(0)), capacity: threads + queue }
    }

    fn admit(&self) -> Result<Ticket, CryptoError> {
        if self.admitted.fetch_add(1, Ordering::Relaxed) >= self.capacity {
            self.admitted.fetch_sub(1, Ordering::Relaxed);
            return Err(CryptoError::Busy);
        }
        Ok(Ticket(self.admitted.clone()))
    }

    /// Runs CPU-heavy work on a hashing thread, in the current span.
    async fn run_admitted<T: Send + 'static>(
        &self,
        ticket: Ticket,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, CryptoError> {
        let (done, answer) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let _ = done.send(span.in_scope(work));
        });
        self.jobs.send(job).map_err(|_| CryptoError::Closed)?;
        let out = answer.await.map_err(|_| CryptoError::Closed);
        drop(ticket);
        out
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, CryptoError> {
        let ticket = self.admit()?;
        self.run_admitted(ticket, work).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const CHEAP: HashCost = HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 };

    #[tokio::test]
    async fn beyond_the_queue_work_is_turned_away_at_once() {
        let pool = Pool::new(1, 1);
        // The one thread is held busy until told to go on.
        let (go, hold) = std::sync::mpsc::channel::<()>();
        let busy = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(move || hold.recv().is_ok()).await.ok() }
        });
        let queued = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| 42).await.ok() }
        });
        while pool.admitted.load(Ordering::Relaxed) < 2 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(pool.run(|| 0).await, Err(CryptoError::Busy)), "one thread and one place, both taken");
        assert!(go.send(()).is_ok());
        assert_eq!(busy.await.ok().flatten(), Some(true));
        assert_eq!(queued.await.ok().flatten(), Some(42), "the queued one runs once the thread frees");
        assert_eq!(pool.admitted.load(Ordering::Relaxed), 0, "every place is given back");
        assert_eq!(pool.run(|| 7).await.ok(), Some(7));
    }

    #[tokio::test]
    async fn passwords_verify_and_upgrade_old_parameters() {
        let old = Passwords::new(CHEAP, 2, 8).await.ok();
        let new = Passwords::new(HashCost { memory_kib: 2048, ..CHEAP }, 2, 8).await.ok();
        let (Some(old), Some(new)) = (old, new) else { unreachable!("hashers build") };
        let stored = old.hash("correct horse").await.unwrap_or_default();
        assert!(stored.starts_with("$argon2id$"));
        assert_eq!(old.verify("correct horse", Some(&stored)).await.ok(), Some(Verified::Yes));
        assert_eq!(old.verify("wrong horse", Some(&stored)).await.ok(), Some(Verified::No));
        assert_eq!(old.verify("anything", None).await.ok(), Some(Verified::No));
        match new.verify("correct horse", Some(&stored)).await {
            Ok(Verified::YesRehashed(upgraded)) => assert!(upgraded.contains("m=2048")),
            other => unreachable!("expected a rehash, got {other:?}"),
        }
    }

    /// Stored hashes are interchangeable with the library's own hasher and
    /// verifier: accounts made before the working memory was kept still sign in.
    #[test]
    fn hashes_match_the_librarys_own_in_both_directions() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let Ok(library) = argon2(CHEAP) else { unreachable!("parameters are valid") };
        let theirs = library.hash_password(b"correct horse").map(|h| h.to_string()).unwrap_or_default();
        let parsed = PasswordHash::new(&theirs);
        assert!(parsed.as_ref().is_ok_and(|p| matches(b"correct horse", p)), "{theirs}");
        assert!(parsed.as_ref().is_ok_and(|p| !matches(b"wrong horse", p)));

        let ours = hash_with(CHEAP, b"correct horse").unwrap_or_default();
        let parsed = PasswordHash::new(&ours);
        assert!(parsed.as_ref().is_ok_and(|p| library.verify_password(b"correct horse", p).is_ok()), "{ours}");
        assert!(parsed.as_ref().is_ok_and(|p| library.verify_password(b"wrong horse", p).is_err()));
        assert_ne!(ours, hash_with(CHEAP, b"correct horse").unwrap_or_default(), "a fresh salt each time");
    }

    #[test]
    fn a_hashing_thread_keeps_its_memory_while_busy_and_gives_it_back() {
        let blocks = || SCRATCH.with_borrow(|s| (s.len(), s.capacity()));
        assert!(hash_with(CHEAP, b"one").is_ok());
        let (len, capacity) = blocks();
        assert_eq!(len, 1024);
        assert!(capacity >= SCRATCH_MIN_BLOCKS);
        let before = SCRATCH.with_borrow(|s| s.as_ptr());
        assert!(hash_with(CHEAP, b"two").is_ok());
        assert_eq!(SCRATCH.with_borrow(|s| s.as_ptr()), before, "the same memory, not a new allocation");
        release_scratch();
        assert_eq!(blocks(), (0, 0));
    }

    /// Each hashing thread, not just the one that happens to wait first, gives
    /// its working memory back once it has had no work for a while.
    #[tokio::test]
    async fn every_idle_hashing_thread_gives_its_memory_back() {
        let pool = Pool::new(2, 2);
        // A barrier of two inside the jobs puts them on both threads at once.
        let on_both_threads = |work: fn() -> usize| {
            let barrier = Arc::new(std::sync::Barrier::new(2));
            let job = |barrier: Arc<std::sync::Barrier>| {
                move || {
                    barrier.wait();
                    work()
                }
            };
            let (a, b) = (pool.run(job(barrier.clone())), pool.run(job(barrier)));
            async move {
                let (a, b) = tokio::join!(a, b);
                (a.ok(), b.ok())
            }
        };
        let held = || {
            let _ = hash_with(CHEAP, b"load");
            SCRATCH.with_borrow(Scratch::capacity)
        };
        let (a, b) = on_both_threads(held).await;
        assert!(a.is_some_and(|c| c >= SCRATCH_MIN_BLOCKS) && b.is_some_and(|c| c >= SCRATCH_MIN_BLOCKS));
        tokio::time::sleep(SCRATCH_IDLE * 2).await;
        let (a, b) = on_both_threads(|| SCRATCH.with_borrow(Scratch::capacity)).await;
        assert_eq!((a, b), (Some(0), Some(0)), "both threads gave their memory back");
    }
}
