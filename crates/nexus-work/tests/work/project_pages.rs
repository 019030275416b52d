//! The pages of projects and tasks: a project made through its form (budget typed in
//! currency units), the team chosen by name, tasks, dependencies with the cycle refused
//! in words, the tasks a change moved named on the page, time logged, the board, and who
//! sees and changes what; through real HTTP on SQLite and PostgreSQL.

use nexus_server::backend_tests;
use nexus_server::testing::{TestServer, csrf};
use serde_json::Value;

/// The id at the end of a redirect to `prefix<id>?...`.
fn id_in(to: &str, prefix: &str) -> i64 {
    let rest = to
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{to} starts with {prefix}"));
    rest.split(['?', '#', '&', '/'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
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

/// The tasks of project `pid` by title: (id, version).
async fn task_of(srv: &TestServer, token: &str, pid: i64, title: &str) -> (i64, i64) {
    let list = srv
        .get(&format!("/api/v1/projects/{pid}/tasks"), token)
        .await
        .json;
    let t: &Value = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == title)
        .unwrap_or_else(|| panic!("{title} in {list}"));
    (t["id"].as_i64().unwrap(), t["version"].as_i64().unwrap())
}

/// Follows a redirect: the page it points to.
async fn follow(srv: &TestServer, token: &str, to: &str) -> String {
    let (status, html) = srv.page(to, token).await;
    assert_eq!(status, 200, "{to}: {html}");
    html
}

/// Creates a project as the user of `token` through the form; its id.
async fn new_project(srv: &TestServer, token: &str, name: &str) -> i64 {
    let (_, html) = srv.page("/work/projects/new", token).await;
    let (status, to, html) = srv
        .submit(
            "/work/projects",
            token,
            &[
                ("csrf", &csrf(&html)),
                ("name", name),
                ("status", "active"),
                ("priority", "high"),
                ("start_date", "2026-03-02"),
                ("end_date", "2026-06-30"),
                ("manager", ""),
                ("budget", "12,500.00"),
                ("description", "Retrofit of line 4"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{html}");
    assert!(to.ends_with("?done=created"), "{to}");
    id_in(&to, "/work/projects/")
}

async fn add_task(srv: &TestServer, token: &str, pid: i64, form: &[(&str, &str)]) {
    let (_, html) = srv.page(&format!("/work/projects/{pid}"), token).await;
    let token_csrf = csrf(&html);
    let mut fields = vec![("csrf", token_csrf.as_str()), ("priority", "medium")];
    fields.extend_from_slice(form);
    let (status, to, html) = srv
        .submit(&format!("/work/projects/{pid}/tasks"), token, &fields)
        .await;
    assert_eq!(status, 303, "{html}");
    assert!(to.contains("done=task"), "{to}");
}

backend_tests! {
    async fn plan_a_project_through_its_pages(srv) {
        let admin = srv.admin_token().await;
        let mia_id = srv.create_user(&admin, "mia", "staff").await;
        let mia = srv.login("mia", "mia-password").await;
        let ann_id = srv.create_user(&admin, "ann", "user").await;
        let ann = srv.login("ann", "ann-password").await;
        let (mia_s, ann_s) = (mia_id.to_string(), ann_id.to_string());

        // The list offers a new project; the form takes the budget in currency units.
        let (status, html) = srv.page("/work/projects", &mia).await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"new-project\""), "{html}");
        let pid = new_project(srv, &mia, "Line 4 retrofit").await;
        let p = srv.get(&format!("/api/v1/projects/{pid}"), &mia).await.json;
        assert_eq!((&p["budget_minor"], &p["manager"], &p["status"]), (&Value::from(1_250_000), &Value::from("mia"), &Value::from("active")));
        let html = follow(srv, &mia, &format!("/work/projects/{pid}?done=created")).await;
        assert!(html.contains("Project created.") && html.contains("12,500.00") && html.contains("Active"), "{html}");
        assert!(html.contains("data-live-events=\"project.updated") && html.contains("Gantt chart of Line 4 retrofit"), "{html}");
        let (_, list) = srv.page("/work/projects?status=active&manager=mia", &mia).await;
        assert!(list.contains(&format!("href=\"/work/projects/{pid}\">Line 4 retrofit</a>")), "{list}");

        // The team: a person chosen by name.
        let token = csrf(&html);
        let (status, to, page) = srv.submit(&format!("/work/projects/{pid}/team"), &mia, &[("csrf", &token), ("member", "Ann")]).await;
        assert_eq!(status, 303, "{page}");
        let html = follow(srv, &mia, &to).await;
        assert!(between(&html, "id=\"team-list\"", "</ul>").contains("ann"), "{html}");
        let (status, _, page) = srv.submit(&format!("/work/projects/{pid}/team"), &mia, &[("csrf", &token), ("member", "nobody-here")]).await;
        assert_eq!(status, 422);
        assert!(page.contains("id=\"member-error\"") && page.contains("value=\"nobody-here\""), "{page}");

        // Tasks, one assigned to ann (chosen by name from the team).
        assert!(html.contains(&format!("<option value=\"{ann_s}\">ann</option>")), "{html}");
        add_task(srv, &mia, pid, &[("title", "Design"), ("assignee", &ann_s), ("start_date", "2026-03-02"), ("due_date", "2026-03-04"), ("estimated_hours", "8")]).await;
        add_task(srv, &mia, pid, &[("title", "Paint"), ("assignee", ""), ("start_date", "2026-03-05"), ("due_date", "2026-03-06"), ("estimated_hours", "4,5")]).await;
        add_task(srv, &ann, pid, &[("title", "Assemble"), ("assignee", &mia_s), ("start_date", "2026-03-07"), ("due_date", "2026-03-09"), ("estimated_hours", "")]).await;
        let (design, _) = task_of(srv, &mia, pid, "Design").await;
        let (paint, _) = task_of(srv, &mia, pid, "Paint").await;
        let (assemble, _) = task_of(srv, &mia, pid, "Assemble").await;
        let (design_s, paint_s, assemble_s) = (design.to_string(), paint.to_string(), assemble.to_string());

        // A refused task keeps what was typed.
        let (status, _, page) = srv.submit(&format!("/work/projects/{pid}/tasks"), &mia, &[("csrf", &token), ("title", "Inspect"), ("start_date", "2026-03-09"), ("due_date", "2026-03-01"), ("estimated_hours", "lots")]).await;
        assert_eq!(status, 422, "{page}");
        assert!(page.contains("id=\"due_date-error\"") && page.contains("id=\"estimated_hours-error\"") && page.contains("value=\"Inspect\"") && page.contains("value=\"lots\""), "{page}");
        assert!(page.contains("must not be before the start date"), "{page}");

        // Dependencies chosen by title: Paint follows Design, Assemble follows Paint.
        let dep = format!("/work/projects/{pid}/dependencies");
        for (pred, succ) in [(&design_s, &paint_s), (&paint_s, &assemble_s)] {
            let (status, to, page) = srv.submit(&dep, &mia, &[("csrf", &token), ("predecessor", pred), ("successor", succ), ("kind", "finish-to-start"), ("lag_days", "0")]).await;
            assert_eq!(status, 303, "{page}");
            assert!(to.contains("done=dependency"), "{to}");
        }
        let html = follow(srv, &mia, &format!("/work/projects/{pid}")).await;
        assert!(html.contains(&format!("<option value=\"{design_s}\">Design</option>")), "{html}");
        let deps = between(&html, "id=\"dependency-list\"", "</ul>");
        assert!(deps.contains(&format!("Paint</a> starts after <a href=\"/work/tasks/{design}\">Design</a> finishes")) && deps.contains("Assemble"), "{deps}");

        // The cycle is refused, named next to the field, the choices kept.
        let (status, _, page) = srv.submit(&dep, &mia, &[("csrf", &token), ("predecessor", &assemble_s), ("successor", &design_s), ("kind", "finish-to-start"), ("lag_days", "0")]).await;
        assert_eq!(status, 422, "{page}");
        let error = between(&page, "id=\"successor-error\">", "</p>");
        assert!(error.contains(&format!("would close the cycle Design (#{design}) → Paint (#{paint}) → Assemble (#{assemble}) → Design (#{design})")), "{error}");
        assert!(page.contains(&format!("<option value=\"{assemble_s}\" selected>Assemble</option>")), "{page}");

        // Moving Design later moves its followers, and the page says where to.
        let (_, html) = srv.page(&format!("/work/tasks/{design}"), &mia).await;
        let form = between(&html, "id=\"task-form\"", "</form>");
        let version = between(form, "name=\"version\" value=\"", "\">").trim_start_matches("name=\"version\" value=\"").to_string();
        let (status, to, page) = srv.submit(&format!("/work/tasks/{design}/edit"), &mia, &[("csrf", &token), ("version", &version), ("title", "Design"),
            ("status", "in-progress"), ("priority", "high"), ("assignee", &ann_s), ("start_date", "2026-03-02"), ("due_date", "2026-03-10"), ("estimated_hours", "8"), ("description", "")]).await;
        assert_eq!(status, 303, "{page}");
        let html = follow(srv, &mia, &to).await;
        assert!(html.contains("Task saved. Moved 2 following tasks: Paint (now 11–12 Mar 2026), Assemble (now 13–15 Mar 2026)."), "{html}");
        // The same form sent again is stale: the current values come back with a message.
        let (status, _, page) = srv.submit(&format!("/work/tasks/{design}/edit"), &mia, &[("csrf", &token), ("version", &version), ("title", "Old title"),
            ("status", "todo"), ("priority", "low"), ("start_date", "2026-03-02"), ("due_date", "2026-03-04")]).await;
        assert_eq!(status, 412, "{page}");
        assert!(page.contains("Someone else changed this record") && page.contains("value=\"2026-03-10\"") && !page.contains("Old title"), "{page}");

        // Time logged by ann herself, and by the manager for ann.
        let (_, html) = srv.page(&format!("/work/tasks/{design}"), &ann).await;
        assert!(!html.contains("id=\"person\""), "only the manager chooses who worked: {html}");
        let ann_token = csrf(&html);
        let today = chrono::Utc::now().date_naive().to_string();
        let (status, to, page) = srv.submit(&format!("/work/tasks/{design}/worklogs"), &ann, &[("csrf", &ann_token), ("hours", "2.5"), ("worked_on", &today), ("note", "Drawings")]).await;
        assert_eq!(status, 303, "{page}");
        follow(srv, &ann, &to).await;
        let (status, _, page) = srv.submit(&format!("/work/tasks/{design}/worklogs"), &ann, &[("csrf", &ann_token), ("hours", "30"), ("worked_on", &today), ("note", "Too long a day")]).await;
        assert_eq!(status, 422);
        assert!(page.contains("id=\"hours-error\"") && page.contains("value=\"Too long a day\""), "{page}");
        let (_, html) = srv.page(&format!("/work/tasks/{design}"), &mia).await;
        assert!(html.contains("id=\"person\""), "{html}");
        let (status, _, page) = srv.submit(&format!("/work/tasks/{design}/worklogs"), &mia, &[("csrf", &token), ("hours", "1.5"), ("worked_on", &today), ("person", &ann_s)]).await;
        assert_eq!(status, 303, "{page}");
        let html = follow(srv, &mia, &format!("/work/tasks/{design}")).await;
        assert!(html.contains("8 h estimated, 4 h logged") && html.contains("4 h in all: ann 4 h."), "{html}");
        let html = follow(srv, &mia, &format!("/work/projects/{pid}")).await;
        let people = between(&html, "id=\"person-hours\"", "</table>");
        assert!(people.contains("<td>ann</td><td>8 h</td><td>4 h</td>"), "{people}");

        // ann still has open work: she stays on the team, and the page says why.
        let (status, _, page) = srv.submit(&format!("/work/projects/{pid}/team/{ann_id}/remove"), &mia, &[("csrf", &token)]).await;
        assert_eq!(status, 409, "{page}");
        assert!(page.contains(&format!("ann is still assigned to open tasks: Design (#{design}); reassign them first.")), "{page}");

        // The board: a card moved to another column.
        let (status, html) = srv.page(&format!("/work/projects/{pid}/board"), &mia).await;
        assert_eq!(status, 200);
        assert!(between(&html, "id=\"col-todo\"", "</section>").contains("Paint"), "{html}");
        let (_, version) = task_of(srv, &mia, pid, "Paint").await;
        let (status, to, page) = srv.submit(&format!("/work/tasks/{paint}/status"), &mia, &[("csrf", &token), ("version", &version.to_string()), ("status", "blocked")]).await;
        assert_eq!(status, 303, "{page}");
        let html = follow(srv, &mia, &to).await;
        assert!(html.contains("Task moved.") && between(&html, "id=\"col-blocked\"", "</section>").contains("Paint"), "{html}");
        assert!(!between(&html, "id=\"col-todo\"", "</section>").contains("Paint"), "{html}");

        // A new dependency pushes its follower later, and the page says where to.
        add_task(srv, &mia, pid, &[("title", "Inspect"), ("assignee", ""), ("start_date", "2026-03-01"), ("due_date", "2026-03-02")]).await;
        let (inspect, _) = task_of(srv, &mia, pid, "Inspect").await;
        let (status, to, page) = srv.submit(&dep, &mia, &[("csrf", &token), ("predecessor", &assemble_s), ("successor", &inspect.to_string()), ("kind", "finish-to-start"), ("lag_days", "1")]).await;
        assert_eq!(status, 303, "{page}");
        let html = follow(srv, &mia, &to).await;
        assert!(html.contains("Dependency added. Moved 1 following task: Inspect (now 17–18 Mar 2026)."), "{html}");

        // The schedule names the critical path.
        let (status, html) = srv.page(&format!("/work/projects/{pid}/schedule"), &mia).await;
        assert_eq!(status, 200);
        let path = between(&html, "id=\"critical-path\"", "</ol>");
        assert!(path.contains("Design") && path.contains("Paint") && path.contains("Assemble"), "{path}");
    }

    async fn who_sees_and_changes_what(srv) {
        let admin = srv.admin_token().await;
        srv.create_user(&admin, "mia", "staff").await;
        let mia = srv.login("mia", "mia-password").await;
        srv.create_user(&admin, "ann", "user").await;
        let ann = srv.login("ann", "ann-password").await;
        let eve = srv.user_token(&admin, "eve", "user").await;

        // A refused project keeps what was typed.
        let (_, html) = srv.page("/work/projects/new", &mia).await;
        let token = csrf(&html);
        let (status, _, page) = srv.submit("/work/projects", &mia, &[("csrf", &token), ("name", "Dock extension"), ("status", "planning"), ("priority", "low"),
            ("start_date", "2026-05-01"), ("end_date", "2026-04-01"), ("manager", "ghost"), ("budget", "12.345"), ("description", "Two more bays")]).await;
        assert_eq!(status, 422, "{page}");
        for field in ["end_date", "manager", "budget"] {
            assert!(page.contains(&format!("id=\"{field}-error\"")), "{field}: {page}");
        }
        assert!(page.contains("value=\"Dock extension\"") && page.contains("value=\"12.345\"") && page.contains("Two more bays") && page.contains("value=\"ghost\""), "{page}");

        let pid = new_project(srv, &mia, "Dock extension").await;
        let (_, html) = srv.page(&format!("/work/projects/{pid}"), &mia).await;
        let (status, _, _) = srv.submit(&format!("/work/projects/{pid}/team"), &mia, &[("csrf", &token), ("member", "ann")]).await;
        assert_eq!(status, 303);
        assert!(html.contains("id=\"cost-form\"") && html.contains("id=\"member-form\"") && html.contains("id=\"edit-project\""), "{html}");

        // Costs typed in currency units.
        let (status, _, page) = srv.submit(&format!("/work/projects/{pid}/costs"), &mia, &[("csrf", &token), ("amount", "1,250.50"), ("cost_description", "Concrete"), ("booked_on", "2026-01-10")]).await;
        assert_eq!(status, 303, "{page}");
        let (status, _, page) = srv.submit(&format!("/work/projects/{pid}/costs"), &mia, &[("csrf", &token), ("amount", "ten"), ("cost_description", ""), ("booked_on", "2026-01-10")]).await;
        assert_eq!(status, 422);
        assert!(page.contains("id=\"amount-error\"") && page.contains("id=\"cost_description-error\"") && page.contains("value=\"ten\""), "{page}");
        let html = follow(srv, &mia, &format!("/work/projects/{pid}")).await;
        assert!(between(&html, "id=\"cost-list\"", "</table>").contains("1,250.50") && html.contains("11,249.50 left"), "{html}");

        // A team member sees the project and works on tasks, but changes nothing else.
        let (status, html) = srv.page(&format!("/work/projects/{pid}"), &ann).await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"task-form\"") && !html.contains("id=\"cost-form\"") && !html.contains("id=\"member-form\"") && !html.contains("id=\"edit-project\""), "{html}");
        let ann_token = csrf(&html);
        let (status, _, page) = srv.submit(&format!("/work/projects/{pid}/costs"), &ann, &[("csrf", &ann_token), ("amount", "5"), ("cost_description", "Coffee")]).await;
        assert_eq!(status, 403, "{page}");
        let (status, _) = srv.page(&format!("/work/projects/{pid}/edit"), &ann).await;
        assert_eq!(status, 403);

        // Someone not on it: not there at all.
        add_task(srv, &mia, pid, &[("title", "Pour"), ("assignee", ""), ("start_date", "2026-05-04"), ("due_date", "2026-05-05")]).await;
        let (task, _) = task_of(srv, &mia, pid, "Pour").await;
        for path in [format!("/work/projects/{pid}"), format!("/work/projects/{pid}/board"), format!("/work/tasks/{task}"), format!("/work/projects/{pid}/schedule")] {
            let (status, _) = srv.page(&path, &eve).await;
            assert_eq!(status, 404, "{path}");
        }
        let (_, html) = srv.page("/work/projects", &eve).await;
        assert!(!html.contains("Dock extension"), "{html}");
        let eve_token = csrf(&html);
        let (status, _, _) = srv.submit(&format!("/work/projects/{pid}/tasks"), &eve, &[("csrf", &eve_token), ("title", "Sneak"), ("start_date", "2026-05-04")]).await;
        assert_eq!(status, 404);

        // The edit form: stale versions show the current values; then delete.
        let (status, html) = srv.page(&format!("/work/projects/{pid}/edit"), &mia).await;
        assert_eq!(status, 200);
        assert!(html.contains("value=\"12500.00\"") && html.contains("value=\"mia\""), "{html}");
        let edit = |version: &'static str, name: &'static str| [("csrf", token.clone()), ("version", version.to_string()), ("name", name.to_string()), ("status", "active".into()),
            ("priority", "high".into()), ("start_date", "2026-03-02".into()), ("end_date", "2026-06-30".into()), ("manager", "mia".into()), ("budget", "20000".into()), ("description", String::new())];
        let form = edit("1", "Dock extension II");
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, to, page) = srv.submit(&format!("/work/projects/{pid}/edit"), &mia, &pairs).await;
        assert_eq!(status, 303, "{page}");
        let html = follow(srv, &mia, &to).await;
        assert!(html.contains("Project saved.") && html.contains("20,000.00"), "{html}");
        let form = edit("1", "Dock extension III");
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, page) = srv.submit(&format!("/work/projects/{pid}/edit"), &mia, &pairs).await;
        assert_eq!(status, 412, "{page}");
        assert!(page.contains("Someone else changed this record") && page.contains("value=\"Dock extension II\""), "{page}");
        let version = srv.get(&format!("/api/v1/projects/{pid}"), &mia).await.json["version"].to_string();
        let (status, to, page) = srv.submit(&format!("/work/projects/{pid}/delete"), &mia, &[("csrf", &token), ("version", &version)]).await;
        assert_eq!(status, 303, "{page}");
        let html = follow(srv, &mia, &to).await;
        assert!(html.contains("Project deleted.") && !html.contains("Dock extension"), "{html}");
    }
}
