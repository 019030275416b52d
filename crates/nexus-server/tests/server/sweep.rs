//! The browser sweep: for each built-in role, at phone and at desk size, home and every
//! page of the navigation must answer 200, fit the screen, leave nothing on the browser's
//! console and pass axe-core without a serious or critical violation; and the navigation
//! shows exactly the pages the role's permissions open. The record pages and forms reached
//! from those pages get the same checks, except that they may refuse (403). Every fault is
//! collected, so one run lists them all. Skipped loudly without chromedriver unless
//! `NEXUS_REQUIRE_BROWSER=1`; axe-core comes from `NEXUS_AXE` or npm (`browser::axe_source`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use fantoccini::Client;
use nexus_server::testing::browser::{
    self, Driver, Screen, Step, appears, console_errors, find, goto, script, sign_in, sign_out,
    status,
};
use nexus_server::testing::{Backend, TestServer};
use serde_json::{Value, json};

/// Someone signed in for the sweep: their role and the pages their permissions open.
struct Person {
    role: String,
    username: String,
    may_use: BTreeSet<String>,
    /// A page of the navigation the role may not use, if any.
    barred: Option<String>,
}

/// Pages reached from a page of the navigation (records, boards, forms): visited with it.
type Further = BTreeMap<&'static str, Vec<String>>;

/// A little of everything, so lists show rows and cards rather than their empty states;
/// the pages of those records.
async fn seed(srv: &TestServer, admin: &str) -> Further {
    let location = srv
        .create("/api/v1/locations", admin, json!({"name": "Hall A"}))
        .await;
    let asset = srv
        .create(
            "/api/v1/assets",
            admin,
            json!({"name": "Press 1", "location_id": location, "serial_number": "SN-1001"}),
        )
        .await;
    let metric = json!({"metric_name": "temperature", "unit": "°C", "warning_threshold": 70.0, "critical_threshold": 90.0});
    srv.create(&format!("/api/v1/assets/{asset}/metrics"), admin, metric)
        .await;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let ts = now.as_millis() as i64;
    // Too hot: an alert opens.
    let points = json!({"points": [
        {"asset_id": asset, "metric": "temperature", "ts": ts - 60_000, "value": 65.0},
        {"asset_id": asset, "metric": "temperature", "ts": ts, "value": 95.5},
    ]});
    let res = srv.post("/api/v1/telemetry", admin, points).await;
    assert_eq!(res.status, 200, "readings: {:?}", res.json);
    let order = srv.create(
        "/api/v1/work-orders",
        admin,
        json!({"title": "Replace the hydraulic hose", "asset_id": asset, "priority": "high", "due_date": "2026-01-15"}),
    )
    .await;
    let part = srv
        .create(
            "/api/v1/parts",
            admin,
            json!({"sku": "BRG-6204", "name": "Bearing 6204", "unit_cost_cents": 1250, "reorder_point": 2}),
        )
        .await;
    let res = srv
        .post(
            &format!("/api/v1/parts/{part}/receive"),
            admin,
            json!({"location_id": location, "quantity": 5}),
        )
        .await;
    assert_eq!(res.status, 201, "receive: {:?}", res.json);
    srv.create(
        "/api/v1/pm-schedules",
        admin,
        json!({"asset_id": asset, "title": "Grease the bearings", "interval_value": 7, "interval_unit": "days", "next_due": "2027-01-04"}),
    )
    .await;
    let qr = srv
        .get(&format!("/api/v1/assets/{asset}"), admin)
        .await
        .json["qr_code"]
        .clone();
    let res = srv
        .call(
            "POST",
            "/api/v1/work-requests",
            None,
            Some(json!({"qr_code": qr, "title": "Oil on the floor", "requester_name": "Pat"})),
        )
        .await;
    assert_eq!(res.status, 201, "work request: {:?}", res.json);
    let centers = srv.get("/api/v1/work-centers", admin).await;
    let center = centers.json["items"][0]["id"]
        .as_i64()
        .expect("a work center");
    for (order, kind) in [("PO-1001", "IN"), ("PO-1001", "OUT"), ("PO-1002", "IN")] {
        let movement = json!({"production_order": order, "workcenter_id": center, "quantity": 12, "order_type": kind});
        srv.create("/api/v1/production-orders", admin, movement)
            .await;
    }
    let user = srv.get("/api/v1/users?limit=1", admin).await.json["items"][0]["id"].clone();
    Further::from([
        (
            "/maintenance/work-orders",
            vec![
                format!("/maintenance/work-orders/{order}"),
                "/maintenance/work-orders/board".into(),
                "/maintenance/work-orders/new".into(),
            ],
        ),
        (
            "/maintenance/assets",
            vec![
                format!("/maintenance/assets?location_id={location}"),
                format!("/maintenance/assets/{asset}"),
                "/maintenance/assets/new".into(),
                "/maintenance/asset-types".into(),
            ],
        ),
        (
            "/maintenance/parts",
            vec![format!("/maintenance/parts/{part}")],
        ),
        ("/alerts", vec![format!("/assets/{asset}/metrics")]),
        (
            "/admin/users",
            vec!["/admin/users/new".into(), format!("/admin/users/{user}")],
        ),
    ])
}

/// A project with everyone of the sweep on its team, with a task and an activity, so each
/// role sees their pages (a user sees only the work of their projects): those pages.
async fn seed_work(srv: &TestServer, admin: &str, people: &[Person]) -> Further {
    let project = srv
        .create(
            "/api/v1/projects",
            admin,
            json!({"name": "Line 3 retrofit", "start_date": "2031-03-01", "end_date": "2031-06-30", "budget_minor": 2_500_000}),
        )
        .await;
    for person in people.iter().filter(|p| p.role != "admin") {
        let found = srv
            .get(&format!("/api/v1/users?q={}", person.username), admin)
            .await;
        let id = found.json["items"][0]["id"].clone();
        let res = srv
            .post(
                &format!("/api/v1/projects/{project}/team"),
                admin,
                json!({"user_id": id}),
            )
            .await;
        assert!(res.status < 300, "team: {:?}", res.json);
    }
    let task = srv
        .create(
            &format!("/api/v1/projects/{project}/tasks"),
            admin,
            json!({"title": "Remove the old conveyor", "start_date": "2031-03-02", "due_date": "2031-03-05", "estimated_hours": 6}),
        )
        .await;
    let activity = srv
        .create(
            "/api/v1/activities",
            admin,
            json!({"title": "Retrofit kick-off", "type": "Meetings", "start_time": "2031-03-01T08:00:00Z",
                   "end_time": "2031-03-01T09:00:00Z", "project_ids": [project]}),
        )
        .await;
    Further::from([
        (
            "/work/activities",
            vec![
                format!("/work/activities/{activity}"),
                "/work/activities/new".into(),
            ],
        ),
        (
            "/work/projects",
            vec![
                format!("/work/projects/{project}"),
                format!("/work/projects/{project}/board"),
                format!("/work/projects/{project}/schedule"),
                format!("/work/tasks/{task}"),
            ],
        ),
    ])
}

/// Whether the permissions `held` grant `permission`: itself, `resource:*` or `*`.
fn can(held: &BTreeSet<&str>, permission: &str) -> bool {
    let (resource, _) = permission.split_once(':').unwrap_or((permission, ""));
    held.contains("*")
        || held.contains(permission)
        || held.contains(format!("{resource}:*").as_str())
}

/// One person per built-in role, as the server seeded them, with what they may open.
async fn people(srv: &TestServer, admin: &str) -> Vec<Person> {
    let roles = srv.get("/api/v1/roles?limit=500", admin).await;
    let builtin: Vec<String> = roles.json["items"]
        .as_array()
        .expect("roles")
        .iter()
        .filter(|r| r["is_builtin"] == true)
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect();
    assert!(builtin.len() >= 5, "the built-in roles: {builtin:?}");
    let mut out = Vec::new();
    for role in builtin {
        let username = format!("sweep{role}");
        let token = srv.user_token(admin, &username, &role).await;
        let me = srv.get("/api/v1/auth/me", &token).await;
        let held: BTreeSet<&str> = me.json["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let (open, barred): (Vec<_>, Vec<_>) = nexus_server::DOMAINS
            .iter()
            .flat_map(|d| d.nav)
            .flat_map(|section| section.links)
            .partition(|link| link.permission.is_none_or(|p| can(&held, p)));
        out.push(Person {
            role,
            username,
            may_use: open.iter().map(|link| link.href.to_string()).collect(),
            barred: barred.first().map(|link| link.href.to_string()),
        });
    }
    out
}

/// Why the page is wider than the screen: its width and the elements sticking out. The
/// layout viewport's width (`clientWidth`), not `innerWidth`, which an emulated phone
/// widens to fit whatever sticks out.
const TOO_WIDE: &str = r##"
const width = document.documentElement.clientWidth;
if (document.documentElement.scrollWidth <= width) { return null; }
const out = [];
for (const el of document.querySelectorAll("body *")) {
  const box = el.getBoundingClientRect();
  if (box.right > width + 1 && box.width > 0) {
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (el.classList.length ? "." + [...el.classList].join(".") : "");
    out.push(name + " (" + Math.round(box.right) + "px)");
  }
}
return document.documentElement.scrollWidth + "px wide: " + out.slice(0, 6).join(", ");
"##;

/// Tables that are not what the screen wants (`arguments[0]`: a phone): on a phone each
/// row a card (a block) whose cells carry their column's heading, on a desk a table.
const NOT_CARDS: &str = r##"
const phone = arguments[0];
const wrong = [];
for (const table of document.querySelectorAll("table:not(.no-cards)")) {
  const row = table.tBodies[0] && table.tBodies[0].rows[0];
  const head = table.tHead && table.tHead.rows[0];
  if (!row || !head) { continue; }
  const name = table.id ? "#" + table.id : "a table";
  const display = getComputedStyle(row).display;
  if (display !== (phone ? "block" : "table-row")) {
    wrong.push(name + "'s rows show as " + display);
  }
  [...row.cells].forEach((cell, i) => {
    const heading = head.cells[i] ? head.cells[i].textContent.trim() : "";
    if (cell.colSpan === 1 && heading && cell.dataset.label !== heading) {
      wrong.push(name + ": a cell of " + heading + " is labelled " + cell.dataset.label);
    }
  });
}
return wrong;
"##;

/// Each fault found, with who met it ("Phone staff", ...); or each minor accessibility
/// finding, with the pages it was found on.
type Faults = BTreeMap<String, BTreeSet<String>>;

/// What one person's round found: faults, and lesser accessibility findings.
#[derive(Default)]
struct Findings {
    faults: Vec<String>,
    minor: Faults,
}

/// Checks what the browser shows now, `place`: it fits the screen and axe-core finds no
/// serious or critical violation; adds what it finds to `found`.
async fn check_shown(c: &Client, place: &str, axe: Option<&str>, found: &mut Findings) -> Step {
    if let Value::String(why) = script(c, TOO_WIDE).await? {
        found
            .faults
            .push(format!("{place}: wider than the screen, {why}"));
    }
    let Some(axe) = axe else { return Ok(()) };
    for v in browser::axe(c, axe).await? {
        if v.impact == "serious" || v.impact == "critical" {
            found.faults.push(format!(
                "{place}: axe {} ({}): {}; {} element(s): {}",
                v.id,
                v.impact,
                v.help,
                v.count,
                v.targets.join(" | ")
            ));
        } else {
            let what = format!("{} ({}): {}", v.id, v.impact, v.help);
            found
                .minor
                .entry(what)
                .or_default()
                .insert(place.to_string());
        }
    }
    Ok(())
}

/// Visits one page and adds what is wrong with it to `found`: not answered 200 (or 403
/// when `may_refuse`), no shell, too wide, inaccessible, anything on the console.
async fn check_page(
    c: &Client,
    screen: Screen,
    base: &str,
    path: &str,
    may_refuse: bool,
    axe: Option<&str>,
    found: &mut Findings,
) -> Step {
    goto(c, &format!("{base}{path}")).await?;
    appears(c, "body")
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    let code = status(c).await?;
    if find(c, "main").await.is_err() {
        found
            .faults
            .push(format!("{path}: no <main> (answered {code})"));
    }
    if code != 200 && !(may_refuse && code == 403) {
        found.faults.push(format!("{path}: answered {code}"));
    }
    check_shown(c, path, axe, found).await?;
    let phone = matches!(screen, Screen::Phone);
    let tables = c
        .execute(NOT_CARDS, vec![json!(phone)])
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    for wrong in tables.as_array().into_iter().flatten() {
        found
            .faults
            .push(format!("{path}: {}", wrong.as_str().unwrap_or_default()));
    }
    for error in console_errors(c).await? {
        // A refusal is logged as a failed load; it is what was asked for.
        if !(code == 403 && error.contains("status of 403")) {
            found.faults.push(format!("{path}: console: {error}"));
        }
    }
    Ok(())
}

/// Everyone in turn in one browser: sign in, check the navigation, visit home and each of
/// its pages, sign out. The faults found, the minor accessibility findings (which page)
/// and how many pages were seen.
async fn sweep(
    c: &Client,
    srv: &TestServer,
    screen: Screen,
    people: &[Person],
    further: &Further,
    axe: Option<&str>,
) -> Step<(Faults, Faults, usize)> {
    let base = &srv.base_url;
    let mut all = Faults::new();
    let mut minor = Faults::new();
    let mut visited = 0;
    for person in people {
        let mut found = Findings::default();
        goto(c, &format!("{base}/login")).await?;
        sign_in(
            c,
            &person.username,
            &format!("{}-password", person.username),
        )
        .await?;
        appears(c, "#sidebar").await?;
        // What the sign-in page left on the console belongs to it.
        for error in console_errors(c).await? {
            found.faults.push(format!("/login: console: {error}"));
        }
        let links = script(
            c,
            "return [...document.querySelectorAll('#sidebar a')].map((a) => a.getAttribute('href'));",
        )
        .await?;
        let links: Vec<String> = serde_json::from_value(links).map_err(|e| e.to_string())?;
        let shown: BTreeSet<String> = links.iter().filter(|h| *h != "/").cloned().collect();
        for extra in shown.difference(&person.may_use) {
            found.faults.push(format!(
                "navigation shows {extra}, which the role may not use"
            ));
        }
        for missing in person.may_use.difference(&shown) {
            found.faults.push(format!(
                "navigation lacks {missing}, which the role may use"
            ));
        }
        // On a phone the navigation is a drawer behind the Menu button: it opens, fits
        // and passes axe-core too.
        if matches!(screen, Screen::Phone) {
            browser::click(c, ".menu-toggle").await?;
            let open = script(
                c,
                "return document.getElementById('sidebar').offsetHeight > 0;",
            )
            .await?;
            if open != true {
                found
                    .faults
                    .push("the Menu button does not open the navigation".into());
            }
            check_shown(c, "the open navigation", axe, &mut found).await?;
        }
        // Home, each page of the navigation, then the pages reached from them, which a
        // role may be refused (a form to create what it may only read).
        let mut pages = vec![("/".to_string(), false)];
        for link in &links {
            if !pages.iter().any(|(p, _)| p == link) {
                pages.push((link.clone(), false));
            }
        }
        for link in &links {
            for path in further.get(link.as_str()).into_iter().flatten() {
                pages.push((path.clone(), true));
            }
        }
        for (path, may_refuse) in &pages {
            check_page(c, screen, base, path, *may_refuse, axe, &mut found).await?;
            // Admins see every page: what each looks like, for people to look at.
            if person.role == "admin" {
                let name: String = match path.trim_matches('/') {
                    "" => "home".into(),
                    p => p
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                        .collect(),
                };
                let shot = format!("/tmp/nexus-sweep-{screen:?}-{name}.png").to_lowercase();
                browser::screenshot(c, shot).await?;
            }
            visited += 1;
        }
        // The sweep sees a refusal: a page the role may not use answers 403.
        if let Some(path) = &person.barred {
            goto(c, &format!("{base}{path}")).await?;
            appears(c, "main").await?;
            let code = status(c).await?;
            if code != 403 {
                found.faults.push(format!(
                    "{path}: answered {code} to a role that may not use it"
                ));
            }
        }
        sign_out(c).await?;
        console_errors(c).await?;
        for (what, pages) in found.minor {
            minor.entry(what).or_default().extend(pages);
        }
        for fault in found.faults {
            let who = format!("{screen:?} {}", person.role);
            all.entry(fault).or_default().insert(who);
        }
    }
    Ok((all, minor, visited))
}

/// A row drawn live on a phone is a card like the others: a movement recorded through the
/// API joins the production board with its cells labelled.
async fn live_rows_are_cards(c: &Client, srv: &TestServer, admin: &str) -> Step {
    let base = &srv.base_url;
    goto(c, &format!("{base}/login")).await?;
    sign_in(c, "sweepadmin", "sweepadmin-password").await?;
    appears(c, "#sidebar").await?;
    goto(c, &format!("{base}/production/board")).await?;
    appears(c, "#live[data-state='on']").await?;
    let centers = srv.get("/api/v1/work-centers", admin).await;
    let center = centers.json["items"][0]["id"].clone();
    let movement = json!({"production_order": "PO-LIVE", "workcenter_id": center, "quantity": 3, "order_type": "IN"});
    srv.create("/api/v1/production-orders", admin, movement)
        .await;
    let cell = "//table[@id='movements']//td[@data-label='Order' and normalize-space()='PO-LIVE']";
    browser::appears_at(c, fantoccini::Locator::XPath(cell)).await?;
    let shown = script(
        c,
        "return getComputedStyle(document.querySelector('#movements tbody tr')).display;",
    )
    .await?;
    browser::check(shown == "block", format!("the live row shows as {shown}"))?;
    sign_out(c).await
}

/// Issue 14's checks, in one browser per screen size, the two sizes side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_the_navigation_for_every_role() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let axe = browser::axe_source();
    // Twenty-odd sign-ins in a minute, more than the default limit allows one address.
    let server = TestServer::start_with(Backend::Sqlite, |c| c.login_rate_per_minute = 1000)
        .await
        .expect("server");
    let admin = server.admin_token().await;
    let mut further = seed(&server, &admin).await;
    let people = people(&server, &admin).await;
    further.extend(seed_work(&server, &admin, &people).await);
    let sessions = [("phone", Screen::Phone), ("desk", Screen::Desk)];
    let started = Instant::now();
    let server = driver
        .run(server, &sessions, async |c, srv| {
            let axe = axe.as_deref();
            let (phone, desk) = tokio::join!(
                sweep(&c[0], srv, Screen::Phone, &people, &further, axe),
                sweep(&c[1], srv, Screen::Desk, &people, &further, axe),
            );
            live_rows_are_cards(&c[0], srv, &admin).await?;
            let (mut faults, mut minor, phone_pages) = phone?;
            let (desk_faults, desk_minor, desk_pages) = desk?;
            for (fault, who) in desk_faults {
                faults.entry(fault).or_default().extend(who);
            }
            for (what, pages) in desk_minor {
                minor.entry(what).or_default().extend(pages);
            }
            eprintln!(
                "sweep: {} pages at phone and desk size, {} roles, in {:.1?}",
                phone_pages + desk_pages,
                people.len(),
                started.elapsed()
            );
            for (what, pages) in &minor {
                eprintln!("axe, not failing: {what} on {pages:?}");
            }
            let listed: Vec<String> = faults
                .iter()
                .map(|(fault, who)| {
                    format!(
                        "{fault} [{}]",
                        Vec::from_iter(who.iter().map(String::as_str)).join(", ")
                    )
                })
                .collect();
            if listed.is_empty() {
                Ok(())
            } else {
                Err(format!("{} faults:\n{}", listed.len(), listed.join("\n")))
            }
        })
        .await;
    server.finish().await;
}
