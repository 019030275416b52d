//! Tags: the list with their chips, the new tag form, each tag changed in its row
//! (versioned) and deleted after a question.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use nexus_core::extract::Path;
use nexus_core::pages::{
    Done, Errors, OrPage, Page, Posted, Shell, Web, done_message, filled, render,
};
use nexus_core::{AppState, IfMatch};
use serde::Deserialize;

use super::{Chip, chip};
use crate::model::*;
use crate::service;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/work/tags", get(list).post(create))
        .route("/work/tags/{id}", post(update))
        .route("/work/tags/{id}/delete", post(delete))
}

const WRITE: &str = "tags:write";

const DONE: &[(&str, &str)] = &[
    ("created", "Tag created."),
    ("saved", "Tag saved."),
    (
        "deleted",
        "Tag deleted. It was taken off every activity and task.",
    ),
];

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct TagForm {
    version: i32,
    name: String,
    color: String,
    category: String,
    description: String,
}

impl TagForm {
    fn of(t: &TagOut) -> Self {
        Self {
            version: t.version,
            name: t.name.clone(),
            color: t.color.clone(),
            category: t.category.clone().unwrap_or_default(),
            description: t.description.clone(),
        }
    }

    /// The colour for the colour input, which takes only `#rrggbb`.
    fn color_input(&self) -> String {
        if is_hex_colour(self.color.trim()) {
            self.color.trim().to_lowercase()
        } else {
            "#3b82f6".into()
        }
    }
}

/// A tag as a row: its chip and the values its edit form shows.
struct TagRow {
    tag: TagOut,
    chip: Chip,
    form: TagForm,
    errors: Errors,
    /// The edit form failed: open it.
    open: bool,
    /// The one-line fields of its edit form: (name, label, value, input type).
    inputs: Vec<(&'static str, &'static str, String, &'static str)>,
}

/// Which form a refused submission came from.
enum Failure {
    None,
    New(TagForm, Errors),
    Row(i64, TagForm, Errors),
}

#[derive(Template)]
#[template(path = "tags.html")]
struct TagsPage {
    shell: Shell,
    rows: Vec<TagRow>,
    form: TagForm,
    errors: Errors,
}

async fn tags_page(web: &Web, shell: Shell, failure: Failure, status: StatusCode) -> Page {
    let tags = service::list_tags(web.state.db.read(), &TagFilter::default())
        .await
        .or_page(web)?
        .items;
    let (mut form, mut errors) = (
        TagForm {
            color: "#3B82F6".into(),
            ..TagForm::default()
        },
        Errors::default(),
    );
    let mut failed_row = None;
    match failure {
        Failure::None => {}
        Failure::New(f, e) => {
            form = f;
            errors = e;
        }
        Failure::Row(id, f, e) => failed_row = Some((id, f, e)),
    }
    let rows = tags
        .into_iter()
        .map(|t| {
            let (form, errors, open) = match failed_row.take_if(|(id, _, _)| *id == t.id) {
                Some((_, f, e)) => (f, e, true),
                None => (TagForm::of(&t), Errors::default(), false),
            };
            TagRow {
                inputs: vec![
                    ("name", "Name", form.name.clone(), "text"),
                    ("color", "Colour", form.color_input(), "color"),
                    (
                        "category",
                        "Category (optional)",
                        form.category.clone(),
                        "text",
                    ),
                ],
                chip: chip(t.id, &t.name, &t.color),
                tag: t,
                form,
                errors,
                open,
            }
        })
        .collect();
    let page = TagsPage {
        shell,
        rows,
        form,
        errors,
    };
    Ok(render(status, &page))
}

async fn list(web: Web, Query(done): Query<Done>) -> Page {
    web.require(WRITE)?;
    let shell = web.shell_done("Tags", done_message(&done.done, DONE));
    tags_page(&web, shell, Failure::None, StatusCode::OK).await
}

async fn create(web: Web, Posted(form): Posted<TagForm>) -> Page {
    web.require(WRITE)?;
    let new = NewTag {
        name: form.name.clone(),
        description: filled(&form.description),
        color: filled(&form.color),
        category: filled(&form.category),
    };
    match service::create_tag(&web.state, &web.audit(), new).await {
        Ok(t) => Ok(Redirect::to(&format!("/work/tags?done=created#t{}", t.id)).into_response()),
        Err(err) => {
            let r = web.refused("Tags", err)?.saying("The tag was not created");
            tags_page(&web, r.shell, Failure::New(form, r.errors), r.status).await
        }
    }
}

async fn update(web: Web, Path(id): Path<i64>, Posted(form): Posted<TagForm>) -> Page {
    web.require(WRITE)?;
    let req = UpdateTag {
        name: Some(form.name.clone()),
        description: Some(form.description.trim().to_string()),
        color: Some(form.color.clone()),
        category: Some(filled(&form.category)),
    };
    let version = IfMatch(Some(form.version));
    match service::update_tag(&web.state, &web.audit(), id, version, req).await {
        Ok(_) => Ok(Redirect::to(&format!("/work/tags?done=saved#t{id}")).into_response()),
        Err(err) => {
            let r = web.refused("Tags", err)?.saying("The tag was not changed");
            if r.stale {
                // The row shows what is stored now.
                return tags_page(&web, r.shell, Failure::None, r.status).await;
            }
            tags_page(&web, r.shell, Failure::Row(id, form, r.errors), r.status).await
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
    match service::delete_tag(&web.state, &web.audit(), id, IfMatch(Some(form.version))).await {
        Ok(()) => Ok(Redirect::to("/work/tags?done=deleted").into_response()),
        Err(err) => {
            let r = web.refused("Tags", err)?;
            tags_page(&web, r.shell, Failure::None, r.status).await
        }
    }
}
