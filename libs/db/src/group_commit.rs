//! Group commit: the writes waiting at one moment are committed together.
//!
//! Each hot write path sends its job to a queue; one task takes everything
//! that is waiting (up to a limit), hands it to the path's own batch function
//! (which checks every job on its own and writes the accepted ones in one
//! transaction) and answers every sender with its own result. A lone job is
//! taken at once: nothing waits for company, the batches form by themselves
//! while the previous one is committing.
//!
//! Metrics per path: `group_commit_batches_total` and
//! `group_commit_jobs_total` (their ratio is the mean batch size).

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

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
    /// Starts the task that runs `batch` on up to `max` waiting jobs at a
    /// time, with at most `lanes` batches in flight at once (one on SQLite,
    /// whose single writer takes them in turn; several on PostgreSQL, so
    /// that one batch's round trips and commit overlap the next one's).
    /// `batch` answers one result per job, in the jobs' order. The task ends
    /// when the last handle is dropped. `path` names it in the metrics.
    pub fn start<F, Fut>(path: &'static str, max: usize, lanes: usize, batch: F) -> Self
    where
        F: Fn(Vec<J>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let max = max.max(1);
        let batch = std::sync::Arc::new(batch);
        let lanes = std::sync::Arc::new(tokio::sync::Semaphore::new(lanes.max(1)));
        let (queue, mut waiting) = mpsc::channel::<(J, oneshot::Sender<R>)>(max * 8);
        tokio::spawn(async move {
            let mut taken = Vec::with_capacity(max);
            // A lane first, then the jobs: while every lane is busy, the
            // jobs that come wait together for the next batch.
            while let Ok(lane) = lanes.clone().acquire_owned().await
                && waiting.recv_many(&mut taken, max).await > 0
            {
                // A writer that gave up (its request timed out or was
                // dropped) is told nothing, so its write is not made either.
                let (jobs, answers): (Vec<J>, Vec<oneshot::Sender<R>>) =
                    taken.drain(..).filter(|(_, answer)| !answer.is_closed()).unzip();
                if jobs.is_empty() {
                    continue;
                }
                metrics::counter!("group_commit_batches_total", "path" => path).increment(1);
                metrics::counter!("group_commit_jobs_total", "path" => path).increment(jobs.len() as u64);
                let batch = batch.clone();
                tokio::spawn(async move {
                    // Its own task, so a panic in one batch drops that
                    // batch's answers (their senders see it) and the queue
                    // goes on.
                    match tokio::spawn(async move { batch(jobs).await }).await {
                        Ok(results) => {
                            debug_assert_eq!(results.len(), answers.len(), "one result per job");
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
pub async fn begin_batch(db: &sea_orm::DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let txn = db.begin().await?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
    }
    Ok(txn)
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

/// Batches in flight at once for writes that seldom touch the same rows
/// (say, different sessions): one for SQLite's single writer, four for
/// PostgreSQL.
pub fn lanes_for(db: &sea_orm::DatabaseConnection) -> usize {
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => 1,
        _ => 4,
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
        let commit = GroupCommit::start("test", 16, 1, move |jobs: Vec<i64>| {
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
        let commit = GroupCommit::start("test", 4, 1, |jobs: Vec<i64>| async move {
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
        let commit = GroupCommit::start("test", 4, 1, move |jobs: Vec<i64>| {
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
