//! Reports over the cases the user may see, each as a table on the page and as CSV:
//! - `gaps`: referrals an organisation declined or a service that was unavailable (never a
//!   client's own choice, nor the earlier undivided `declined`), by life domain,
//!   organisation and service, with the partner directory's service and its taxonomy terms
//!   when the referral names one (the gaps a case manager reports upward, DOMAIN.md "macro
//!   level");
//! - `needs`: unmet needs by life domain: cases whose latest assessment records a need in
//!   the domain, how many of them have no open plan problem for it, how many a declined or
//!   unavailable referral, and how many active services of the partner directory serve the
//!   domain (none: a need no service in the directory answers, seed 000's macro level);
//! - `caseload`: per worker: open cases, emergencies, concern or worse, overdue reviews,
//!   closed cases;
//! - `closed`: outcomes of closed cases;
//! - `referrals`: what became of referrals, per organisation and service (the partner
//!   directory's service when the referral names one, so names written differently count
//!   once): sent, accepted, declined by the organisation (with its reasons), declined by the
//!   client, unavailable, delivered, and the median days from sending to the partner's
//!   answer and to delivery (from the steps of the loop; referrals recorded before them
//!   count in the totals only).
//!
//! The CSV files carry case ids, never client names, nor free text an organisation gave as
//! its reason for declining (on the page only); cells that a spreadsheet would read as a
//! formula are prefixed with `'`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fieldcase_core::case::{ClosureStatus, Finding};
use fieldcase_core::directory::DirectoryIndex;
use fieldcase_core::schema::LIFE_DOMAINS;
use fieldcase_core::Stage;
use maud::html;

use super::data::{self, People, Summary};
use super::i18n::Locale;
use super::view::{self, Nav};
use super::ConsoleUser;
use crate::error::AppError;
use crate::AppState;

/// A cell: shown translated on the page (`Code`), a number, or text as it is.
enum Cell {
    Text(String),
    Code(&'static str, String),
    Num(usize),
    Date(String),
}

impl Cell {
    fn html(&self, l: &Locale) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Code(prefix, c) => l.code(prefix, c),
            Cell::Num(n) => l.number(*n as i64),
            Cell::Date(d) => l.date(d),
        }
    }

    fn csv(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Code(_, s) | Cell::Date(s) => s.clone(),
            Cell::Num(n) => n.to_string(),
        }
    }
}

/// A report: its columns (CSV name, message id) and rows.
struct Table {
    /// The cases the rows name one by one (a report of counts names none): a download
    /// records a read of each ([`csv`]).
    cases: Vec<fieldcase_core::CaseId>,
    name: &'static str,
    title: &'static str,
    columns: &'static [(&'static str, &'static str)],
    rows: Vec<Vec<Cell>>,
}

const REPORTS: [&str; 5] = ["gaps", "needs", "caseload", "closed", "referrals"];

fn build(
    name: &str,
    cases: &[Arc<Summary>],
    people: &People,
    today: &str,
    dir: &DirectoryIndex,
) -> Option<Table> {
    match name {
        "gaps" => Some(gaps(cases, dir)),
        "needs" => Some(needs(cases, dir)),
        "caseload" => Some(caseload(cases, people, today)),
        "closed" => Some(closed(cases)),
        "referrals" => Some(referrals(cases, dir)),
        _ => None,
    }
}

fn gaps(cases: &[Arc<Summary>], dir: &DirectoryIndex) -> Table {
    type Key = (String, String, String, String, String, String);
    let mut m: BTreeMap<Key, usize> = BTreeMap::new();
    for c in cases {
        for r in c.file.referrals.iter().filter(|r| r.retracted.is_none()) {
            // A service missing or out of reach; a client's own choice is not a gap.
            if let Some(s) = r.status.filter(|s| s.is_service_gap()) {
                let sid = r.service_id.clone().unwrap_or_default();
                // A directory service counts under its directory names and terms.
                let entry = dir.entry(&sid);
                let (organisation, service, terms) = match &entry {
                    Some(e) => (
                        e.organization.name.clone(),
                        e.service.name.clone(),
                        e.terms
                            .iter()
                            .map(|t| t.name.clone())
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    None => (
                        r.organisation.clone().unwrap_or_default(),
                        r.service.clone().unwrap_or_default(),
                        String::new(),
                    ),
                };
                let key = (
                    r.domain.clone().unwrap_or_default(),
                    organisation,
                    service,
                    sid,
                    terms,
                    s.code().to_string(),
                );
                *m.entry(key).or_default() += 1;
            }
        }
    }
    Table {
        cases: Vec::new(),
        name: "gaps",
        title: "report-gaps",
        columns: &[
            ("domain", "domain"),
            ("organisation", "f-organisation"),
            ("service", "f-service"),
            ("directory_service", "f-directory-service"),
            ("taxonomy_terms", "col-terms"),
            ("status", "f-status"),
            ("referrals", "col-referrals"),
        ],
        rows: m
            .into_iter()
            .map(|((d, o, s, sid, terms, st), n)| {
                vec![
                    Cell::Code("domain", d),
                    Cell::Text(o),
                    Cell::Text(s),
                    Cell::Text(sid),
                    Cell::Text(terms),
                    Cell::Code("referral", st),
                    Cell::Num(n),
                ]
            })
            .collect(),
    }
}

fn needs(cases: &[Arc<Summary>], dir: &DirectoryIndex) -> Table {
    // Active services of the directory per life domain.
    let mut serving: BTreeMap<String, usize> = BTreeMap::new();
    for s in dir
        .directory()
        .services
        .iter()
        .filter(|s| s.status.takes_referrals())
    {
        for d in dir.entry(&s.id).map(|e| e.domains).unwrap_or_default() {
            *serving.entry(d).or_default() += 1;
        }
    }
    let mut rows = Vec::new();
    for d in LIFE_DOMAINS {
        let (mut with_need, mut no_plan, mut refused) = (0, 0, 0);
        for c in cases.iter().filter(|c| c.file.stage != Stage::Closed) {
            let latest = c
                .file
                .assessments
                .iter()
                .filter(|a| a.retracted.is_none())
                .max_by(|a, b| a.date.cmp(&b.date));
            let has_need = latest
                .and_then(|a| a.domains.get(*d))
                .is_some_and(|x| !x.needs.trim().is_empty());
            if !has_need {
                continue;
            }
            with_need += 1;
            let planned = c.file.plan.problems.iter().any(|p| {
                p.retracted.is_none()
                    && p.domain.as_deref() == Some(d)
                    && !matches!(
                        p.status.as_deref(),
                        Some("achieved" | "not_achieved" | "dropped")
                    )
            });
            if !planned {
                no_plan += 1;
            }
            if c.file.referrals.iter().any(|r| {
                r.retracted.is_none()
                    && r.domain.as_deref() == Some(d)
                    && r.status.is_some_and(|s| s.is_service_gap())
            }) {
                refused += 1;
            }
        }
        rows.push(vec![
            Cell::Code("domain", d.to_string()),
            Cell::Num(with_need),
            Cell::Num(no_plan),
            Cell::Num(refused),
            Cell::Num(serving.get(*d).copied().unwrap_or(0)),
        ]);
    }
    Table {
        cases: Vec::new(),
        name: "needs",
        title: "report-needs",
        columns: &[
            ("domain", "domain"),
            ("cases_with_need", "col-with-need"),
            ("without_plan", "col-without-plan"),
            ("referral_declined_or_unavailable", "col-referral-refused"),
            ("active_directory_services", "col-active-services"),
        ],
        rows,
    }
}

fn caseload(cases: &[Arc<Summary>], people: &People, today: &str) -> Table {
    #[derive(Default)]
    struct W {
        open: usize,
        emergency: usize,
        findings: [usize; 4],
        earlier: usize,
        overdue: usize,
        closed: usize,
    }
    let mut m: BTreeMap<String, W> = BTreeMap::new();
    for c in cases {
        let s = &c.summary;
        for w in &s.assigned {
            let e = m.entry(people.name(w)).or_default();
            if s.stage == Stage::Closed {
                e.closed += 1;
                continue;
            }
            e.open += 1;
            e.emergency += usize::from(s.emergency);
            if let Some(i) = s
                .finding
                .and_then(|f| Finding::ALL.iter().position(|x| *x == f))
            {
                e.findings[i] += 1;
            }
            e.earlier += usize::from(s.finding.is_none() && s.earlier_level.is_some());
            e.overdue += usize::from(s.review_overdue(today));
        }
    }
    Table {
        cases: Vec::new(),
        name: "caseload",
        title: "report-caseload",
        columns: &[
            ("worker", "worker"),
            ("open", "col-open"),
            ("emergencies", "emergencies"),
            ("no_evidence_of_abuse", "finding-no_evidence_of_abuse"),
            (
                "insufficient_information",
                "finding-insufficient_information",
            ),
            ("other_family_problems", "finding-other_family_problems"),
            ("evidence_of_abuse", "finding-evidence_of_abuse"),
            ("earlier_scale", "earlier-scale"),
            ("overdue_reviews", "overdue-reviews"),
            ("closed", "col-closed"),
        ],
        rows: m
            .into_iter()
            .map(|(name, w)| {
                vec![
                    Cell::Text(name),
                    Cell::Num(w.open),
                    Cell::Num(w.emergency),
                    Cell::Num(w.findings[0]),
                    Cell::Num(w.findings[1]),
                    Cell::Num(w.findings[2]),
                    Cell::Num(w.findings[3]),
                    Cell::Num(w.earlier),
                    Cell::Num(w.overdue),
                    Cell::Num(w.closed),
                ]
            })
            .collect(),
    }
}

fn closed(cases: &[Arc<Summary>]) -> Table {
    let mut rows = Vec::new();
    let mut named = Vec::new();
    for c in cases {
        for x in c
            .file
            .closures
            .iter()
            .filter(|x| x.retracted.is_none() && x.status == Some(ClosureStatus::Approved))
        {
            rows.push(vec![
                Cell::Text(c.access.id.to_string()),
                Cell::Date(x.decided_at.clone().unwrap_or_default()),
                Cell::Code("closure-reason", x.reason.clone().unwrap_or_default()),
                Cell::Code(
                    "stage",
                    x.stage_at_request
                        .map(|s| s.code())
                        .unwrap_or_default()
                        .into(),
                ),
                Cell::Text(x.outcome.clone()),
                Cell::Code(
                    "yesno",
                    x.informed.map(|i| i.to_string()).unwrap_or_default(),
                ),
                Cell::Code("yesno", (x.reopened_at.is_some()).to_string()),
            ]);
            if named.last() != Some(&c.access.id) {
                named.push(c.access.id);
            }
        }
    }
    Table {
        cases: named,
        name: "closed",
        title: "report-closed",
        columns: &[
            ("case", "col-case"),
            ("closed_on", "col-closed-on"),
            ("reason", "f-reason"),
            ("stage_at_request", "f-stage-at-request"),
            ("outcome", "f-outcome"),
            ("family_informed", "f-informed"),
            ("reopened", "col-reopened"),
        ],
        rows,
    }
}

/// The partner directory's index (the console's cache of the stored version).
async fn directory_index(state: &Arc<AppState>) -> Result<Arc<DirectoryIndex>, AppError> {
    let st = state.clone();
    super::blocking(move || Ok(st.directory.get(st.db.as_ref())?.1)).await
}

/// The day of a date or an instant (`YYYY-MM-DD`).
fn day_of(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// The median of `days` (the lower middle of an even count), if any.
fn median(mut days: Vec<i64>) -> Option<i64> {
    days.sort_unstable();
    (!days.is_empty()).then(|| days[(days.len() - 1) / 2])
}

fn referrals(cases: &[Arc<Summary>], dir: &DirectoryIndex) -> Table {
    use fieldcase_core::case::ReferralStatus as S;
    #[derive(Default)]
    struct Row {
        organisation: String,
        service: String,
        counts: [usize; 6],
        reasons: std::collections::BTreeSet<String>,
        to_answer: Vec<i64>,
        to_deliver: Vec<i64>,
    }
    let mut rows: BTreeMap<(String, String, String), Row> = BTreeMap::new();
    for c in cases {
        for r in c.file.referrals.iter().filter(|r| r.retracted.is_none()) {
            let text = |v: &Option<String>| v.clone().unwrap_or_default().trim().to_string();
            let sid = text(&r.service_id);
            // A directory service counts once, whatever names were written with it.
            let key = match sid.is_empty() {
                true => (String::new(), text(&r.organisation), text(&r.service)),
                false => (sid.clone(), String::new(), String::new()),
            };
            let row = rows.entry(key).or_default();
            // A directory service under the directory's own names.
            if row.organisation.is_empty() {
                if let Some(e) = dir.entry(&sid) {
                    row.organisation = e.organization.name;
                    row.service = e.service.name;
                }
            }
            if row.organisation.is_empty() {
                row.organisation = text(&r.organisation);
            }
            if row.service.is_empty() {
                row.service = text(&r.service);
            }
            row.counts[0] += 1;
            let status = r.status.unwrap_or(S::Sent);
            // Accepted counts every referral the partner accepted, delivered or not yet.
            let accepted = matches!(
                status,
                S::Accepted | S::ServiceStarted | S::Delivered | S::Completed
            ) || r.steps.iter().any(|s| s.status == Some(S::Accepted));
            if accepted {
                row.counts[1] += 1;
            }
            let column = match status {
                S::DeclinedByOrganisation => Some(2),
                S::DeclinedByClient => Some(3),
                S::Unavailable => Some(4),
                S::Delivered | S::Completed => Some(5),
                _ => None,
            };
            if let Some(i) = column {
                row.counts[i] += 1;
            }
            if status == S::DeclinedByOrganisation {
                row.reasons
                    .extend(r.status_reason.clone().filter(|x| !x.trim().is_empty()));
            }
            let sent = r
                .date
                .as_deref()
                .or_else(|| r.steps.first().and_then(|s| s.recorded_at.as_deref()))
                .and_then(day_of);
            let first = |wanted: &[S]| {
                r.steps
                    .iter()
                    .filter(|s| s.status.is_some_and(|x| wanted.contains(&x)))
                    .filter_map(|s| s.recorded_at.as_deref().and_then(day_of))
                    .min()
            };
            if let Some(sent) = sent {
                let answered = first(&[S::Accepted, S::DeclinedByOrganisation, S::Unavailable]);
                row.to_answer
                    .extend(answered.map(|d| (d - sent).num_days().max(0)));
                row.to_deliver
                    .extend(first(&[S::Delivered]).map(|d| (d - sent).num_days().max(0)));
            }
        }
    }
    let days = |d: Option<i64>| Cell::Text(d.map(|n| n.to_string()).unwrap_or_default());
    Table {
        cases: Vec::new(),
        name: "referrals",
        title: "report-referrals",
        columns: &[
            ("organisation", "f-organisation"),
            ("service", "f-service"),
            ("directory_service", "f-directory-service"),
            ("sent", "col-sent"),
            ("accepted", "referral-accepted"),
            (
                "declined_by_organisation",
                "referral-declined_by_organisation",
            ),
            ("reasons", "col-reasons"),
            ("declined_by_client", "referral-declined_by_client"),
            ("unavailable", "referral-unavailable"),
            ("delivered", "referral-delivered"),
            ("median_days_to_answer", "col-days-to-answer"),
            ("median_days_to_deliver", "col-days-to-deliver"),
        ],
        rows: rows
            .into_iter()
            .map(|((sid, _, _), r)| {
                let mut cells = vec![
                    Cell::Text(r.organisation),
                    Cell::Text(r.service),
                    Cell::Text(sid),
                ];
                cells.push(Cell::Num(r.counts[0]));
                cells.push(Cell::Num(r.counts[1]));
                cells.push(Cell::Num(r.counts[2]));
                cells.push(Cell::Text(
                    r.reasons.into_iter().collect::<Vec<_>>().join("; "),
                ));
                cells.extend(r.counts[3..].iter().map(|n| Cell::Num(*n)));
                cells.push(days(median(r.to_answer)));
                cells.push(days(median(r.to_deliver)));
                cells
            })
            .collect(),
    }
}

/// A CSV text field, safe to open in a spreadsheet (OWASP, CSV injection): a cell that
/// starts with `= + - @`, a tab or a carriage return would be read as a formula, and so
/// would such a piece after a `,` or `;` inside the cell (some locales split cells there),
/// so each gets a `'` before it; such a field, and any with a separator, a quote or a line
/// break, is quoted, its quotes doubled. Our numbers are written by [`Cell::csv`] as they are.
pub(crate) fn csv_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    let mut neutralised = false;
    // At the start of the cell, or of a piece after a separator (spaces skipped).
    let mut at_start = true;
    for ch in s.chars() {
        if at_start && matches!(ch, '=' | '+' | '-' | '@' | '\t' | '\r') {
            out.push('\'');
            neutralised = true;
        }
        at_start = matches!(ch, ',' | ';') || (at_start && ch == ' ');
        out.push(ch);
    }
    if neutralised || s.contains([',', ';', '"', '\n', '\r']) {
        format!("\"{}\"", out.replace('"', "\"\""))
    } else {
        out
    }
}

/// Columns shown on the page and left out of the CSV files: free text an organisation or a
/// worker wrote (a reason for declining can name a client; CSV files leave the office).
const PAGE_ONLY: &[&str] = &["reasons"];

fn to_csv(t: &Table) -> String {
    let mut out = String::new();
    let kept: Vec<bool> = t
        .columns
        .iter()
        .map(|(c, _)| !PAGE_ONLY.contains(c))
        .collect();
    let header: Vec<String> = t
        .columns
        .iter()
        .filter(|(c, _)| !PAGE_ONLY.contains(c))
        .map(|(c, _)| csv_field(c))
        .collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for r in &t.rows {
        let line: Vec<String> = r
            .iter()
            .zip(&kept)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c)
            .map(|c| match c {
                Cell::Num(n) => n.to_string(),
                other => csv_field(&other.csv()),
            })
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    u: ConsoleUser,
    q: Result<
        axum::extract::Query<super::period::PeriodQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Response {
    let result = async {
        let axum::extract::Query(q) = q.map_err(|_| {
            AppError::invalid(crate::error::Problem::PeriodInvalid, "a period is two dates, YYYY-MM-DD").with("max_months", crate::console::period::MAX_MONTHS.to_string())
        })?;
        let period = super::period::Period::from_query(&q, &u.locale.today())?;
        let cases = data::visible_cases(&state, u.user()).await?;
        let dir = directory_index(&state).await?;
        let areas = {
            let db = state.db.clone();
            super::blocking(move || db.areas()).await?
        };
        let period_series = super::period::series(&cases, &period, &areas);
        let people = People::load(&state).await?;
        let l = u.locale;
        let today = l.today();
        let tables: Vec<Table> = REPORTS
            .iter()
            .filter_map(|n| build(n, &cases, &people, &today, &dir))
            .collect();
        let body = html! {
            h1 { (l.t("reports-title")) }
            @if u.user().role.has_authority() {
                p { a href="/console/erasure" { (l.t("erasure-link")) } }
            }
            p.muted { (l.t("reports-scope")) }
            (super::period::section(l, &period, &period_series))
            @for t in &tables {
                section.card id=(t.name) {
                    h2 { (l.t(t.title)) }
                    p { a href=(format!("/console/reports/{}.csv", t.name)) download { (l.t("export-csv")) } }
                    @if t.rows.is_empty() { p.muted { (l.t("none")) } }
                    @else {
                        div.scroll tabindex="0" { table {
                            thead { tr { @for (_, key) in t.columns { th scope="col" { (l.t(key)) } } } }
                            tbody { @for r in &t.rows {
                                tr { @for c in r {
                                    td class=[matches!(c, Cell::Num(_)).then_some("num")] { bdi { (c.html(l)) } }
                                } }
                            } }
                        } }
                    }
                }
            }
        };
        Ok::<_, AppError>(view::layout(&u, &l.t("reports-title"), Nav::Reports, "/console/reports", body))
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

pub(crate) async fn csv(
    State(state): State<Arc<AppState>>,
    u: ConsoleUser,
    Path(name): Path<String>,
    q: Result<
        axum::extract::Query<super::period::PeriodQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Response {
    // A report of the period (`period-<name>.csv?from&to`): counts only, no case named.
    if let Some(series) = name
        .strip_prefix("period-")
        .and_then(|n| n.strip_suffix(".csv"))
    {
        let result = async {
            let axum::extract::Query(q) = q.map_err(|_| {
                AppError::invalid(
                    crate::error::Problem::PeriodInvalid,
                    "a period is two dates, YYYY-MM-DD",
                )
                .with("max_months", crate::console::period::MAX_MONTHS.to_string())
            })?;
            let period = super::period::Period::from_query(&q, &u.locale.today())?;
            let cases = data::visible_cases(&state, u.user()).await?;
            let db = state.db.clone();
            let areas = super::blocking(move || db.areas()).await?;
            let all = super::period::series(&cases, &period, &areas);
            let s = all
                .iter()
                .find(|s| s.name == series)
                .ok_or(AppError::NotFound)?;
            Ok::<_, AppError>(super::period::to_csv(u.locale, s))
        }
        .await;
        return csv_answer(&u, &name, result);
    }
    let result = async {
        let report = name
            .strip_suffix(".csv")
            .filter(|n| REPORTS.contains(n))
            .ok_or(AppError::NotFound)?;
        let cases = data::visible_cases(&state, u.user()).await?;
        let people = People::load(&state).await?;
        let dir = directory_index(&state).await?;
        let t =
            build(report, &cases, &people, &u.locale.today(), &dir).ok_or(AppError::NotFound)?;
        // Every case the file names leaves the server with it: each is on its record, one
        // entry per case and download, before the file is sent.
        let (db, who, device, named) = (
            state.db.clone(),
            u.user().id.clone(),
            u.session.device_id.clone(),
            t.cases.clone(),
        );
        let action = format!("csv {report} (console)");
        super::blocking(move || db.audit_cases(&who, &device, &named, &action, super::now_ms()))
            .await?;
        Ok::<_, AppError>(to_csv(&t))
    }
    .await;
    csv_answer(&u, &name, result)
}

/// A CSV download named `fieldcase-<name>`, or the error in the user's language.
fn csv_answer(u: &ConsoleUser, name: &str, result: Result<String, AppError>) -> Response {
    match result {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"fieldcase-{name}\""),
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => u.error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("@SUM(1)", "\"'@SUM(1)\""),
            ("+1", "\"'+1\""),
            ("-2", "\"'-2\""),
            ("\tx", "\"'\tx\""),
            ("\rx", "\"'\rx\""),
            ("a;=1", "\"a;'=1\""),
            ("a, =1", "\"a, '=1\""),
            ("a;b", "\"a;b\""),
            ("a-b=c", "a-b=c"),
            ("", ""),
        ] {
            assert_eq!(csv_field(cell), written, "{cell}");
        }
        assert_eq!(csv_field("ул. Ленина, 5"), "\"ул. Ленина, 5\"");
    }
}
