//! The pages of activities, my work, the calendar and tags: planning through the form
//! (people and tags chosen by name), the list, the activity page with its timeline,
//! quick status changes, refused and stale forms, who may see what, and the calendar's
//! days; through real HTTP on SQLite and PostgreSQL.

use chrono::{Duration, Utc};
use nexus_server::backend_tests;
use nexus_server::testing::{TestServer, csrf};
use serde_json::{Value, json};

/// The id at the end of a redirect to `prefix<id>?...`.
fn id_in(to: &str, prefix: &str) -> i64 {
    let rest = to
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{to} starts with {prefix}"));
    rest.split(['?', '#', '&']).next().unwrap().parse().unwrap()
}

/// Tomorrow (UTC) at `time`, as a `datetime-local` input sends it.
fn tomorrow_at(time: &str) -> String {
    format!("{}T{time}", (Utc::now() + Duration::days(1)).date_naive())
}

async fn tag_id(srv: &TestServer, token: &str, name: &str) -> String {
    let tags = srv.get("/api/v1/tags", token).await.json;
    tags["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string()
}

/// Whether `html` shows `text`, its `&` escaped either way.
fn amp(html: &str, text: &str) -> bool {
    html.contains(&text.replace('&', "&amp;")) || html.contains(&text.replace('&', "&#38;"))
}

/// The part of `html` from `from` up to `to` (or the end).
fn between<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html
        .find(from)
        .unwrap_or_else(|| panic!("{from} in {html}"));
    let rest = &html[start..];
    match rest[from.len()..].find(to) {
        Some(end) => &rest[..from.len() + end],
        None => rest,
    }
}

backend_tests! {
    async fn plan_see_change_and_refuse_through_pages(srv) {
        let admin = srv.admin_token().await;
        srv.create_user(&admin, "ann", "user").await;
        let bob = srv.user_token(&admin, "bob", "user").await;
        let kaizen = tag_id(srv, &admin, "Kaizen").await;
        let rca = tag_id(srv, &admin, "RCA").await;

        let (status, html) = srv.page("/work/activities/new", &admin).await;
        assert_eq!(status, 200);
        let token = csrf(&html);
        assert!(html.contains("<label for=\"assignee\">") && html.contains("data-choices=\"/work/people/choices\""), "{html}");
        assert!(html.contains(&format!("name=\"tags\" value=\"{kaizen}\"")) && amp(&html, "Inspection & Audit"), "{html}");
        let (status, people) = srv.page("/work/people/choices?q=AN", &admin).await;
        assert_eq!(status, 200);
        assert!(people.contains("<option value=\"ann\">"), "{people}");

        // Planned by names: the assignee typed, two tags ticked.
        let (start, end) = (tomorrow_at("08:00"), tomorrow_at("10:30"));
        let (status, to, html) = srv.submit("/work/activities", &admin, &[("csrf", &token), ("title", "Line setup"),
            ("type", "Production"), ("status", "planned"), ("priority", "high"), ("start_time", &start), ("end_time", &end),
            ("assignee", "Ann"), ("tags", &kaizen), ("tags", &rca), ("description", "New product launch"), ("repeat", "none")]).await;
        assert_eq!(status, 303, "{html}");
        let id = id_in(&to, "/work/activities/");
        assert!(to.ends_with("?done=created"), "{to}");
        let a = srv.get(&format!("/api/v1/activities/{id}"), &admin).await.json;
        assert_eq!((&a["assigned_to"], &a["priority"], &a["tags"].as_array().unwrap().len()), (&json!("ann"), &json!("high"), &2));

        let page = format!("/work/activities/{id}");
        let (status, html) = srv.page(&to, &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("Activity planned.") && html.contains("Line setup") && html.contains("New product launch"), "{html}");
        assert!(html.contains(">Kaizen</span>") && html.contains(">RCA</span>") && html.contains("color: #FFFFFF"), "chips: {html}");
        assert!(html.contains("Status: Planned") && html.contains("Priority: High") && html.contains("by admin"), "{html}");
        assert!(html.contains("id=\"to-in-progress\"") && html.contains("id=\"to-completed\""), "{html}");

        // The list, filtered by the assignee's name and a tag.
        let (status, html) = srv.page(&format!("/work/activities?assignee=ann&tag={kaizen}"), &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains(&format!("href=\"/work/activities/{id}\">Line setup</a>")) && html.contains("Showing 1–1 of 1 activity."), "{html}");
        assert!(html.contains("href=\"/api/v1/activities/export?assigned_to_id="), "{html}");
        let (status, html) = srv.page("/work/activities?assignee=nobody-at-all", &admin).await;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"assignee-error\"") && html.contains("value=\"nobody-at-all\""), "{html}");
        let (status, _, csv) = srv.download(&format!("/api/v1/activities/export?tag_id={kaizen}"), Some(&admin)).await;
        assert_eq!(status, 200);
        assert!(String::from_utf8(csv).unwrap().contains("Line setup"));

        // A quick status change with a note joins the timeline.
        let (status, to, html) = srv.submit(&format!("{page}/status"), &admin, &[("csrf", &token), ("version", "1"), ("status", "in-progress"), ("note", "Crew on site")]).await;
        assert_eq!((status, to.as_str()), (303, format!("{page}?done=status").as_str()), "{html}");
        let (_, html) = srv.page(&page, &admin).await;
        assert!(html.contains("Status: In progress") && html.contains("Crew on site"), "{html}");
        assert!(html.find("Status: In progress").unwrap() < html.find("Status: Planned").unwrap(), "newest first");

        // Edited: a priority change with its reason; a stale version changes nothing.
        let edit = format!("{page}/edit");
        let (status, html) = srv.page(&edit, &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains("name=\"version\" value=\"2\"") && html.contains("value=\"ann\"") && html.contains(&format!("value=\"{start}\"")), "{html}");
        let form = |version: &'static str, title: &'static str| vec![("csrf", token.clone()), ("version", version.into()), ("title", title.into()),
            ("type", "Production".into()), ("status", "in-progress".into()), ("priority", "urgent".into()), ("reason", "Launch moved up".into()),
            ("start_time", start.clone()), ("end_time", end.clone()), ("assignee", "ann".into()), ("tags", kaizen.clone())];
        let f1 = form("2", "Line setup B");
        let f1: Vec<(&str, &str)> = f1.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, to, html) = srv.submit(&edit, &admin, &f1).await;
        assert_eq!((status, to.as_str()), (303, format!("{page}?done=saved").as_str()), "{html}");
        let (_, html) = srv.page(&to, &admin).await;
        assert!(html.contains("Activity saved.") && html.contains("Priority: Urgent") && html.contains("Launch moved up") && !html.contains(">RCA</span>"), "{html}");
        let f2 = form("2", "Line setup C");
        let f2: Vec<(&str, &str)> = f2.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, html) = srv.submit(&edit, &admin, &f2).await;
        assert_eq!(status, 412);
        assert!(html.contains("Someone else changed this record") && html.contains("value=\"Line setup B\"") && html.contains("name=\"version\" value=\"3\""), "{html}");

        // A refused form keeps what was typed and says what is wrong next to the field.
        let (status, _, html) = srv.submit("/work/activities", &admin, &[("csrf", &token), ("title", "Backwards plan"),
            ("type", "Quality"), ("status", "planned"), ("priority", "low"), ("start_time", &tomorrow_at("10:00")),
            ("end_time", &tomorrow_at("08:00")), ("assignee", "ann"), ("repeat", "none")]).await;
        assert_eq!(status, 422);
        assert!(html.contains("value=\"Backwards plan\"") && html.contains("id=\"end_time-error\"") && html.contains("must not be before the start"), "{html}");
        let (status, _, html) = srv.submit("/work/activities", &admin, &[("csrf", &token), ("title", ""),
            ("type", "Quality"), ("start_time", "soon"), ("end_time", ""), ("assignee", "zed"), ("repeat", "none")]).await;
        assert_eq!(status, 422);
        for field in ["title", "start_time", "end_time", "assignee"] {
            assert!(html.contains(&format!("id=\"{field}-error\"")), "{field}: {html}");
        }
        assert!(html.contains("value=\"soon\"") && html.contains("value=\"zed\""), "{html}");

        // Bob sees neither the page nor the form of an activity that is not his.
        assert_eq!(srv.page(&page, &bob).await.0, 404);
        assert_eq!(srv.page(&edit, &bob).await.0, 404);
        let (status, html) = srv.page("/work/activities", &bob).await;
        assert_eq!(status, 200);
        assert!(!html.contains("Line setup") && html.contains("No activities match."), "{html}");

        // A weekly series says how it repeats; deleting this and the following ends it.
        let until = (Utc::now() + Duration::days(30)).date_naive().to_string();
        let (status, to, html) = srv.submit("/work/activities", &admin, &[("csrf", &token), ("title", "Weekly audit"),
            ("type", "Inspection & Audit"), ("status", "planned"), ("priority", "medium"), ("start_time", &tomorrow_at("07:00")),
            ("end_time", &tomorrow_at("08:00")), ("assignee", ""), ("repeat", "every"), ("every", "2"), ("unit", "weeks"), ("until", &until)]).await;
        assert_eq!(status, 303, "{html}");
        assert!(to.ends_with("?done=series"), "{to}");
        let series = id_in(&to, "/work/activities/");
        let (_, html) = srv.page(&to, &admin).await;
        assert!(html.contains(&format!("Every 2 weeks until {until}")) && amp(&html, "Inspection & Audit"), "{html}");
        let (_, html) = srv.page(&format!("/work/activities/{series}/edit"), &admin).await;
        assert!(html.contains("name=\"scope\" value=\"following\""), "{html}");
        let (status, to, _) = srv.submit(&format!("/work/activities/{series}/delete"), &admin, &[("csrf", &token), ("version", "1"), ("scope", "following")]).await;
        assert_eq!((status, to.as_str()), (303, "/work/activities?done=deleted"));
        let left = srv.get("/api/v1/activities?q=weekly", &admin).await.json;
        assert_eq!(left["total"], 0, "{left:?}");
    }

    async fn my_work_and_the_calendar(srv) {
        let admin = srv.admin_token().await;
        let at = |h: i64| (Utc::now() + Duration::hours(h)).to_rfc3339();
        let late = srv.create("/api/v1/activities", &admin, json!({"title": "Late inspection", "type": "Inspection & Audit",
            "start_time": at(1), "end_time": at(2)})).await;
        let past = (Utc::now() - Duration::hours(1)).timestamp_micros();
        use sea_orm::ConnectionTrait;
        srv.state.db.write().execute_unprepared(&format!(
            "UPDATE activities SET start_time = {}, end_time = {past} WHERE id = {late}", past - 3_600_000_000)).await.unwrap();
        // At most one: the server's own sweep (each minute) may have taken it first.
        assert!(nexus_work::service::sweep_overdue(&srv.state).await.unwrap() <= 1);

        let (status, html) = srv.page("/work/my", &admin).await;
        assert_eq!(status, 200);
        let overdue = between(&html, "id=\"overdue-activities\"", "</section>");
        assert!(overdue.contains("Late inspection") && overdue.contains("Overdue"), "{overdue}");
        assert!(html.contains("data-live-events=\"activity.created") && html.contains("No task past its due date."), "{html}");

        // An activity on a known day, in the week and the month it falls in.
        let day: Value = json!({"title": "Kiln relining", "type": "Maintenance", "start_time": "2026-03-10T09:00:00Z", "end_time": "2026-03-10T11:00:00Z"});
        let kiln = srv.create("/api/v1/activities", &admin, day).await;
        let (status, html) = srv.page("/work/calendar?week=2026-03-12", &admin).await;
        assert_eq!(status, 200);
        let tuesday = between(&html, "id=\"d2026-03-10\"", "id=\"d2026-03-11\"");
        assert!(tuesday.contains(&format!("href=\"/work/activities/{kiln}\">Kiln relining</a>")) && tuesday.contains("09:00–11:00"), "{html}");
        assert!(html.contains("id=\"d2026-03-09\"") && html.contains("id=\"d2026-03-15\"") && !html.contains("id=\"d2026-03-16\""), "Monday to Sunday");
        assert!(html.contains("href=\"/work/calendar?week=2026-03-02\"") && html.contains("href=\"/work/calendar?week=2026-03-16\""), "{html}");
        let (status, html) = srv.page("/work/calendar?view=month&month=2026-03", &admin).await;
        assert_eq!(status, 200);
        let tuesday = between(&html, "id=\"d2026-03-10\"", "id=\"d2026-03-11\"");
        assert!(tuesday.contains("Kiln relining") && html.contains("March 2026") && html.contains("id=\"d2026-03-31\""), "{html}");
        let (_, html) = srv.page("/work/calendar?view=month&month=2026-03&type=Quality", &admin).await;
        assert!(!html.contains("Kiln relining"), "filtered by type");
        // Someone else's calendar does not show it.
        let carl = srv.user_token(&admin, "carl", "user").await;
        let (status, html) = srv.page("/work/calendar?week=2026-03-10", &carl).await;
        assert_eq!(status, 200);
        assert!(!html.contains("Kiln relining"));
    }

    async fn tags_page_creates_changes_and_refuses(srv) {
        let admin = srv.admin_token().await;
        let (status, html) = srv.page("/work/tags", &admin).await;
        assert_eq!(status, 200);
        assert!(html.contains(">Kaizen</span>") && html.contains("type=\"color\""), "{html}");
        let token = csrf(&html);
        let (status, to, html) = srv.submit("/work/tags", &admin, &[("csrf", &token), ("name", "Safety"), ("color", "#facc15"), ("category", "EHS")]).await;
        assert_eq!(status, 303, "{html}");
        assert!(to.starts_with("/work/tags?done=created#t"), "{to}");
        let id = id_in(&to, "/work/tags?done=created#t");
        let (_, html) = srv.page("/work/tags?done=created", &admin).await;
        assert!(html.contains("Tag created.") && html.contains("background: #FACC15; color: #000000\">Safety</span>"), "{html}");

        let (status, _, html) = srv.submit("/work/tags", &admin, &[("csrf", &token), ("name", "safety"), ("color", "#000000")]).await;
        assert_eq!(status, 409);
        assert!(html.contains("id=\"name-error\"") && html.contains("value=\"safety\""), "{html}");

        // Changed in its row; a duplicate name is marked on that row's field.
        let row = format!("/work/tags/{id}");
        let (status, to, _) = srv.submit(&row, &admin, &[("csrf", &token), ("version", "1"), ("name", "Safety walk"), ("color", "#16a34a"), ("category", "")]).await;
        assert_eq!((status, to.as_str()), (303, format!("/work/tags?done=saved#t{id}").as_str()));
        let (status, _, html) = srv.submit(&row, &admin, &[("csrf", &token), ("version", "2"), ("name", "kaizen"), ("color", "#16a34a")]).await;
        assert_eq!(status, 409);
        assert!(html.contains(&format!("id=\"name-{id}-error\"")) && html.contains("value=\"kaizen\""), "{html}");
        let (status, _, html) = srv.submit(&row, &admin, &[("csrf", &token), ("version", "1"), ("name", "Old")]).await;
        assert_eq!(status, 412);
        assert!(html.contains("Someone else changed this record"), "{html}");

        let (status, to, _) = srv.submit(&format!("{row}/delete"), &admin, &[("csrf", &token), ("version", "2")]).await;
        assert_eq!((status, to.as_str()), (303, "/work/tags?done=deleted"));
        let (_, html) = srv.page("/work/tags", &admin).await;
        assert!(!html.contains("Safety walk"));

        // Tags are for those who may change them.
        let dora = srv.user_token(&admin, "dora", "user").await;
        assert_eq!(srv.page("/work/tags", &dora).await.0, 403);
        let (_, html) = srv.page("/work/my", &dora).await;
        assert!(html.contains("href=\"/work/calendar\"") && !html.contains("href=\"/work/tags\""), "nav: {html}");
    }
}

/// Every work page at phone and desk width in Chromium: it fits the screen, leaves
/// nothing on the console and passes axe-core without a serious or critical violation
/// (labels, contrast of the tag chips and status colours).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fit_phones_and_pass_axe() {
    use nexus_server::testing::browser::{
        self, Screen, Step, appears, console_errors, fits, goto, sign_in,
    };
    let Some(axe) = browser::axe_source() else {
        return;
    };
    let sessions = [("phone", Screen::Phone), ("desk", Screen::Desk)];
    browser::run_on_sqlite(&sessions, async |clients: &[fantoccini::Client], srv: &TestServer| -> Step {
        let admin = srv.admin_token().await;
        let kaizen: i64 = tag_id(srv, &admin, "Kaizen").await.parse().unwrap();
        let blocked: i64 = tag_id(srv, &admin, "Blocked").await.parse().unwrap();
        let at = |h: i64| (Utc::now() + Duration::hours(h)).to_rfc3339();
        let a = srv.create("/api/v1/activities", &admin, json!({"title": "Line setup with a rather long title that wraps on a phone",
            "type": "Inspection & Audit", "priority": "urgent", "start_time": at(2), "end_time": at(4), "tag_ids": [kaizen, blocked],
            "recurrence": {"every": 1, "unit": "weeks"}})).await;
        srv.create("/api/v1/activities", &admin, json!({"title": "Kiln check", "type": "Maintenance", "status": "in-progress",
            "start_time": at(26), "end_time": at(27)})).await;
        let month = Utc::now().format("%Y-%m").to_string();
        let pages = [
            "/work/my".to_string(),
            "/work/activities".into(),
            "/work/activities/new".into(),
            format!("/work/activities/{a}"),
            format!("/work/activities/{a}/edit"),
            "/work/calendar".into(),
            format!("/work/calendar?view=month&month={month}"),
            "/work/tags".into(),
        ];
        for (c, (name, _)) in clients.iter().zip(sessions) {
            goto(c, &format!("{}/work/my", srv.base_url)).await?;
            sign_in(c, "admin", nexus_server::testing::ADMIN_PASSWORD).await?;
            appears(c, "#my-work").await?;
            for page in &pages {
                goto(c, &format!("{}{page}", srv.base_url)).await?;
                appears(c, "main h1").await?;
                fits(c).await.map_err(|e| format!("{name} {page}: {e}"))?;
                for v in browser::axe(c, &axe).await? {
                    if v.impact == "serious" || v.impact == "critical" {
                        return Err(format!("{name} {page}: {} ({}): {} at {:?}", v.id, v.impact, v.help, v.targets));
                    }
                }
                let errors = console_errors(c).await?;
                if !errors.is_empty() {
                    return Err(format!("{name} {page}: console: {errors:?}"));
                }
            }
        }
        Ok(())
    })
    .await;
}
