//! Group commit: the writes waiting at one moment are committed together.
//!
//! Each hot write path sends its job to a queue; one task takes everything
//! that is waiting (up to a limit), hands it to the path's own batch function
//! (which checks every job on its own and writes the accepted ones in one
//! transaction) and answers every sender with its own result. A lone job is
//! taken at once: nothing waits for company, the batches form by themselves
//! while the previous one is committing.
//!
//! Under load, a path may *regather*: the writers a batch has just answered
//! come back with their next write a moment later, just after the next batch
//! was taken without them. With one batch in flight, batches then alternate
//! between two halves of the writers, and each commit (on PostgreSQL, one
//! WAL flush) carries half of what it could. A regathering path gives the
//! writers the last batch answered [`Batching::regather`] from their answer
//! to join the next one; a writer that comes after a quiet moment is taken
//! at once.
//!
//! Metrics per path: `group_commit_batches_total` and
//! `group_commit_jobs_total` (their ratio is the mean batch size),
//! `group_commit_batch_seconds` (from a batch's taking to its answers) and
//! `group_commit_commit_seconds` (its commit alone, [`commit_batch`]: on
//! PostgreSQL the WAL flush). With the wall clock they show where a path's
//! time goes: gathering writers, statements, or the flush.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

/// How one path's jobs are batched.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// Jobs in one batch at most.
    pub max: usize,
    /// Batches in flight at once. SQLite's single writer takes them in turn;
    /// on PostgreSQL, where the database's CPU is the limit, more lanes
    /// split the same writers into smaller batches that each pay a whole
    /// transaction (measured on the refresh rotations: four lanes made 13 %
    /// fewer refreshes a second than one, two lanes 9 % fewer).
    pub lanes: usize,
    /// How long after the last batch answered its writers the next batch
    /// may wait for them to come back; zero never waits. A job that comes
    /// later than that is taken at once.
    pub regather: Duration,
}

impl Batching {
    /// Up to `max` jobs a batch, `lanes` batches in flight, no regathering.
    pub fn new(max: usize, lanes: usize) -> Self {
        Self { max, lanes, regather: Duration::ZERO }
    }

    pub fn regathering(self, regather: Duration) -> Self {
        Self { regather, ..self }
    }

    /// For the hot write paths: one batch in flight, regathering where a
    /// commit waits for a flush. Writes that crowd onto the same rows
    /// (accounts, ticket types) gain nothing from a second batch, which
    /// would only wait on the first one's row locks; writes to different
    /// rows gain nothing either where the database's CPU is the limit
    /// ([`Batching::lanes`]).
    pub fn serial(max: usize, db: &sea_orm::DatabaseConnection) -> Self {
        Self::new(max, 1).regathering(regather_for(db))
    }
}

/// A queue in front of one batch function; cheap to clone.
pub struct GroupCommit<J, R> {
    queue: mpsc::Sender<(J, oneshot::Sender<R>)>,
}

impl<J, R> Clone for GroupCommit<J, R> {
    fn clone(&self) -> Self {
        Self { queue: self.queue.clone() }
    }
}

impl<J: Send + 'static, R: Send + 'static> GroupCommit<J, R> {
    /// Starts the task that runs `batch` on the waiting jobs as `shape` says.
    /// `batch` answers one result per job, in the jobs' order. The task ends
    /// when the last handle is dropped. `path` names it in the metrics.
    pub fn start<F, Fut>(path: &'static str, shape: Batching, batch: F) -> Self
    where
        F: Fn(Vec<J>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let max = shape.max.max(1);
        let batch = Arc::new(batch);
        let lanes = Arc::new(tokio::sync::Semaphore::new(shape.lanes.max(1)));
        // How many writers the last batch to finish answered, and when.
        let answered = Arc::new(std::sync::Mutex::new((0usize, tokio::time::Instant::now())));
        let (queue, mut waiting) = mpsc::channel::<(J, oneshot::Sender<R>)>(max * 8);
        tokio::spawn(async move {
            let mut taken = Vec::with_capacity(max);
            // A lane first, then the jobs: while every lane is busy, the
            // jobs that come wait together for the next batch.
            while let Ok(lane) = lanes.clone().acquire_owned().await {
                let queued = waiting.len();
                if waiting.recv_many(&mut taken, max).await == 0 {
                    break;
                }
                if !shape.regather.is_zero() {
                    // The writers waiting already, and those just answered,
                    // who are expected back within the regather window.
                    let (returning, at) = *answered.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let expected = (queued + returning).min(max);
                    let until = at + shape.regather;
                    while taken.len() < expected && tokio::time::Instant::now() < until {
                        let missing = expected - taken.len();
                        let more = waiting.recv_many(&mut taken, missing);
                        if !matches!(tokio::time::timeout_at(until, more).await, Ok(n) if n > 0) {
                            break;
                        }
                    }
                }
                // A writer that gave up (its request timed out or was
                // dropped) is told nothing, so its write is not made either.
                let (jobs, answers): (Vec<J>, Vec<oneshot::Sender<R>>) =
                    taken.drain(..).filter(|(_, answer)| !answer.is_closed()).unzip();
                if jobs.is_empty() {
                    continue;
                }
                metrics::counter!("group_commit_batches_total", "path" => path).increment(1);
                metrics::counter!("group_commit_jobs_total", "path" => path).increment(jobs.len() as u64);
                let (batch, answered) = (batch.clone(), answered.clone());
                tokio::spawn(async move {
                    let started = tokio::time::Instant::now();
                    // Its own task, so a panic in one batch drops that
                    // batch's answers (their senders see it) and the queue
                    // goes on.
                    match tokio::spawn(async move { batch(jobs).await }).await {
                        Ok(results) => {
                            metrics::histogram!("group_commit_batch_seconds", "path" => path)
                                .record(started.elapsed().as_secs_f64());
                            debug_assert_eq!(results.len(), answers.len(), "one result per job");
                            *answered.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                                (answers.len(), tokio::time::Instant::now());
                            for (answer, result) in answers.into_iter().zip(results) {
                                let _ = answer.send(result);
                            }
                        }
                        Err(failed) => {
                            tracing::error!(error = %failed, "a group commit failed; its writers are refused")
                        }
                    }
                    drop(lane);
                });
            }
        });
        Self { queue }
    }

    /// Sends a job and waits for its answer; `None` when the batch it was in
    /// broke off (a panic: whether it was committed is unknown) or the queue
    /// is gone.
    pub async fn submit(&self, job: J) -> Option<R> {
        let (answer, result) = oneshot::channel();
        self.queue.send((job, answer)).await.ok()?;
        result.await.ok()
    }
}

/// Begins a batch's transaction. On PostgreSQL its statements are planned
/// for their own values (`plan_cache_mode`, for this transaction only): a
/// prepared statement otherwise keeps the plan it got while its tables were
/// small (a sequential scan), and a batch's lookups then read the whole
/// table, slower with every row, until the next `ANALYZE`. One planning per
/// batch statement is cheap beside that.
///
/// A connection the server dropped while it was in use a moment ago (a
/// restart) fails here, before anything of the batch ran; the pool closes
/// it and the batch begins again on another, so that a whole batch of
/// writers is not refused for it. Every connection the pool holds may be
/// such a one, so it tries once more than it holds.
pub async fn begin_batch(db: &sea_orm::DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    let held = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => usize::try_from(db.get_postgres_connection_pool().size()).unwrap_or(1),
        _ => 1,
    };
    let mut attempt = 1;
    loop {
        match try_begin_batch(db).await {
            Err(e) if attempt <= held && crate::dead_connection(&e) => attempt += 1,
            begun => return begun,
        }
    }
}

async fn try_begin_batch(db: &sea_orm::DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let txn = db.begin().await?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
    }
    Ok(txn)
}

/// Commits a batch's transaction, timing it (`group_commit_commit_seconds`):
/// on PostgreSQL the commit waits for its WAL flush, which bounds how many
/// batches a path with one batch in flight commits a second.
pub async fn commit_batch(path: &'static str, txn: sea_orm::DatabaseTransaction) -> Result<(), sea_orm::DbErr> {
    let started = tokio::time::Instant::now();
    let committed = txn.commit().await;
    metrics::histogram!("group_commit_commit_seconds", "path" => path).record(started.elapsed().as_secs_f64());
    committed
}

/// From here to the end of a batch's transaction, PostgreSQL plans and caches
/// its statements as usual again (see [`begin_batch`]). Each row an insert
/// writes has its foreign keys checked by a cached statement of their own:
/// planned afresh for every row of every batch, those checks cost a batch of
/// postings more than its inserts. Lookups whose plan must follow the data
/// go before this; inserts of rows whose references are checked go after.
pub async fn plan_as_usual(txn: &sea_orm::DatabaseTransaction) -> Result<(), sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL plan_cache_mode = auto").await?;
    }
    Ok(())
}

/// Where a batch failed as a whole.
pub enum BatchFailed {
    /// A constraint refused it before its commit (say, a key another replica
    /// took meanwhile): nothing of it is stored, so each job is tried again
    /// alone and that refusal fails only its own.
    Conflict,
    /// The database failed it (before its commit: nothing stored; at its
    /// commit: unknown), so nothing is retried and every job is told to try
    /// again later, with this reason.
    Refused(String),
}

impl From<sea_orm::DbErr> for BatchFailed {
    fn from(e: sea_orm::DbErr) -> Self {
        crate::classify(e).into()
    }
}

impl From<crate::DbError> for BatchFailed {
    fn from(e: crate::DbError) -> Self {
        match e {
            crate::DbError::Conflict { .. } => Self::Conflict,
            crate::DbError::Unavailable(reason) => Self::Refused(reason),
            crate::DbError::Unexpected(cause) => {
                // The writers are told to try again; the cause stays here.
                tracing::error!(error = %cause, "a group commit failed");
                Self::Refused("the write could not be committed".to_owned())
            }
        }
    }
}

/// How long a batch of a serial path waits for returning writers under
/// load ([`Batching::regather`]): on PostgreSQL every commit waits for its
/// WAL flush (milliseconds on a real disk), so a batch that carries every
/// writer saves whole flushes; SQLite's commits in WAL mode flush nothing,
/// and a batch there is never kept waiting.
fn regather_for(db: &sea_orm::DatabaseConnection) -> Duration {
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => Duration::ZERO,
        _ => Duration::from_millis(1),
    }
}

/// Every job's answer from a batch's outcome: the batch's own answers when
/// it committed; when a conflict refused it, each job tried `alone`; when
/// the database failed it, a refusal to retry later for each.
pub async fn settle<J, T, E, A, Fut>(
    path: &str,
    jobs: Vec<J>,
    outcome: Result<Vec<Result<T, E>>, BatchFailed>,
    alone: A,
) -> Vec<Result<T, E>>
where
    E: From<crate::DbError>,
    A: Fn(J) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    match outcome {
        Ok(answers) => answers,
        Err(BatchFailed::Refused(reason)) => {
            tracing::warn!(%reason, path, jobs = jobs.len(), "a group commit failed");
            jobs.iter().map(|_| Err(crate::DbError::Unavailable(reason.clone()).into())).collect()
        }
        Err(BatchFailed::Conflict) => {
            let mut answers = Vec::with_capacity(jobs.len());
            for job in jobs {
                answers.push(alone(job).await);
            }
            answers
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_waiting_together_share_a_batch_and_each_gets_its_own_answer() {
        let batches = Arc::new(AtomicUsize::new(0));
        let counted = batches.clone();
        let commit = GroupCommit::start("test", Batching::new(16, 1), move |jobs: Vec<i64>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                jobs.into_iter().map(|n| if n % 3 == 0 { Err(n) } else { Ok(n * 10) }).collect::<Vec<_>>()
            }
        });
        let answers = futures_join(&commit, 48).await;
        for (n, answer) in answers.into_iter().enumerate() {
            let n = i64::try_from(n).unwrap();
            assert_eq!(answer, Some(if n % 3 == 0 { Err(n) } else { Ok(n * 10) }), "job {n} got its own answer");
        }
        let batches = batches.load(Ordering::SeqCst);
        assert!((3..48).contains(&batches), "48 jobs sent at once went in a few batches of at most 16, not {batches}");
    }

    #[tokio::test]
    async fn a_batch_that_panics_refuses_its_jobs_and_the_queue_goes_on() {
        let commit = GroupCommit::start("test", Batching::new(4, 1), |jobs: Vec<i64>| async move {
            assert!(!jobs.contains(&7), "seven is refused");
            jobs
        });
        assert_eq!(commit.submit(7).await, None);
        assert_eq!(commit.submit(8).await, Some(8));
    }

    #[tokio::test]
    async fn a_writer_that_gave_up_is_not_written() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let written = seen.clone();
        let commit = GroupCommit::start("test", Batching::new(4, 1), move |jobs: Vec<i64>| {
            written.lock().unwrap().extend(jobs.iter().copied());
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                jobs
            }
        });
        let busy = commit.clone();
        let first = tokio::spawn(async move { busy.submit(1).await });
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let gave_up = tokio::time::timeout(std::time::Duration::from_millis(10), commit.submit(2)).await;
        assert!(gave_up.is_err(), "the second writer stopped waiting while the first batch ran");
        assert_eq!(first.await.unwrap(), Some(1));
        assert_eq!(commit.submit(3).await, Some(3));
        assert_eq!(*seen.lock().unwrap(), [1, 3], "the job nobody waited for was never written");
    }

    /// Eight writers who each come back a few milliseconds after their
    /// answer, ten times: the batches a path makes of them.
    async fn batches_of_returning_writers(shape: Batching) -> usize {
        let batches = Arc::new(AtomicUsize::new(0));
        let counted = batches.clone();
        let commit = GroupCommit::start("test", shape, move |jobs: Vec<u64>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(15)).await;
                jobs
            }
        });
        let writers: Vec<_> = (1..=8u64)
            .map(|writer| {
                let commit = commit.clone();
                tokio::spawn(async move {
                    for _ in 0..10 {
                        assert_eq!(commit.submit(writer).await, Some(writer));
                        tokio::time::sleep(std::time::Duration::from_millis(writer)).await;
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        batches.load(Ordering::SeqCst)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_who_come_back_at_once_share_the_next_batch_when_the_path_regathers() {
        let regathered =
            batches_of_returning_writers(Batching::new(64, 1).regathering(std::time::Duration::from_millis(40))).await;
        let alone = batches_of_returning_writers(Batching::new(64, 1)).await;
        assert!(regathered <= 13, "80 writes of 8 returning writers took {regathered} batches, not about 10");
        assert!(alone >= 16, "without regathering the writers split the batches between them ({alone} batches)");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_regathering_batch_waits_no_longer_than_its_window_and_not_at_all_after_a_quiet_moment() {
        let window = std::time::Duration::from_millis(100);
        let commit =
            GroupCommit::start("test", Batching::new(64, 1).regathering(window), |jobs: Vec<i64>| async move {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                jobs.into_iter().map(Ok::<i64, i64>).collect::<Vec<_>>()
            });
        assert_eq!(futures_join(&commit, 8).await.len(), 8);
        // Only one of the eight comes back: the batch waits out its window, no more.
        let asked = std::time::Instant::now();
        assert_eq!(commit.submit(1).await, Some(Ok(1)));
        let waited = asked.elapsed();
        assert!(waited < window + std::time::Duration::from_millis(60), "a lone writer waited {waited:?}");
        // After a quiet moment longer than the window, a writer is taken at once.
        tokio::time::sleep(window + std::time::Duration::from_millis(20)).await;
        let asked = std::time::Instant::now();
        assert_eq!(commit.submit(2).await, Some(Ok(2)));
        let waited = asked.elapsed();
        assert!(waited < std::time::Duration::from_millis(50), "after a quiet moment a writer waited {waited:?}");
    }

    async fn futures_join(commit: &GroupCommit<i64, Result<i64, i64>>, n: i64) -> Vec<Option<Result<i64, i64>>> {
        let mut handles = Vec::new();
        for job in 0..n {
            let commit = commit.clone();
            handles.push(tokio::spawn(async move { commit.submit(job).await }));
            tokio::task::yield_now().await;
        }
        let mut answers = Vec::new();
        for handle in handles {
            answers.push(handle.await.unwrap());
        }
        answers
    }
}
