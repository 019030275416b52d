//! The schedule of a project's tasks over days: the critical path method (forward and
//! backward pass with lags, all four kinds of dependency), pushing followers later when a
//! task moves, finding the cycle a new dependency would close, and the Gantt chart drawn
//! as SVG. The graph work is pure, in memory, O(tasks + dependencies); the service
//! functions load a project's tasks and dependencies in two queries.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use nexus_core::{ApiResult, CurrentUser};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::find_visible_project;
use crate::entity::{dependency, task};
use crate::model::*;

/// How a successor is tied to its predecessor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The successor starts after the predecessor finished.
    FinishToStart,
    StartToStart,
    FinishToFinish,
    StartToFinish,
}

impl Kind {
    /// The kind spelled as stored; finish-to-start for anything else.
    pub fn parse(s: &str) -> Self {
        match s {
            "start-to-start" => Self::StartToStart,
            "finish-to-finish" => Self::FinishToFinish,
            "start-to-finish" => Self::StartToFinish,
            _ => Self::FinishToStart,
        }
    }
}

/// A task's days: `start` and `due` (the last day worked) as day numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub id: i64,
    pub start: i64,
    pub due: i64,
}

impl Span {
    pub fn duration(&self) -> i64 {
        self.due - self.start + 1
    }
}

/// A dependency between two tasks, `lag` days apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub pred: i64,
    pub succ: i64,
    pub kind: Kind,
    pub lag: i64,
}

/// A date as a day number, and back.
pub fn day(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

pub fn date(n: i64) -> NaiveDate {
    i32::try_from(n)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or_default()
}

/// The earliest start a successor of `duration` days may have after `pred` under `kind`
/// and `lag`:
/// finish-to-start: start ≥ pred.due + 1 + lag; start-to-start: start ≥ pred.start + lag;
/// finish-to-finish: due ≥ pred.due + lag; start-to-finish: due ≥ pred.start + lag.
pub fn earliest_start(kind: Kind, lag: i64, pred_start: i64, pred_due: i64, duration: i64) -> i64 {
    match kind {
        Kind::FinishToStart => pred_due + 1 + lag,
        Kind::StartToStart => pred_start + lag,
        Kind::FinishToFinish => pred_due + lag - (duration - 1),
        Kind::StartToFinish => pred_start + lag - (duration - 1),
    }
}

/// The graph of a project: tasks by index, links out of and into each.
struct Graph {
    index: HashMap<i64, usize>,
    outs: Vec<Vec<usize>>,
    ins: Vec<Vec<usize>>,
}

impl Graph {
    fn new(tasks: &[Span], links: &[Link]) -> Self {
        let index: HashMap<i64, usize> = tasks.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
        let mut outs = vec![Vec::new(); tasks.len()];
        let mut ins = vec![Vec::new(); tasks.len()];
        for (l, link) in links.iter().enumerate() {
            if let (Some(&p), Some(&s)) = (index.get(&link.pred), index.get(&link.succ)) {
                outs[p].push(l);
                ins[s].push(l);
            }
        }
        Self { index, outs, ins }
    }

    /// Task indexes with every predecessor before its successors (Kahn); tasks on a
    /// cycle, which the service never stores, come last in index order.
    fn topological(&self, links: &[Link]) -> Vec<usize> {
        let n = self.outs.len();
        let mut pending: Vec<usize> = self.ins.iter().map(Vec::len).collect();
        let mut queue: VecDeque<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = queue.pop_front() {
            order.push(i);
            for &l in &self.outs[i] {
                let s = self.index[&links[l].succ];
                pending[s] -= 1;
                if pending[s] == 0 {
                    queue.push_back(s);
                }
            }
        }
        if order.len() < n {
            let placed: HashSet<usize> = order.iter().copied().collect();
            order.extend((0..n).filter(|i| !placed.contains(i)));
        }
        order
    }
}

/// The tasks that follow `seeds` (directly or not) and no longer satisfy a dependency,
/// each pushed later by the days it needs, keeping its duration, in topological order so
/// each moves once, to the latest its predecessors require. Tasks in `fixed` (done or
/// cancelled) stay, and what follows only them is not pushed. Never earlier.
pub fn push_followers(
    tasks: &[Span],
    links: &[Link],
    seeds: &[i64],
    fixed: &HashSet<i64>,
) -> Vec<Span> {
    let g = Graph::new(tasks, links);
    let mut reach = vec![false; tasks.len()];
    let mut queue: VecDeque<usize> = seeds
        .iter()
        .filter_map(|s| g.index.get(s).copied())
        .collect();
    while let Some(i) = queue.pop_front() {
        for &l in &g.outs[i] {
            let s = g.index[&links[l].succ];
            if !reach[s] && !fixed.contains(&tasks[s].id) {
                reach[s] = true;
                queue.push_back(s);
            }
        }
    }
    let mut now: Vec<Span> = tasks.to_vec();
    let mut moved = Vec::new();
    for i in g.topological(links) {
        if !reach[i] || seeds.contains(&tasks[i].id) {
            continue;
        }
        let t = now[i];
        let need = g.ins[i]
            .iter()
            .map(|&l| {
                let p = now[g.index[&links[l].pred]];
                earliest_start(links[l].kind, links[l].lag, p.start, p.due, t.duration())
            })
            .max()
            .unwrap_or(t.start);
        if need > t.start {
            let shift = need - t.start;
            now[i] = Span {
                id: t.id,
                start: t.start + shift,
                due: t.due + shift,
            };
            moved.push(now[i]);
        }
    }
    moved
}

/// The cycle a new link `pred → succ` would close, as task ids from `succ` round to
/// `succ` again (`[succ, …, pred, succ]`), or none. A breadth-first search from `succ`
/// over the existing links: the shortest such cycle.
pub fn cycle_closed_by(links: &[Link], pred: i64, succ: i64) -> Option<Vec<i64>> {
    if pred == succ {
        return Some(vec![succ, succ]);
    }
    let mut outs: HashMap<i64, Vec<i64>> = HashMap::new();
    for l in links {
        outs.entry(l.pred).or_default().push(l.succ);
    }
    let mut came_from: HashMap<i64, i64> = HashMap::new();
    let mut queue = VecDeque::from([succ]);
    came_from.insert(succ, succ);
    while let Some(at) = queue.pop_front() {
        if at == pred {
            let mut path = vec![pred];
            let mut cur = pred;
            while cur != succ {
                cur = came_from[&cur];
                path.push(cur);
            }
            path.reverse();
            path.push(succ);
            return Some(path);
        }
        for &next in outs.get(&at).map(Vec::as_slice).unwrap_or_default() {
            if let std::collections::hash_map::Entry::Vacant(e) = came_from.entry(next) {
                e.insert(at);
                queue.push_back(next);
            }
        }
    }
    None
}

/// Where the critical path method places one task, as day numbers (finishes are the
/// last day worked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub id: i64,
    pub early_start: i64,
    pub early_finish: i64,
    pub late_start: i64,
    pub late_finish: i64,
    pub float: i64,
    pub critical: bool,
}

/// The critical path method over `tasks` (in the same order): the forward pass starts
/// each task at the latest of its own start and what its predecessors require; the
/// project finishes with the latest early finish; the backward pass finishes each task
/// at the earliest its successors allow. Critical: no float.
pub fn critical_path_method(tasks: &[Span], links: &[Link]) -> Vec<Placed> {
    let g = Graph::new(tasks, links);
    let order = g.topological(links);
    let n = tasks.len();
    let (mut es, mut ef) = (vec![0i64; n], vec![0i64; n]);
    for &i in &order {
        let t = tasks[i];
        let start = g.ins[i]
            .iter()
            .map(|&l| {
                let p = g.index[&links[l].pred];
                earliest_start(links[l].kind, links[l].lag, es[p], ef[p], t.duration())
            })
            .fold(t.start, i64::max);
        es[i] = start;
        ef[i] = start + t.duration() - 1;
    }
    let finish = ef.iter().copied().max().unwrap_or(0);
    let (mut ls, mut lf) = (vec![0i64; n], vec![0i64; n]);
    for &i in order.iter().rev() {
        let d = tasks[i].duration();
        let latest = g.outs[i]
            .iter()
            .map(|&l| {
                let s = g.index[&links[l].succ];
                let lag = links[l].lag;
                match links[l].kind {
                    Kind::FinishToStart => ls[s] - 1 - lag,
                    Kind::StartToStart => ls[s] - lag + d - 1,
                    Kind::FinishToFinish => lf[s] - lag,
                    Kind::StartToFinish => lf[s] - lag + d - 1,
                }
            })
            .fold(finish, i64::min);
        lf[i] = latest;
        ls[i] = latest - d + 1;
    }
    (0..n)
        .map(|i| {
            let float = ls[i] - es[i];
            Placed {
                id: tasks[i].id,
                early_start: es[i],
                early_finish: ef[i],
                late_start: ls[i],
                late_finish: lf[i],
                float,
                critical: float <= 0,
            }
        })
        .collect()
}

/// The critical tasks in the order they are worked: early start, early finish, id.
pub fn critical_order(placed: &[Placed]) -> Vec<i64> {
    let mut crit: Vec<&Placed> = placed.iter().filter(|p| p.critical).collect();
    crit.sort_by_key(|p| (p.early_start, p.early_finish, p.id));
    crit.into_iter().map(|p| p.id).collect()
}

// ---------------------------------------------------------------- service

pub(crate) fn span_of(t: &task::Model) -> Span {
    Span {
        id: t.id,
        start: day(parse_date(&t.start_date)),
        due: day(parse_date(&t.due_date)),
    }
}

pub(crate) fn link_of(d: &dependency::Model) -> Link {
    Link {
        pred: d.predecessor_id,
        succ: d.successor_id,
        kind: Kind::parse(&d.kind),
        lag: i64::from(d.lag_days),
    }
}

/// Every task of project `id` by start then id, and its dependencies: two queries.
pub(crate) async fn project_graph(
    conn: &impl ConnectionTrait,
    id: i64,
) -> ApiResult<(Vec<task::Model>, Vec<dependency::Model>)> {
    let tasks = task::Entity::find()
        .filter(task::Column::ProjectId.eq(id))
        .order_by_asc(task::Column::StartDate)
        .order_by_asc(task::Column::Id)
        .all(conn)
        .await?;
    let deps = dependency::Entity::find()
        .filter(dependency::Column::ProjectId.eq(id))
        .order_by_asc(dependency::Column::Id)
        .all(conn)
        .await?;
    Ok((tasks, deps))
}

fn schedule_of(project_id: i64, tasks: &[task::Model], deps: &[dependency::Model]) -> ScheduleOut {
    let spans: Vec<Span> = tasks.iter().map(span_of).collect();
    let links: Vec<Link> = deps.iter().map(link_of).collect();
    let placed = critical_path_method(&spans, &links);
    let critical_path = critical_order(&placed);
    let start_date = placed.iter().map(|p| p.early_start).min().map(date);
    let finish_date = placed.iter().map(|p| p.early_finish).max().map(date);
    let tasks = tasks
        .iter()
        .zip(spans.iter().zip(&placed))
        .map(|(t, (s, p))| ScheduledTask {
            id: t.id,
            title: t.title.clone(),
            status: t.status.clone(),
            start_date: date(s.start),
            due_date: date(s.due),
            duration_days: s.duration(),
            early_start: date(p.early_start),
            early_finish: date(p.early_finish),
            late_start: date(p.late_start),
            late_finish: date(p.late_finish),
            total_float_days: p.float,
            critical: p.critical,
        })
        .collect();
    ScheduleOut {
        project_id,
        start_date,
        finish_date,
        tasks,
        critical_path,
    }
}

/// The schedule of a project's tasks with their float and the critical path; 404 unless
/// `user` may see the project.
pub async fn project_schedule(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<ScheduleOut> {
    find_visible_project(conn, user, id).await?;
    let (tasks, deps) = project_graph(conn, id).await?;
    Ok(schedule_of(id, &tasks, &deps))
}

/// The Gantt chart of a project as SVG; 404 unless `user` may see the project.
pub async fn project_gantt(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: i64,
) -> ApiResult<String> {
    let p = find_visible_project(conn, user, id).await?;
    let (tasks, deps) = project_graph(conn, id).await?;
    let schedule = schedule_of(id, &tasks, &deps);
    let links: Vec<Link> = deps.iter().map(link_of).collect();
    let rows: Vec<GanttRow> = schedule
        .tasks
        .iter()
        .map(|t| GanttRow {
            id: t.id,
            title: t.title.clone(),
            start: t.start_date,
            due: t.due_date,
            critical: t.critical,
        })
        .collect();
    Ok(gantt_svg(
        &p.name,
        &rows,
        &links,
        nexus_core::plant::today(),
    ))
}

// ---------------------------------------------------------------- drawing

/// One bar of the chart.
#[derive(Debug, Clone)]
pub struct GanttRow {
    pub id: i64,
    pub title: String,
    pub start: NaiveDate,
    pub due: NaiveDate,
    pub critical: bool,
}

/// Text and attribute values escaped for XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const LABEL_WIDTH: i64 = 240;
const ROW_HEIGHT: i64 = 26;
const AXIS_HEIGHT: i64 = 44;
const CHART_WIDTH: i64 = 960;
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Draws the chart: a row per task in the order given (by start then id) with its title,
/// a bar from start to due (class `critical`, red, on the critical path), arrows from
/// each predecessor to its successor, a date axis with month and week ticks, and a
/// `today` line when today falls within the chart.
pub fn gantt_svg(project: &str, rows: &[GanttRow], links: &[Link], today: NaiveDate) -> String {
    let label = escape(&format!("Gantt chart of {project}"));
    let first = rows.iter().map(|r| day(r.start)).min();
    let last = rows.iter().map(|r| day(r.due)).max();
    let (Some(first), Some(last)) = (first, last) else {
        return format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{label}\" \
             width=\"480\" height=\"60\" viewBox=\"0 0 480 60\"><title>{label}</title>\
             <text x=\"12\" y=\"34\" font-family=\"sans-serif\" font-size=\"14\">No tasks yet</text></svg>"
        );
    };
    let (first, last) = (first - 1, last + 1);
    let days = last - first + 1;
    let px = ((CHART_WIDTH as f64) / days as f64).clamp(2.0, 28.0);
    let width = LABEL_WIDTH + (days as f64 * px).ceil() as i64 + 16;
    let height = AXIS_HEIGHT + ROW_HEIGHT * rows.len() as i64 + 8;
    let x = |d: i64| LABEL_WIDTH as f64 + (d - first) as f64 * px;
    let mut s = String::with_capacity(400 + rows.len() * 400 + links.len() * 160);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{label}\" \
         width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         font-family=\"sans-serif\" font-size=\"12\"><title>{label}</title>\
         <style>.bar{{fill:#3b82f6}}.bar.critical{{fill:#dc2626}}.dep{{stroke:#6b7280;fill:none}}\
         .today{{stroke:#16a34a;stroke-width:2}}.tick{{stroke:#e5e7eb}}.month{{stroke:#9ca3af}}</style>\
         <defs><marker id=\"arrow\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"6\" \
         markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#6b7280\"/></marker></defs>"
    );
    // The axis: a week tick each Monday, a month line and label each first of the month.
    s.push_str("<g class=\"axis\">");
    for d in first..=last {
        let date = date(d);
        let at = x(d);
        if date.day() == 1 || d == first {
            let month = MONTHS[date.month0() as usize];
            let _ = write!(
                s,
                "<line class=\"month\" x1=\"{at:.1}\" y1=\"0\" x2=\"{at:.1}\" y2=\"{height}\"/>\
                 <text x=\"{:.1}\" y=\"14\">{month} {}</text>",
                at + 3.0,
                date.year()
            );
        }
        if date.weekday() == chrono::Weekday::Mon {
            let _ = write!(
                s,
                "<line class=\"tick\" x1=\"{at:.1}\" y1=\"22\" x2=\"{at:.1}\" y2=\"{height}\"/>\
                 <text x=\"{:.1}\" y=\"36\" font-size=\"10\" fill=\"#6b7280\">{}</text>",
                at + 2.0,
                date.day()
            );
        }
    }
    s.push_str("</g>");
    let row_of: HashMap<i64, usize> = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let mid = |i: usize| (AXIS_HEIGHT + ROW_HEIGHT * i as i64 + ROW_HEIGHT / 2) as f64;
    s.push_str("<g class=\"tasks\">");
    for (i, r) in rows.iter().enumerate() {
        let top = AXIS_HEIGHT + ROW_HEIGHT * i as i64;
        let title = escape(&r.title);
        let (x0, x1) = (x(day(r.start)), x(day(r.due) + 1));
        let class = if r.critical { "bar critical" } else { "bar" };
        let _ = write!(
            s,
            "<text x=\"8\" y=\"{:.1}\">{}</text><g class=\"task\" data-id=\"{}\">\
             <title>{title} (#{}): {} to {}{}</title>\
             <rect class=\"{class}\" x=\"{x0:.1}\" y=\"{}\" width=\"{:.1}\" height=\"{}\" rx=\"3\"/></g>",
            mid(i) + 4.0,
            escape(&truncate(&r.title, 32)),
            r.id,
            r.id,
            r.start,
            r.due,
            if r.critical { ", critical" } else { "" },
            top + 5,
            (x1 - x0).max(2.0),
            ROW_HEIGHT - 10,
        );
    }
    s.push_str("</g><g class=\"dependencies\">");
    for l in links {
        let (Some(&p), Some(&q)) = (row_of.get(&l.pred), row_of.get(&l.succ)) else {
            continue;
        };
        let (pr, sr) = (&rows[p], &rows[q]);
        let from = match l.kind {
            Kind::FinishToStart | Kind::FinishToFinish => x(day(pr.due) + 1),
            Kind::StartToStart | Kind::StartToFinish => x(day(pr.start)),
        };
        let to = match l.kind {
            Kind::FinishToStart | Kind::StartToStart => x(day(sr.start)),
            Kind::FinishToFinish | Kind::StartToFinish => x(day(sr.due) + 1),
        };
        let (y0, y1) = (mid(p), mid(q));
        let bend = from + 6.0;
        let _ = write!(
            s,
            "<polyline class=\"dep\" data-from=\"{}\" data-to=\"{}\" marker-end=\"url(#arrow)\" \
             points=\"{from:.1},{y0:.1} {bend:.1},{y0:.1} {bend:.1},{y1:.1} {to:.1},{y1:.1}\"/>",
            l.pred, l.succ
        );
    }
    s.push_str("</g>");
    let t = day(today);
    if (first..=last).contains(&t) {
        let at = x(t);
        let _ = write!(
            s,
            "<line class=\"today\" x1=\"{at:.1}\" y1=\"18\" x2=\"{at:.1}\" y2=\"{height}\">\
             <title>Today, {today}</title></line>"
        );
    }
    s.push_str("</svg>");
    s
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> i64 {
        day(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    fn span(id: i64, start: &str, due: &str) -> Span {
        Span {
            id,
            start: d(start),
            due: d(due),
        }
    }

    fn fs(pred: i64, succ: i64, lag: i64) -> Link {
        Link {
            pred,
            succ,
            kind: Kind::FinishToStart,
            lag,
        }
    }

    #[test]
    fn each_kind_gives_its_earliest_start() {
        // Predecessor days 10..=14, successor of 3 days.
        assert_eq!(earliest_start(Kind::FinishToStart, 0, 10, 14, 3), 15);
        assert_eq!(earliest_start(Kind::FinishToStart, 2, 10, 14, 3), 17);
        assert_eq!(earliest_start(Kind::StartToStart, 1, 10, 14, 3), 11);
        assert_eq!(earliest_start(Kind::FinishToFinish, 0, 10, 14, 3), 12);
        assert_eq!(earliest_start(Kind::StartToFinish, 0, 10, 14, 3), 8);
    }

    #[test]
    fn pushes_followers_once_to_their_latest_requirement() {
        // 1 → 2 → 4 and 1 → 3 → 4; 1 moved to finish on the 10th.
        let tasks = [
            span(1, "2025-03-01", "2025-03-10"),
            span(2, "2025-03-04", "2025-03-05"),
            span(3, "2025-03-06", "2025-03-08"),
            span(4, "2025-03-09", "2025-03-09"),
            span(5, "2025-03-01", "2025-03-02"),
        ];
        let links = [fs(1, 2, 0), fs(2, 4, 0), fs(1, 3, 1), fs(3, 4, 0)];
        let moved = push_followers(&tasks, &links, &[1], &HashSet::new());
        assert_eq!(
            moved,
            vec![
                span(2, "2025-03-11", "2025-03-12"),
                span(3, "2025-03-12", "2025-03-14"),
                span(4, "2025-03-15", "2025-03-15"),
            ]
        );
        // Already satisfied: nothing moves, nothing is pulled earlier.
        let early = [
            span(1, "2025-03-01", "2025-03-01"),
            span(2, "2025-03-20", "2025-03-21"),
        ];
        assert!(push_followers(&early, &[fs(1, 2, 0)], &[1], &HashSet::new()).is_empty());
        // A done follower stays, and shields what follows it.
        let fixed = HashSet::from([2]);
        let moved = push_followers(&tasks, &links, &[1], &fixed);
        assert_eq!(moved.iter().map(|s| s.id).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn finish_kinds_move_by_the_due_date() {
        let tasks = [
            span(1, "2025-03-01", "2025-03-10"),
            span(2, "2025-03-01", "2025-03-04"),
        ];
        let ff = Link {
            pred: 1,
            succ: 2,
            kind: Kind::FinishToFinish,
            lag: 0,
        };
        let moved = push_followers(&tasks, &[ff], &[1], &HashSet::new());
        assert_eq!(moved, vec![span(2, "2025-03-07", "2025-03-10")]);
        let sf = Link {
            kind: Kind::StartToFinish,
            lag: 5,
            ..ff
        };
        let moved = push_followers(&tasks, &[sf], &[1], &HashSet::new());
        assert_eq!(moved, vec![span(2, "2025-03-03", "2025-03-06")]);
    }

    #[test]
    fn finds_the_cycle_a_link_would_close() {
        let links = [fs(3, 5, 0), fs(5, 7, 0), fs(7, 9, 0)];
        assert_eq!(cycle_closed_by(&links, 5, 3), Some(vec![3, 5, 3]));
        assert_eq!(cycle_closed_by(&links, 9, 3), Some(vec![3, 5, 7, 9, 3]));
        assert_eq!(cycle_closed_by(&links, 3, 9), None);
        assert_eq!(cycle_closed_by(&links, 4, 4), Some(vec![4, 4]));
    }

    #[test]
    fn critical_path_and_float() {
        // A(3 days) → B(2) → D(1); A → C(1) → D. C has a day of float.
        let tasks = [
            span(1, "2025-01-01", "2025-01-03"),
            span(2, "2025-01-04", "2025-01-05"),
            span(3, "2025-01-04", "2025-01-04"),
            span(4, "2025-01-06", "2025-01-06"),
        ];
        let links = [fs(1, 2, 0), fs(1, 3, 0), fs(2, 4, 0), fs(3, 4, 0)];
        let placed = critical_path_method(&tasks, &links);
        let float: Vec<i64> = placed.iter().map(|p| p.float).collect();
        assert_eq!(float, vec![0, 0, 1, 0]);
        assert_eq!(critical_order(&placed), vec![1, 2, 4]);
        assert_eq!(placed[2].late_start, d("2025-01-05"));
        // Start-to-start with a lag and finish-to-finish: both critical when tight.
        let tasks = [
            span(1, "2025-01-01", "2025-01-10"),
            span(2, "2025-01-03", "2025-01-10"),
        ];
        let ss = Link {
            pred: 1,
            succ: 2,
            kind: Kind::StartToStart,
            lag: 2,
        };
        let placed = critical_path_method(&tasks, &[ss]);
        assert!(placed.iter().all(|p| p.critical));
        let ff = Link {
            kind: Kind::FinishToFinish,
            lag: 0,
            ..ss
        };
        let placed = critical_path_method(&tasks, &[ff]);
        assert!(placed.iter().all(|p| p.float == 0));
    }

    #[test]
    fn large_graphs_are_handled_whole() {
        let n = 2000;
        let tasks: Vec<Span> = (0..n)
            .map(|i| Span {
                id: i,
                start: 1000 + i,
                due: 1002 + i,
            })
            .collect();
        let mut links = Vec::new();
        for i in 1..n {
            links.push(fs(i - 1, i, -3));
            if i % 2 == 0 && i >= 7 {
                links.push(fs(i - 7, i, 0));
            }
        }
        let placed = critical_path_method(&tasks, &links);
        assert_eq!(placed.len(), n as usize);
        assert!(cycle_closed_by(&links, n - 1, 0).is_some());
        push_followers(&tasks, &links, &[0], &HashSet::new());
        let rows: Vec<GanttRow> = tasks
            .iter()
            .map(|t| GanttRow {
                id: t.id,
                title: format!("Task {}", t.id),
                start: date(t.start),
                due: date(t.due),
                critical: false,
            })
            .collect();
        let svg = gantt_svg("Big", &rows, &links, date(1500));
        assert!(svg.len() > 100_000);
    }

    #[test]
    fn draws_an_accessible_escaped_chart() {
        let rows = [
            GanttRow {
                id: 1,
                title: "Weld <frame> & \"paint\"".into(),
                start: date(d("2025-01-30")),
                due: date(d("2025-02-03")),
                critical: true,
            },
            GanttRow {
                id: 2,
                title: "Ship".into(),
                start: date(d("2025-02-04")),
                due: date(d("2025-02-04")),
                critical: false,
            },
        ];
        let svg = gantt_svg("Line <4>", &rows, &[fs(1, 2, 0)], date(d("2025-02-01")));
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("role=\"img\" aria-label=\"Gantt chart of Line &lt;4&gt;\""));
        assert!(svg.contains("Weld &lt;frame&gt; &amp; &quot;paint&quot;"));
        assert!(!svg.contains("<frame>"));
        assert_eq!(svg.matches("class=\"bar critical\"").count(), 1);
        assert_eq!(svg.matches("class=\"dep\"").count(), 1);
        assert!(svg.contains("class=\"today\""));
        assert!(svg.contains(">Feb 2025<"));
        let later = gantt_svg("L", &rows, &[], date(d("2026-01-01")));
        assert!(!later.contains("class=\"today\""));
        assert!(gantt_svg("Empty", &[], &[], date(0)).contains("No tasks yet"));
    }
}
