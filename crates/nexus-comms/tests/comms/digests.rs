//! Email digests through a real SMTP server (Python's aiosmtpd, which `.ci/run` installs,
//! writing to a Maildir), on SQLite and PostgreSQL: one email per due user with their new
//! unread notifications, none again within the interval, none for kinds they take off
//! email, one when two passes race, and a retry after the server was unreachable.

use std::path::PathBuf;
use std::time::Duration;

use nexus_comms::service::digests::send_due;
use nexus_comms::service::notifications::{NewNotification, notify_users};
use nexus_core::audit::AuditCtx;
use nexus_core::write::Work;
use nexus_server::testing::services::{PyServer, free_port};
use nexus_server::testing::{Backend, TestServer, csrf};
use serde_json::{Value, json};

const PUBLIC_URL: &str = "http://nexus.plant.example";

/// An aiosmtpd process storing what it receives in a Maildir; stopped when dropped.
struct Smtpd {
    _server: PyServer,
    dir: PathBuf,
}

impl Smtpd {
    /// Starts aiosmtpd on `port` and waits until it accepts connections.
    fn start(port: u16) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "nexus-maildir-{}-{}",
            std::process::id(),
            nexus_core::auth::random_token(6)
        ));
        let listen = format!("127.0.0.1:{port}");
        let maildir = dir.to_string_lossy().into_owned();
        let server = PyServer::start(
            "aiosmtpd",
            "pip install aiosmtpd",
            &[
                "aiosmtpd",
                "-n",
                "-l",
                &listen,
                "-c",
                "aiosmtpd.handlers.Mailbox",
                &maildir,
            ],
            &[],
            port,
        );
        Self {
            _server: server,
            dir,
        }
    }

    /// Every email received: (its raw headers, its decoded body).
    fn mails(&self) -> Vec<(String, String)> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("new")) else {
            return Vec::new();
        };
        entries
            .map(|e| {
                let raw = std::fs::read_to_string(e.expect("entry").path()).expect("read mail");
                let raw = raw.replace("\r\n", "\n");
                let (head, body) = raw.split_once("\n\n").expect("headers and body");
                let body = if head
                    .to_lowercase()
                    .contains("content-transfer-encoding: quoted-printable")
                {
                    quoted_printable(body)
                } else {
                    body.to_string()
                };
                (head.to_string(), body)
            })
            .collect()
    }

    /// The emails to `address`.
    fn mails_to(&self, address: &str) -> Vec<(String, String)> {
        let rcpt = format!("X-RcptTo: {address}");
        self.mails()
            .into_iter()
            .filter(|(head, _)| head.lines().any(|l| l == rcpt))
            .collect()
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Decodes quoted-printable text (soft line breaks and `=XX`).
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 3 <= bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8 body")
}

/// A server sending digests through 127.0.0.1:`port`.
async fn server(backend: Backend, port: u16) -> Option<TestServer> {
    TestServer::start_with(backend, |c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.mail_from = "Nexus <nexus@plant.example>".into();
        c.public_url = PUBLIC_URL.into();
        // The tests run the passes and count what each sent: no pass of the server's own
        // may take a digest first when a minute begins.
        c.digest_passes = false;
    })
    .await
}

/// Creates a user with an email address (none when `email` is empty); their id and token.
async fn person(
    srv: &TestServer,
    admin: &str,
    name: &str,
    role: &str,
    email: &str,
) -> (i64, String) {
    let mut body = json!({"username": name, "password": format!("{name}-password"), "role": role});
    if !email.is_empty() {
        body["email"] = json!(email);
        body["first_name"] = json!(name.to_uppercase());
    }
    let res = srv.post("/api/v1/users", admin, body).await;
    assert_eq!(res.status, 201, "{:?}", res.json);
    let token = srv.login(name, &format!("{name}-password")).await;
    (res.json["id"].as_i64().unwrap(), token)
}

/// Notifies `users` of `kind` now, as a reaction would.
async fn notify(srv: &TestServer, users: &[i64], kind: &'static str, title: &str) {
    let ctx = AuditCtx::default();
    let mut work = Work::begin(&srv.state, &ctx).await.expect("begin");
    let n = NewNotification {
        kind,
        r#type: "info",
        title: title.into(),
        message: format!("Something happened: {title}."),
        entity_type: None,
        entity_id: None,
        link: Some("/maintenance/work-orders".into()),
    };
    notify_users(&mut work, users, &n).await.expect("notify");
    work.commit().await.expect("commit");
}

/// `token`'s notifications once there are `n`, polled for up to 5 s (reactions are
/// asynchronous).
async fn notifications(srv: &TestServer, token: &str, n: usize) -> Vec<Value> {
    for _ in 0..250 {
        let res = srv.get("/api/v1/notifications", token).await;
        let items = res.json["items"].as_array().unwrap().clone();
        if items.len() >= n {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{n} notifications never came");
}

fn preference(prefs: &Value, kind: &str) -> Value {
    prefs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == kind)
        .unwrap()
        .clone()
}

/// One email per user with their new notifications; none again within the interval, none
/// without an address, none for a kind taken off email.
async fn one_digest_per_interval(backend: Backend) {
    let port = free_port();
    let smtpd = Smtpd::start(port);
    let Some(srv) = server(backend, port).await else {
        return;
    };
    let admin = srv.admin_token().await;
    let (ann, ann_token) = person(&srv, &admin, "ann", "staff", "ann@plant.example").await;
    let (bob, bob_token) = person(&srv, &admin, "bob", "staff", "").await;
    let (carol, carol_token) = person(&srv, &admin, "carol", "staff", "carol@plant.example").await;

    // Carol takes work orders off email; she still gets them in Nexus.
    let set = srv
        .call(
            "PUT",
            "/api/v1/notification-preferences",
            Some(&carol_token),
            Some(json!({"preferences": [{"kind": "work_order_assigned", "enabled": true, "email": false}]})),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.json);
    let wo = preference(&set.json, "work_order_assigned");
    assert_eq!(
        (wo["enabled"].clone(), wo["email"].clone()),
        (json!(true), json!(false))
    );

    for (who, title) in [
        (ann, "Replace the seal"),
        (bob, "Oil the press"),
        (carol, "Check the valve"),
    ] {
        srv.create(
            "/api/v1/work-orders",
            &admin,
            json!({"title": title, "assigned_to_id": who}),
        )
        .await;
    }
    let items = notifications(&srv, &ann_token, 1).await;
    notifications(&srv, &bob_token, 1).await;
    notifications(&srv, &carol_token, 1).await;
    let title = items[0]["title"].as_str().unwrap().to_string();
    assert!(title.contains("Replace the seal"), "{title}");

    assert_eq!(send_due(&srv.state).await.expect("pass"), 1);
    let mails = smtpd.mails();
    assert_eq!(
        mails.len(),
        1,
        "only ann has an address and takes work orders by email"
    );
    let (head, body) = &mails_to_one(&smtpd, "ann@plant.example");
    assert!(has(head, "Subject: Nexus: 1 unread notification"), "{head}");
    assert!(has(head, "From: Nexus <nexus@plant.example>"), "{head}");
    assert!(has(head, "To: ANN <ann@plant.example>"), "{head}");
    assert!(body.contains(&title), "{body}");
    assert!(body.contains("admin assigned work order"), "{body}");
    assert!(
        body.contains(&format!("{PUBLIC_URL}/notifications")),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "{PUBLIC_URL}{}",
            items[0]["link"].as_str().unwrap()
        )),
        "{body}"
    );

    // Within the interval: nothing more, even for a new notification.
    assert_eq!(send_due(&srv.state).await.expect("pass"), 0);
    srv.create(
        "/api/v1/work-orders",
        &admin,
        json!({"title": "Another", "assigned_to_id": ann}),
    )
    .await;
    notifications(&srv, &ann_token, 2).await;
    assert_eq!(send_due(&srv.state).await.expect("pass"), 0);
    assert_eq!(smtpd.mails().len(), 1);
    srv.finish().await;
}

/// Whether the headers `head` hold the line `line`.
fn has(head: &str, line: &str) -> bool {
    head.lines().any(|l| l == line)
}

/// The one email to `address`.
fn mails_to_one(smtpd: &Smtpd, address: &str) -> (String, String) {
    let mut mails = smtpd.mails_to(address);
    assert_eq!(mails.len(), 1, "one email to {address}");
    mails.remove(0)
}

/// Two passes at once (as two nodes would run them) send one email; a long list shows
/// fifty and counts the rest.
async fn racing_passes_send_once(backend: Backend) {
    let port = free_port();
    let smtpd = Smtpd::start(port);
    let Some(srv) = server(backend, port).await else {
        return;
    };
    let admin = srv.admin_token().await;
    let (dan, _) = person(&srv, &admin, "dan", "user", "dan@plant.example").await;
    for i in 1..=53 {
        notify(&srv, &[dan], "mention", &format!("Mention number {i:02}")).await;
    }
    let (a, b) = tokio::join!(send_due(&srv.state), send_due(&srv.state));
    assert_eq!(a.expect("pass") + b.expect("pass"), 1);
    let (head, body) = mails_to_one(&smtpd, "dan@plant.example");
    assert!(
        has(&head, "Subject: Nexus: 53 unread notifications"),
        "{head}"
    );
    assert!(body.contains("Mention number 53"), "newest first: {body}");
    assert!(body.contains("Mention number 04"), "{body}");
    assert!(!body.contains("Mention number 03"), "fifty listed: {body}");
    assert!(body.contains("and 3 more"), "{body}");
    assert_eq!(smtpd.mails().len(), 1);
    srv.finish().await;
}

/// An unreachable SMTP server fails the send, releases the claim and the next pass
/// sends it.
async fn retried_after_a_failure(backend: Backend) {
    let port = free_port();
    let Some(srv) = server(backend, port).await else {
        return;
    };
    let admin = srv.admin_token().await;
    let (eve, _) = person(&srv, &admin, "eve", "user", "eve@plant.example").await;
    notify(&srv, &[eve], "announcement", "Safety briefing at noon").await;
    assert_eq!(
        send_due(&srv.state)
            .await
            .expect("a failed send is no error"),
        0
    );
    let smtpd = Smtpd::start(port);
    assert_eq!(send_due(&srv.state).await.expect("pass"), 1);
    let (_, body) = mails_to_one(&smtpd, "eve@plant.example");
    assert!(body.contains("Safety briefing at noon"), "{body}");
    srv.finish().await;
}

/// The email choice per kind: on by default where the kind is, kept by requests that
/// leave it out, and a second checkbox on the page when the server sends email.
async fn email_preferences(backend: Backend) {
    let Some(srv) = server(backend, free_port()).await else {
        return;
    };
    let admin = srv.admin_token().await;
    let (_, ann) = person(&srv, &admin, "ann", "user", "ann@plant.example").await;
    let prefs = srv.get("/api/v1/notification-preferences", &ann).await.json;
    let on = |p: &Value, kind: &str| preference(p, kind)["email"].clone();
    assert_eq!(
        on(&prefs, "work_order_assigned"),
        json!(true),
        "default of the kind"
    );
    assert_eq!(
        on(&prefs, "part_low_stock"),
        json!(false),
        "not a user's kind"
    );

    let put = |body: Value| {
        srv.call(
            "PUT",
            "/api/v1/notification-preferences",
            Some(&ann),
            Some(body),
        )
    };
    let res =
        put(json!({"preferences": [{"kind": "mention", "enabled": true, "email": false}]})).await;
    assert_eq!(on(&res.json, "mention"), json!(false));
    let res = put(json!({"preferences": [{"kind": "mention", "enabled": true}]})).await;
    assert_eq!(res.status, 200, "{:?}", res.json);
    assert_eq!(on(&res.json, "mention"), json!(false), "left out, it stays");
    let res =
        put(json!({"preferences": [{"kind": "mention", "enabled": true, "email": "yes"}]})).await;
    assert_eq!(res.status, 422, "{:?}", res.json);
    assert_eq!(res.error_fields(), ["preferences[0].email"]);

    let (status, html) = srv.page("/notifications", &ann).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"name="email.work_order_assigned" value="on" checked"#),
        "{html}"
    );
    assert!(
        html.contains(r#"name="email.mention" value="on">"#),
        "{html}"
    );
    let token = csrf(&html);
    let form = [
        ("csrf", token.as_str()),
        ("mention", "on"),
        ("email.mention", "on"),
    ];
    let (status, _, _) = srv.submit("/notifications/preferences", &ann, &form).await;
    assert_eq!(status, 303);
    let prefs = srv.get("/api/v1/notification-preferences", &ann).await.json;
    assert_eq!(on(&prefs, "mention"), json!(true));
    assert_eq!(on(&prefs, "work_order_assigned"), json!(false), "unchecked");
    assert_eq!(
        preference(&prefs, "work_order_assigned")["enabled"],
        json!(false)
    );
    srv.finish().await;

    // Without email the page offers no such choice, and saving it keeps the email choices.
    let Some(srv) = TestServer::start(backend).await else {
        return;
    };
    let admin = srv.admin_token().await;
    let (_, ann) = person(&srv, &admin, "ann", "user", "ann@plant.example").await;
    let (_, html) = srv.page("/notifications", &ann).await;
    assert!(!html.contains("also by email"), "{html}");
    let (status, _, _) = srv
        .submit(
            "/notifications/preferences",
            &ann,
            &[("csrf", &csrf(&html)), ("mention", "on")],
        )
        .await;
    assert_eq!(status, 303);
    let prefs = srv.get("/api/v1/notification-preferences", &ann).await.json;
    assert_eq!(
        preference(&prefs, "work_order_assigned")["enabled"],
        json!(false)
    );
    assert_eq!(on(&prefs, "work_order_assigned"), json!(true), "kept");
    srv.finish().await;
}

macro_rules! on_both {
    ($($name:ident),*) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(nexus_server::testing::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(nexus_server::testing::Backend::Postgres).await;
                }
            }
        )*
    };
}

on_both!(
    one_digest_per_interval,
    racing_passes_send_once,
    retried_after_a_failure,
    email_preferences
);
