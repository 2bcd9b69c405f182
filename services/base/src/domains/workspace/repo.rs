//! The only code that touches boards, tasks and comments.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, PaginatorTrait, QueryOrder, QuerySelect, Set};

use super::model::{Board, Comment, Priority, Task, TaskFilter, TaskStatus};

pub mod board_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "boards")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub name: String,
        pub event_id: Option<Uuid>,
        pub created_by: Uuid,
        pub updated_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod task_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tasks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub board_id: Uuid,
        pub title: String,
        pub description: String,
        pub status: String,
        pub priority: String,
        pub due_date: Option<Date>,
        pub assignees: String,
        pub event_id: Option<Uuid>,
        pub created_by: Uuid,
        pub updated_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod comment_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "comments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub company_id: Uuid,
        pub task_id: Uuid,
        pub author_id: Uuid,
        pub body: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn corrupt(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored task is not readable: {e}"))
}

fn board_of(r: board_row::Model) -> Board {
    Board {
        id: r.id,
        name: r.name,
        event_id: r.event_id,
        created_by: r.created_by,
        updated_by: r.updated_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn task_of(r: task_row::Model) -> Result<Task, DbErr> {
    Ok(Task {
        id: r.id,
        board_id: r.board_id,
        title: r.title,
        description: r.description,
        status: TaskStatus::parse(&r.status).ok_or_else(|| corrupt(&r.status))?,
        priority: Priority::parse(&r.priority).ok_or_else(|| corrupt(&r.priority))?,
        due_date: r.due_date,
        assignees: serde_json::from_str(&r.assignees).map_err(corrupt)?,
        event_id: r.event_id,
        created_by: r.created_by,
        updated_by: r.updated_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn task_row(company: Uuid, t: &Task) -> Result<task_row::ActiveModel, DbErr> {
    Ok(task_row::ActiveModel {
        id: Set(t.id),
        company_id: Set(company),
        board_id: Set(t.board_id),
        title: Set(t.title.clone()),
        description: Set(t.description.clone()),
        status: Set(t.status.as_str().to_owned()),
        priority: Set(t.priority.as_str().to_owned()),
        due_date: Set(t.due_date),
        assignees: Set(serde_json::to_string(&t.assignees).map_err(corrupt)?),
        event_id: Set(t.event_id),
        created_by: Set(t.created_by),
        updated_by: Set(t.updated_by),
        created_at: Set(t.created_at),
        updated_at: Set(t.updated_at),
    })
}

pub async fn insert_board(db: &impl ConnectionTrait, company: Uuid, b: &Board) -> Result<(), DbErr> {
    board_row::ActiveModel {
        id: Set(b.id),
        company_id: Set(company),
        name: Set(b.name.clone()),
        event_id: Set(b.event_id),
        created_by: Set(b.created_by),
        updated_by: Set(b.updated_by),
        created_at: Set(b.created_at),
        updated_at: Set(b.updated_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn board(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Board>, DbErr> {
    Ok(board_row::Entity::find()
        .filter(board_row::Column::CompanyId.eq(company))
        .filter(board_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(board_of))
}

pub async fn boards(
    db: &impl ConnectionTrait,
    company: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Board>, u64), DbErr> {
    let query = board_row::Entity::find().filter(board_row::Column::CompanyId.eq(company));
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(board_row::Column::Name)
        .order_by_asc(board_row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(board_of).collect(), total))
}

pub async fn update_board(db: &impl ConnectionTrait, company: Uuid, b: &Board) -> Result<(), DbErr> {
    board_row::Entity::update_many()
        .col_expr(board_row::Column::Name, Expr::value(b.name.clone()))
        .col_expr(board_row::Column::EventId, Expr::value(b.event_id))
        .col_expr(board_row::Column::UpdatedBy, Expr::value(b.updated_by))
        .col_expr(board_row::Column::UpdatedAt, Expr::value(b.updated_at))
        .filter(board_row::Column::CompanyId.eq(company))
        .filter(board_row::Column::Id.eq(b.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes a board with its tasks and their comments.
pub async fn delete_board(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<(), DbErr> {
    let tasks: Vec<Uuid> = task_row::Entity::find()
        .filter(task_row::Column::CompanyId.eq(company))
        .filter(task_row::Column::BoardId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    comment_row::Entity::delete_many()
        .filter(comment_row::Column::CompanyId.eq(company))
        .filter(comment_row::Column::TaskId.is_in(tasks))
        .exec(db)
        .await?;
    task_row::Entity::delete_many()
        .filter(task_row::Column::CompanyId.eq(company))
        .filter(task_row::Column::BoardId.eq(id))
        .exec(db)
        .await?;
    board_row::Entity::delete_many()
        .filter(board_row::Column::CompanyId.eq(company))
        .filter(board_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert_task(db: &impl ConnectionTrait, company: Uuid, t: &Task) -> Result<(), DbErr> {
    task_row::Entity::insert(task_row(company, t)?).exec_without_returning(db).await?;
    Ok(())
}

pub async fn task(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<Option<Task>, DbErr> {
    task_row::Entity::find()
        .filter(task_row::Column::CompanyId.eq(company))
        .filter(task_row::Column::Id.eq(id))
        .one(db)
        .await?
        .map(task_of)
        .transpose()
}

pub async fn update_task(db: &impl ConnectionTrait, company: Uuid, t: &Task) -> Result<(), DbErr> {
    task_row::Entity::update_many()
        .set(task_row(company, t)?)
        .filter(task_row::Column::CompanyId.eq(company))
        .filter(task_row::Column::Id.eq(t.id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_task(db: &impl ConnectionTrait, company: Uuid, id: Uuid) -> Result<(), DbErr> {
    comment_row::Entity::delete_many()
        .filter(comment_row::Column::CompanyId.eq(company))
        .filter(comment_row::Column::TaskId.eq(id))
        .exec(db)
        .await?;
    task_row::Entity::delete_many()
        .filter(task_row::Column::CompanyId.eq(company))
        .filter(task_row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn tasks(
    db: &impl ConnectionTrait,
    company: Uuid,
    filter: &TaskFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Task>, u64), DbErr> {
    let mut query = task_row::Entity::find().filter(task_row::Column::CompanyId.eq(company));
    if let Some(board) = filter.board_id {
        query = query.filter(task_row::Column::BoardId.eq(board));
    }
    if let Some(status) = filter.status {
        query = query.filter(task_row::Column::Status.eq(status.as_str()));
    }
    if let Some(event) = filter.event_id {
        query = query.filter(task_row::Column::EventId.eq(event));
    }
    if let Some(user) = filter.assignee {
        // Assignees are stored as a JSON array of ids.
        query = query.filter(task_row::Column::Assignees.contains(format!("\"{user}\"")));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(task_row::Column::DueDate)
        .order_by_asc(task_row::Column::CreatedAt)
        .order_by_asc(task_row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(task_of).collect::<Result<_, _>>()?, total))
}

pub async fn insert_comment(db: &impl ConnectionTrait, company: Uuid, c: &Comment) -> Result<(), DbErr> {
    comment_row::ActiveModel {
        id: Set(c.id),
        company_id: Set(company),
        task_id: Set(c.task_id),
        author_id: Set(c.author_id),
        body: Set(c.body.clone()),
        created_at: Set(c.created_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn comments(
    db: &impl ConnectionTrait,
    company: Uuid,
    task: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Comment>, u64), DbErr> {
    let query = comment_row::Entity::find()
        .filter(comment_row::Column::CompanyId.eq(company))
        .filter(comment_row::Column::TaskId.eq(task));
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(comment_row::Column::CreatedAt)
        .order_by_asc(comment_row::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((
        rows.into_iter()
            .map(|r| Comment {
                id: r.id,
                task_id: r.task_id,
                author_id: r.author_id,
                body: r.body,
                created_at: r.created_at,
            })
            .collect(),
        total,
    ))
}
