use chrono::{DateTime, NaiveDate, Utc};
use marquee_kit::FieldIssue;
use marquee_kit::extract::{Issues, Validate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Board {
    pub id: Uuid,
    pub name: String,
    pub event_id: Option<Uuid>,
    pub created_by: Uuid,
    pub updated_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BoardIn {
    pub name: String,
    pub event_id: Option<Uuid>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BoardPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::domains::artists::model::double_option")]
    pub event_id: Option<Option<Uuid>>,
}

impl Validate for BoardIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("name", &self.name, 200);
        issues.finish()
    }
}

impl Validate for BoardPatch {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        if let Some(name) = &self.name {
            issues.text("name", name, 200);
        }
        issues.finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Todo,
    InProgress,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

macro_rules! text_enum {
    ($t:ty { $($v:ident => $s:literal),* }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)* _ => None }
            }
        }
    };
}

text_enum!(TaskStatus { Todo => "todo", InProgress => "in_progress", Done => "done" });
text_enum!(Priority { Low => "low", Medium => "medium", High => "high", Urgent => "urgent" });

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: Uuid,
    pub board_id: Uuid,
    pub title: String,
    pub description: String,
    pub status: TaskStatus,
    pub priority: Priority,
    pub due_date: Option<NaiveDate>,
    pub assignees: Vec<Uuid>,
    pub event_id: Option<Uuid>,
    pub created_by: Uuid,
    pub updated_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskIn {
    pub board_id: Uuid,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    pub assignees: Vec<Uuid>,
    pub event_id: Option<Uuid>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "crate::domains::artists::model::double_option")]
    pub due_date: Option<Option<NaiveDate>>,
    pub assignees: Option<Vec<Uuid>>,
    #[serde(default, deserialize_with = "crate::domains::artists::model::double_option")]
    pub event_id: Option<Option<Uuid>>,
}

fn check_task_text(issues: &mut Issues, title: Option<&str>, description: Option<&str>, assignees: Option<&[Uuid]>) {
    if let Some(t) = title {
        issues.text("title", t, 300);
    }
    if let Some(d) = description {
        issues.check(d.chars().count() <= 10_000, "description", "at most 10000 characters");
    }
    if let Some(a) = assignees {
        issues.check(a.len() <= 20, "assignees", "at most 20 assignees");
    }
}

impl Validate for TaskIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        check_task_text(&mut issues, Some(&self.title), Some(&self.description), Some(&self.assignees));
        issues.finish()
    }
}

impl Validate for TaskPatch {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        check_task_text(&mut issues, self.title.as_deref(), self.description.as_deref(), self.assignees.as_deref());
        issues.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskFilter {
    pub board_id: Option<Uuid>,
    pub status: Option<TaskStatus>,
    pub assignee: Option<Uuid>,
    pub event_id: Option<Uuid>,
}

impl Validate for TaskFilter {}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub id: Uuid,
    pub task_id: Uuid,
    pub author_id: Uuid,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommentIn {
    pub body: String,
}

impl Validate for CommentIn {
    fn validate(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Issues::new();
        issues.text("body", &self.body, 5000);
        issues.finish()
    }
}

/// The ids in their first-seen order, each once.
pub fn unique(ids: Vec<Uuid>) -> Vec<Uuid> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

impl crate::patch::Patch<Board> for BoardPatch {
    fn apply(self, target: &mut Board) {
        if let Some(name) = self.name {
            target.name = name.trim().to_owned();
        }
        if let Some(event) = self.event_id {
            target.event_id = event;
        }
    }
}

impl crate::patch::Patch<Task> for TaskPatch {
    fn apply(self, target: &mut Task) {
        if let Some(title) = self.title {
            target.title = title.trim().to_owned();
        }
        if let Some(description) = self.description {
            target.description = description;
        }
        if let Some(status) = self.status {
            target.status = status;
        }
        if let Some(priority) = self.priority {
            target.priority = priority;
        }
        if let Some(due) = self.due_date {
            target.due_date = due;
        }
        if let Some(assignees) = self.assignees {
            target.assignees = unique(assignees);
        }
        if let Some(event) = self.event_id {
            target.event_id = event;
        }
    }
}
