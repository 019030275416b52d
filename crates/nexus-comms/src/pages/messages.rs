//! System messages for those who write them: the list, the form to post one (its users
//! chosen by name), each one changed in its row (versioned) and withdrawn.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use nexus_core::extract::Path;
use nexus_core::pages::{
    Done, Errors, OrPage, Page, Posted, Shell, Web, done_message, filled, instant, render,
};
use nexus_core::{ApiError, ApiResult, AppState, IfMatch, PageParams};
use serde::Deserialize;

use crate::model::*;
use crate::service::messages as service;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/system-messages", get(list).post(create))
        .route("/system-messages/{id}", post(update))
        .route("/system-messages/{id}/delete", post(delete))
}

const WRITE: &str = "system_messages:write";

const DONE: &[(&str, &str)] = &[
    ("posted", "Message posted."),
    ("saved", "Message saved."),
    ("deleted", "Message withdrawn."),
];

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct MessageForm {
    version: i32,
    title: String,
    content: String,
    message_type: String,
    /// `on` when checked.
    is_broadcast: String,
    /// Usernames, separated by commas or spaces.
    target_users: String,
    /// A `datetime-local` value, in plant time.
    expires_at: String,
}

impl MessageForm {
    fn of(m: &SystemMessageOut) -> Self {
        Self {
            version: m.version,
            title: m.title.clone(),
            content: m.content.clone(),
            message_type: m.message_type.clone(),
            is_broadcast: if m.is_broadcast {
                "on".into()
            } else {
                String::new()
            },
            target_users: m
                .target_users
                .iter()
                .map(|t| t.username.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            expires_at: m.expires_at.map(|t| t.input_value()).unwrap_or_default(),
        }
    }

    fn broadcast(&self) -> bool {
        !self.is_broadcast.is_empty()
    }

    /// The message the form describes; 422 naming the fields that are not understood.
    async fn message(&self, web: &Web) -> ApiResult<NewSystemMessage> {
        let names: Vec<String> = self
            .target_users
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(|n| n.trim().trim_start_matches('@').to_string())
            .filter(|n| !n.is_empty())
            .collect();
        let expires_at = instant(&self.expires_at)
            .map_err(|_| ApiError::invalid("expires_at", "enter a date and time"))?;
        let target_users = if self.broadcast() || names.is_empty() {
            Vec::new()
        } else {
            service::users_named(web.state.db.read(), &names).await?
        };
        Ok(NewSystemMessage {
            title: self.title.clone(),
            content: self.content.clone(),
            message_type: filled(&self.message_type),
            is_broadcast: self.broadcast(),
            target_users,
            expires_at,
        })
    }
}

struct Row {
    m: SystemMessageOut,
    form: MessageForm,
    errors: Errors,
    open: bool,
}

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesPage {
    shell: Shell,
    rows: Vec<Row>,
    form: MessageForm,
    errors: Errors,
    types: [&'static str; 4],
}

enum Failure {
    None,
    New(MessageForm, Errors),
    Row(i64, MessageForm, Errors),
}

async fn messages_page(web: &Web, shell: Shell, failure: Failure, status: StatusCode) -> Page {
    let paging = PageParams {
        limit: Some(200),
        ..Default::default()
    };
    let found = service::list(web.state.db.read(), &paging)
        .await
        .or_page(web)?;
    let (mut form, mut errors, mut failed_row) = (
        MessageForm {
            message_type: "info".into(),
            ..Default::default()
        },
        Errors::default(),
        None,
    );
    match failure {
        Failure::None => {}
        Failure::New(f, e) => (form, errors) = (f, e),
        Failure::Row(id, f, e) => failed_row = Some((id, f, e)),
    }
    let rows = found
        .items
        .into_iter()
        .map(|m| {
            let (form, errors, open) = match failed_row.take_if(|(id, _, _)| *id == m.id) {
                Some((_, f, e)) => (f, e, true),
                None => (MessageForm::of(&m), Errors::default(), false),
            };
            Row {
                m,
                form,
                errors,
                open,
            }
        })
        .collect();
    let page = MessagesPage {
        shell,
        rows,
        form,
        errors,
        types: MESSAGE_TYPES,
    };
    Ok(render(status, &page))
}

async fn list(web: Web, Query(done): Query<Done>) -> Page {
    web.require(WRITE)?;
    let shell = web.shell_done("System messages", done_message(&done.done, DONE));
    messages_page(&web, shell, Failure::None, StatusCode::OK).await
}

async fn create(web: Web, Posted(form): Posted<MessageForm>) -> Page {
    web.require(WRITE)?;
    let posted = match form.message(&web).await {
        Ok(new) => service::create(&web.state, &web.audit(), new).await,
        Err(e) => Err(e),
    };
    match posted {
        Ok(m) => {
            Ok(Redirect::to(&format!("/system-messages?done=posted#m{}", m.id)).into_response())
        }
        Err(err) => {
            let r = web
                .refused("System messages", err)?
                .saying("The message was not posted");
            messages_page(&web, r.shell, Failure::New(form, r.errors), r.status).await
        }
    }
}

async fn update(web: Web, Path(id): Path<i64>, Posted(form): Posted<MessageForm>) -> Page {
    web.require(WRITE)?;
    let saved = match form.message(&web).await {
        Ok(m) => {
            let change = UpdateSystemMessage {
                title: Some(m.title),
                content: Some(m.content),
                message_type: m.message_type,
                is_broadcast: Some(m.is_broadcast),
                target_users: Some(m.target_users),
                expires_at: Some(m.expires_at),
            };
            let version = IfMatch(Some(form.version));
            service::update(&web.state, &web.audit(), id, version, change).await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/system-messages?done=saved#m{id}")).into_response()),
        Err(err) => {
            let r = web
                .refused("System messages", err)?
                .saying("The message was not changed");
            if r.stale {
                return messages_page(&web, r.shell, Failure::None, r.status).await;
            }
            messages_page(&web, r.shell, Failure::Row(id, form, r.errors), r.status).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteForm {
    version: i32,
}

async fn delete(web: Web, Path(id): Path<i64>, Posted(form): Posted<DeleteForm>) -> Page {
    web.require(WRITE)?;
    match service::delete(&web.state, &web.audit(), id, IfMatch(Some(form.version))).await {
        Ok(()) => Ok(Redirect::to("/system-messages?done=deleted").into_response()),
        Err(err) => {
            let r = web.refused("System messages", err)?;
            messages_page(&web, r.shell, Failure::None, r.status).await
        }
    }
}
