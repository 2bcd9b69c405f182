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
    /// time. `batch` answers one result per job, in the jobs' order. The task
    /// ends when the last handle is dropped. `path` names it in the metrics.
    pub fn start<F, Fut>(path: &'static str, max: usize, batch: F) -> Self
    where
        F: Fn(Vec<J>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let max = max.max(1);
        let (queue, mut waiting) = mpsc::channel::<(J, oneshot::Sender<R>)>(max * 8);
        tokio::spawn(async move {
            let mut taken = Vec::with_capacity(max);
            while waiting.recv_many(&mut taken, max).await > 0 {
                let (jobs, answers): (Vec<J>, Vec<oneshot::Sender<R>>) = taken.drain(..).unzip();
                metrics::counter!("group_commit_batches_total", "path" => path).increment(1);
                metrics::counter!("group_commit_jobs_total", "path" => path).increment(jobs.len() as u64);
                // Its own task, so a panic in one batch drops that batch's
                // answers (their senders see it) and the queue goes on.
                match tokio::spawn(batch(jobs)).await {
                    Ok(results) => {
                        debug_assert_eq!(results.len(), answers.len(), "one result per job");
                        for (answer, result) in answers.into_iter().zip(results) {
                            let _ = answer.send(result);
                        }
                    }
                    Err(failed) => tracing::error!(error = %failed, "a group commit failed; its writers are refused"),
                }
            }
        });
        Self { queue }
    }

    /// Sends a job and waits for its answer; `None` when the batch it was in
    /// failed as a whole (nothing of it was committed) or the queue is gone.
    pub async fn submit(&self, job: J) -> Option<R> {
        let (answer, result) = oneshot::channel();
        self.queue.send((job, answer)).await.ok()?;
        result.await.ok()
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
        let commit = GroupCommit::start("test", 16, move |jobs: Vec<i64>| {
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
        let commit = GroupCommit::start("test", 4, |jobs: Vec<i64>| async move {
            assert!(!jobs.contains(&7), "seven is refused");
            jobs
        });
        assert_eq!(commit.submit(7).await, None);
        assert_eq!(commit.submit(8).await, Some(8));
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
