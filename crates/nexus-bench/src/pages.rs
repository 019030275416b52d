//! Page timings at plant size: every page of the navigation as an admin sees it, the
//! record and next-page links each of them shows first, over a seeded plant
//! (`nexus seed --assets --work-orders --movements` and some of every other domain).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crate::load::{Request, run_load_with, send_once};
use crate::server::{self, Nexus};

/// Server time every page must stay under at p99 (web app issue).
const TARGET_MS: f64 = 50.0;

/// The `href`s of `<a>` elements in `html`, in order, entities decoded as far as links need.
fn links(html: &str) -> Vec<String> {
    html.split("<a ")
        .skip(1)
        .filter_map(|a| {
            let start = a.find("href=\"")? + 6;
            let end = a[start..].find('"')? + start;
            Some(a[start..end].replace("&amp;", "&"))
        })
        .collect()
}

/// The links of the main navigation (`<nav id="sidebar">`).
fn nav_links(html: &str) -> Vec<String> {
    let Some(start) = html.find("id=\"sidebar\"") else {
        return Vec::new();
    };
    let end = html[start..]
        .find("</nav>")
        .map_or(html.len(), |e| start + e);
    links(&html[start..end])
        .into_iter()
        .filter(|l| l.starts_with('/'))
        .collect()
}

/// A link to one record: a path whose last segment is a number.
fn is_record(link: &str) -> bool {
    let path = link.split(['?', '#']).next().unwrap_or("");
    path.starts_with('/')
        && !path.starts_with("/api/")
        && path
            .rsplit('/')
            .next()
            .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

/// A link to a later page of the same list.
fn is_next_page(page: &str, link: &str) -> bool {
    let base = page.split('?').next().unwrap_or(page);
    link.starts_with(&format!("{base}?")) && (link.contains("offset=") || link.contains("after="))
}

pub async fn run(
    binary: &str,
    database_url: Option<&str>,
    sizes: &[(&str, u64)],
    secs: u64,
) -> anyhow::Result<()> {
    let dir = server::fresh_dir()?;
    let seeded = server::seed(binary, database_url, &dir, sizes).await?;
    let nexus = Nexus::start_in(binary, database_url, &dir).await?;
    let backend = nexus.backend();
    let sizes_text = sizes
        .iter()
        .map(|(flag, n)| format!("{} {n}", flag.trim_start_matches("--")))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "pages ({backend}): seeded {sizes_text} in {:.1} s",
        seeded.as_secs_f64()
    );
    let token = nexus.login("admin", server::ADMIN_PASSWORD).await?;
    let get = |path: &str| Request::get(path).bearer(&token);
    let (status, home) = send_once(nexus.addr, &get("/")).await?;
    anyhow::ensure!(status == 200, "home answered {status}");
    let home = String::from_utf8_lossy(&home).into_owned();

    // Home, each navigation page, and the first records and next page each one links to.
    let mut pages = vec!["/".to_string()];
    let mut seen: BTreeSet<String> = pages.iter().cloned().collect();
    for nav in nav_links(&home) {
        if !seen.insert(nav.clone()) {
            continue;
        }
        pages.push(nav.clone());
        let (status, body) = send_once(nexus.addr, &get(&nav)).await?;
        if status != 200 {
            continue;
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        let found = links(&body);
        let records = found.iter().filter(|l| is_record(l)).take(2);
        let next = found.iter().filter(|l| is_next_page(&nav, l)).take(1);
        for link in records.chain(next) {
            if seen.insert(link.clone()) {
                pages.push(link.clone());
            }
        }
    }

    let per_page = Duration::from_millis((secs * 1000 / 4).clamp(500, 3000));
    let mut over = Vec::new();
    let mut worst = (0.0, String::new());
    println!("  {} pages, 1 connection, {per_page:?} each:", pages.len());
    for path in &pages {
        let req = get(path);
        let stats =
            run_load_with(nexus.addr, 1, per_page, Arc::new(move |_, _| req.clone())).await?;
        let p99 = stats.p99_ms();
        println!("    {path}: {}", stats.summary());
        if stats.errors > 0 || p99 >= TARGET_MS {
            over.push(format!("{path} (p99 {p99:.1} ms, {} errors)", stats.errors));
        }
        if p99 > worst.0 {
            worst = (p99, path.clone());
        }
    }
    println!(
        "  slowest p99: {:.2} ms ({}); pages at or over {TARGET_MS} ms or failing: {}",
        worst.0,
        worst.1,
        if over.is_empty() {
            "none".to_string()
        } else {
            over.join(", ")
        }
    );
    nexus.stop().await;
    server::remove_data(&dir).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_navigation_records_and_next_pages() {
        let html = r#"<a href="/x">x</a><nav id="sidebar"><a class="on" href="/maintenance/work-orders">WO</a>
            <a href="/production/board?x=1&amp;y=2">B</a></nav><a href="/maintenance/work-orders/12">12</a>"#;
        assert_eq!(
            nav_links(html),
            ["/maintenance/work-orders", "/production/board?x=1&y=2"]
        );
        assert!(is_record("/maintenance/work-orders/12"));
        assert!(is_record("/maintenance/assets/7?tab=a"));
        assert!(!is_record("/api/v1/assets/7"));
        assert!(!is_record("/maintenance/work-orders"));
        assert!(is_next_page(
            "/maintenance/work-orders",
            "/maintenance/work-orders?status=open&offset=50"
        ));
        assert!(!is_next_page(
            "/maintenance/work-orders",
            "/maintenance/parts?offset=50"
        ));
    }
}
