//! The rules of the workspace: references stay inside the company, and every
//! assignee is an active member (asked of auth; unknown means refused).

use marquee_guard::AccessContext;
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use super::model::{
    Board, BoardIn, BoardPatch, Comment, CommentIn, Priority, Task, TaskFilter, TaskIn, TaskPatch, TaskStatus, unique,
};
use super::repo;
use crate::domains::activity::{self, Change};
use crate::domains::events;
use crate::error::Error;
use crate::patch::patched;
use crate::state::AppState;

fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

async fn check_event(db: &impl ConnectionTrait, company: Uuid, event: Option<Uuid>) -> Result<(), Error> {
    match event {
        Some(id) if events::repo::find(db, company, id).await?.is_none() => {
            Err(Error::field("eventId", "no such event in this company"))
        }
        _ => Ok(()),
    }
}

async fn check_assignees(state: &AppState, ctx: &AccessContext, assignees: &[Uuid]) -> Result<(), Error> {
    let members = state.guard.active_members(ctx.company_id, assignees).await.map_err(Error::Upstream)?;
    match assignees.iter().position(|a| !members.contains(a)) {
        Some(i) => Err(Error::field(&format!("assignees[{i}]"), "is not an active member of this company")),
        None => Ok(()),
    }
}

pub async fn create_board(state: &AppState, ctx: &AccessContext, input: BoardIn) -> Result<Board, Error> {
    let now = state.clock.now();
    check_event(&state.db, ctx.company_id, input.event_id).await?;
    let board = Board {
        id: Uuid::now_v7(),
        name: input.name.trim().to_owned(),
        event_id: input.event_id,
        created_by: ctx.user_id,
        updated_by: ctx.user_id,
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    repo::insert_board(&txn, ctx.company_id, &board).await?;
    let change = Change {
        at: now,
        entity: "board",
        entity_id: board.id,
        action: "created",
        before: serde_json::Value::Null,
        after: json(&board),
    };
    activity::record(&txn, ctx, change).await?;
    txn.commit().await?;
    Ok(board)
}

pub async fn board(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Board, Error> {
    repo::board(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("board"))
}

pub async fn boards(
    state: &AppState,
    ctx: &AccessContext,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Board>, u64), Error> {
    Ok(repo::boards(&state.db, ctx.company_id, offset, limit).await?)
}

pub async fn update_board(state: &AppState, ctx: &AccessContext, id: Uuid, patch: BoardPatch) -> Result<Board, Error> {
    let before = board(state, ctx, id).await?;
    if let Some(event) = patch.event_id {
        check_event(&state.db, ctx.company_id, event).await?;
    }
    let mut after = patched(&before, patch);
    after.updated_by = ctx.user_id;
    after.updated_at = state.clock.now();
    let txn = state.db.begin().await?;
    repo::update_board(&txn, ctx.company_id, &after).await?;
    activity::record(&txn, ctx, Change::updated(after.updated_at, "board", id, &before, &after)).await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn delete_board(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<(), Error> {
    let before = board(state, ctx, id).await?;
    let txn = state.db.begin().await?;
    repo::delete_board(&txn, ctx.company_id, id).await?;
    let change = Change {
        at: state.clock.now(),
        entity: "board",
        entity_id: id,
        action: "deleted",
        before: json(&before),
        after: serde_json::Value::Null,
    };
    activity::record(&txn, ctx, change).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn create_task(state: &AppState, ctx: &AccessContext, input: TaskIn) -> Result<Task, Error> {
    if repo::board(&state.db, ctx.company_id, input.board_id).await?.is_none() {
        return Err(Error::field("boardId", "no such board in this company"));
    }
    check_event(&state.db, ctx.company_id, input.event_id).await?;
    check_assignees(state, ctx, &input.assignees).await?;
    let now = state.clock.now();
    let assignees = unique(input.assignees);
    let task = Task {
        id: Uuid::now_v7(),
        board_id: input.board_id,
        title: input.title.trim().to_owned(),
        description: input.description,
        status: input.status.unwrap_or(TaskStatus::Todo),
        priority: input.priority.unwrap_or(Priority::Medium),
        due_date: input.due_date,
        assignees,
        event_id: input.event_id,
        created_by: ctx.user_id,
        updated_by: ctx.user_id,
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    repo::insert_task(&txn, ctx.company_id, &task).await?;
    let change = Change {
        at: now,
        entity: "task",
        entity_id: task.id,
        action: "created",
        before: serde_json::Value::Null,
        after: json(&task),
    };
    activity::record(&txn, ctx, change).await?;
    txn.commit().await?;
    Ok(task)
}

pub async fn task(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Task, Error> {
    repo::task(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("task"))
}

pub async fn tasks(
    state: &AppState,
    ctx: &AccessContext,
    filter: &TaskFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Task>, u64), Error> {
    Ok(repo::tasks(&state.db, ctx.company_id, filter, offset, limit).await?)
}

pub async fn update_task(state: &AppState, ctx: &AccessContext, id: Uuid, patch: TaskPatch) -> Result<Task, Error> {
    let before = task(state, ctx, id).await?;
    if let Some(assignees) = &patch.assignees {
        check_assignees(state, ctx, assignees).await?;
    }
    if let Some(event) = patch.event_id {
        check_event(&state.db, ctx.company_id, event).await?;
    }
    let mut after = patched(&before, patch);
    after.updated_by = ctx.user_id;
    after.updated_at = state.clock.now();
    let txn = state.db.begin().await?;
    repo::update_task(&txn, ctx.company_id, &after).await?;
    activity::record(&txn, ctx, Change::updated(after.updated_at, "task", id, &before, &after)).await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn delete_task(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<(), Error> {
    let before = task(state, ctx, id).await?;
    let txn = state.db.begin().await?;
    repo::delete_task(&txn, ctx.company_id, id).await?;
    let change = Change {
        at: state.clock.now(),
        entity: "task",
        entity_id: id,
        action: "deleted",
        before: json(&before),
        after: serde_json::Value::Null,
    };
    activity::record(&txn, ctx, change).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn comment(state: &AppState, ctx: &AccessContext, task_id: Uuid, input: CommentIn) -> Result<Comment, Error> {
    task(state, ctx, task_id).await?;
    let comment = Comment {
        id: Uuid::now_v7(),
        task_id,
        author_id: ctx.user_id,
        body: input.body.trim().to_owned(),
        created_at: state.clock.now(),
    };
    let txn = state.db.begin().await?;
    repo::insert_comment(&txn, ctx.company_id, &comment).await?;
    let change = Change {
        at: comment.created_at,
        entity: "task",
        entity_id: task_id,
        action: "commented",
        before: serde_json::Value::Null,
        after: json(&comment),
    };
    activity::record(&txn, ctx, change).await?;
    txn.commit().await?;
    Ok(comment)
}

pub async fn comments(
    state: &AppState,
    ctx: &AccessContext,
    task_id: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Comment>, u64), Error> {
    task(state, ctx, task_id).await?;
    Ok(repo::comments(&state.db, ctx.company_id, task_id, offset, limit).await?)
}
