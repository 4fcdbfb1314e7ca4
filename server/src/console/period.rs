//! Reports over a period, for the people who fund and oversee the work: cases opened and
//! closed per month; who the clients of the period are (gender, age band, stage); what
//! became of the period's referrals; how long cases took from opening to closure; where the
//! clients live (cases by the client's area, one of the agency's areas, with "area not
//! recorded" a row of its own and a code the list lacks shown as such, never dropped). Each
//! is a chart drawn on the server as SVG (no JavaScript) with its table beside it, each a
//! CSV (`/console/reports/period-<name>.csv`), and all of them one spreadsheet
//! (`/console/reports/period.xlsx`, what ministries and donors open).
//!
//! A case counts in the period when it was open at any time in it (opened on or before its
//! end, and not closed before its start). A case opens on its intake date, else the day it
//! was created; it closes on the day its closure was approved. Names never leave: the
//! tables are counts.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fieldcase_core::case::{ClosureStatus, ReferralStatus};
use fieldcase_core::Stage;
use maud::{html, Markup};
use serde::Deserialize;

use super::data::{self, Summary};
use super::i18n::Locale;
use super::ConsoleUser;
use crate::error::AppError;
use crate::AppState;

/// The longest period a report covers (months), so a chart and a sheet stay bounded.
pub(crate) const MAX_MONTHS: usize = 120;

/// A period of whole days, both ends included (`YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Period {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

impl Period {
    /// The period asked for; by default the twelve months up to today (from the first day
    /// of the month eleven months ago). A date that is not one, an end before the start or
    /// more than [`MAX_MONTHS`] months are refused in words.
    pub(crate) fn from_query(q: &PeriodQuery, today: &str) -> Result<Period, AppError> {
        fn blank(s: &Option<String>) -> Option<&str> {
            s.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let to = blank(&q.to).unwrap_or(today).to_string();
        let from = match blank(&q.from) {
            Some(f) => f.to_string(),
            None => {
                let (y, m) = month_of(&to).ok_or_else(bad_date)?;
                let (y, m) = add_months(y, m, -11);
                format!("{y:04}-{m:02}-01")
            }
        };
        if !is_date(&from) || !is_date(&to) {
            return Err(bad_date());
        }
        if from > to {
            return Err(AppError::invalid(
                crate::error::Problem::PeriodInvalid,
                "the period ends before it starts",
            )
            .with("max_months", MAX_MONTHS.to_string()));
        }
        let p = Period { from, to };
        if p.months().len() > MAX_MONTHS {
            return Err(AppError::invalid(
                crate::error::Problem::PeriodInvalid,
                format!("a report covers at most {MAX_MONTHS} months"),
            )
            .with("max_months", MAX_MONTHS.to_string()));
        }
        Ok(p)
    }

    /// Every month of the period, `YYYY-MM`, in order.
    pub(crate) fn months(&self) -> Vec<String> {
        let (Some((mut y, mut m)), Some(end)) = (month_of(&self.from), month_of(&self.to)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while (y, m) <= end && out.len() <= MAX_MONTHS {
            out.push(format!("{y:04}-{m:02}"));
            (y, m) = add_months(y, m, 1);
        }
        out
    }

    fn contains(&self, day: &str) -> bool {
        day >= self.from.as_str() && day <= self.to.as_str()
    }
}

fn bad_date() -> AppError {
    AppError::invalid(
        crate::error::Problem::PeriodInvalid,
        "a period is two dates, YYYY-MM-DD",
    )
    .with("max_months", crate::console::period::MAX_MONTHS.to_string())
}

fn month_of(day: &str) -> Option<(i32, u32)> {
    let y = day.get(..4)?.parse().ok()?;
    let m = day.get(5..7)?.parse().ok()?;
    (1..=12).contains(&m).then_some((y, m))
}

fn add_months(y: i32, m: u32, n: i32) -> (i32, u32) {
    let total = y * 12 + (m as i32 - 1) + n;
    (total.div_euclid(12), total.rem_euclid(12) as u32 + 1)
}

/// The day a case opened: its intake date, else the day it was created.
fn opened(c: &Summary) -> Option<String> {
    c.file
        .intake
        .date
        .clone()
        .or_else(|| c.file.created_at.clone())
        .and_then(|d| d.get(..10).map(str::to_string))
        .filter(|d| is_date(d))
}

/// The days a case's closures were approved (and not reopened since, for the last one).
fn closed_on(c: &Summary) -> Vec<String> {
    c.file
        .closures
        .iter()
        .filter(|x| x.retracted.is_none() && x.status == Some(ClosureStatus::Approved))
        .filter_map(|x| x.decided_at.as_deref()?.get(..10).map(str::to_string))
        .collect()
}

/// The steps of a case whose time from opening the reports give, and the day each was
/// first reached: its first assessment, its first approved plan, its first review, its
/// first closure (the days the worker or supervisor recorded, not when they were typed).
const STEPS: &[&str] = &["assessment", "plan", "review", "closure"];

fn first_day<'a>(days: impl Iterator<Item = Option<&'a str>>) -> Option<String> {
    days.flatten()
        .filter_map(|d| d.get(..10))
        .filter(|d| is_date(d))
        .min()
        .map(str::to_string)
}

fn step_reached(c: &Summary, step: &str) -> Option<String> {
    let f = &c.file;
    match step {
        "assessment" => first_day(
            f.assessments
                .iter()
                .filter(|a| a.retracted.is_none())
                .map(|a| a.date.as_deref()),
        ),
        "plan" => first_day(f.plan.versions.iter().map(|v| v.decided_at.as_deref())),
        "review" => first_day(
            f.reviews
                .iter()
                .filter(|r| r.retracted.is_none())
                .map(|r| r.date.as_deref()),
        ),
        _ => closed_on(c).into_iter().min(),
    }
}

/// Whether the case was open at some time in the period.
fn open_in(c: &Summary, p: &Period) -> bool {
    let Some(start) = opened(c) else {
        return false;
    };
    if start.as_str() > p.to.as_str() {
        return false;
    }
    // Closed for good before the period began: its last closure, not reopened.
    let last = c
        .file
        .closures
        .iter()
        .filter(|x| x.retracted.is_none() && x.status == Some(ClosureStatus::Approved))
        .max_by(|a, b| a.decided_at.cmp(&b.decided_at));
    !matches!(last, Some(x) if x.reopened_at.is_none()
        && x.decided_at.as_deref().is_some_and(|d| &d[..10.min(d.len())] < p.from.as_str()))
}

/// Age bands of the clients (years at the end of the period).
const AGE_BANDS: [(&str, i64, i64); 5] = [
    ("0-5", 0, 5),
    ("6-11", 6, 11),
    ("12-17", 12, 17),
    ("18-59", 18, 59),
    ("60-plus", 60, 200),
];

fn age_band(c: &Summary, at: &str) -> &'static str {
    let Some(dob) = c.file.client.date_of_birth.as_deref() else {
        return "unknown";
    };
    let years = match (
        chrono::NaiveDate::parse_from_str(dob.get(..10).unwrap_or(""), "%Y-%m-%d"),
        chrono::NaiveDate::parse_from_str(at, "%Y-%m-%d"),
    ) {
        (Ok(b), Ok(t)) => t.years_since(b).map(i64::from),
        _ => None,
    };
    years
        .and_then(|y| {
            AGE_BANDS
                .iter()
                .find(|(_, lo, hi)| (*lo..=*hi).contains(&y))
        })
        .map_or("unknown", |(name, _, _)| name)
}

/// One report of the period: a chart's data and the table beside it.
pub(crate) struct Series {
    pub name: &'static str,
    pub title: &'static str,
    /// Column headings (message ids) after the label column.
    pub columns: Vec<&'static str>,
    /// Label (shown through `label`), then one count per column.
    pub rows: Vec<(Label, Vec<usize>)>,
}

/// A row's label: a month, a code with its message prefix, a text as it is, or an area
/// code the server's list lacks.
#[derive(Debug, Clone)]
pub(crate) enum Label {
    Month(String),
    Code(&'static str, String),
    Text(String),
    UnknownArea(String),
}

impl Label {
    pub(crate) fn shown(&self, l: &Locale) -> String {
        match self {
            Label::Month(m) => l.month(m),
            Label::Code(prefix, c) => l.code(prefix, c),
            Label::Text(t) => t.clone(),
            Label::UnknownArea(c) => l.ta("area-unknown", &[("code", c.as_str().into())]),
        }
    }
}

/// The code that stands for "no area recorded" among the area counts (no area code has a
/// space, [`fieldcase_core::schema::is_area_code`]).
const NO_AREA: &str = " none";

/// The rows of "cases by area": each area of the list that has cases (its name and code,
/// in the list's order), then codes the list lacks (written before it had them, or by
/// another server: shown as such, not dropped), then the cases with no area recorded (a
/// row always, so that what cannot be counted by area is in sight).
fn area_rows(
    counts: &BTreeMap<String, usize>,
    areas: &[crate::db::areas::Area],
) -> Vec<(Label, Vec<usize>)> {
    let mut rows: Vec<(Label, Vec<usize>)> = areas
        .iter()
        .filter_map(|a| {
            let n = *counts.get(&a.code)?;
            Some((Label::Text(format!("{} ({})", a.name, a.code)), vec![n]))
        })
        .collect();
    for (code, n) in counts {
        if code != NO_AREA && !areas.iter().any(|a| &a.code == code) {
            rows.push((Label::UnknownArea(code.clone()), vec![*n]));
        }
    }
    rows.push((
        Label::Code("area", "not-recorded".into()),
        vec![counts.get(NO_AREA).copied().unwrap_or(0)],
    ));
    rows
}

/// Every report of the period over the cases the user may see (`areas`: the agency's).
pub(crate) fn series(
    cases: &[Arc<Summary>],
    p: &Period,
    areas: &[crate::db::areas::Area],
) -> Vec<Series> {
    let months = p.months();
    let mut opened_in: BTreeMap<String, usize> = months.iter().map(|m| (m.clone(), 0)).collect();
    let mut closed_in = opened_in.clone();
    let mut gender: BTreeMap<String, usize> = BTreeMap::new();
    let mut ages: BTreeMap<&'static str, usize> =
        AGE_BANDS.iter().map(|(n, _, _)| (*n, 0)).collect();
    ages.insert("unknown", 0);
    let mut stages: BTreeMap<Stage, usize> = BTreeMap::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut findings: BTreeMap<String, usize> = BTreeMap::new();
    let mut vulnerabilities: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_area: BTreeMap<String, usize> = BTreeMap::new();
    let mut referrals: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut days_to_close: Vec<i64> = Vec::new();
    let mut days_to_step: Vec<Vec<i64>> = vec![Vec::new(); STEPS.len()];
    for c in cases {
        let start = opened(c);
        if let Some(d) = start.as_deref().filter(|d| p.contains(d)) {
            *opened_in.entry(d[..7].to_string()).or_default() += 1;
        }
        for d in closed_on(c).iter().filter(|d| p.contains(d)) {
            *closed_in.entry(d[..7].to_string()).or_default() += 1;
            if let (Some(s), Ok(end)) = (
                start
                    .as_deref()
                    .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()),
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d"),
            ) {
                days_to_close.push((end - s).num_days().max(0));
            }
        }
        // Days from opening to each step first reached within the period.
        let begun = start
            .as_deref()
            .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        for (i, step) in STEPS.iter().enumerate() {
            let reached = step_reached(c, step).filter(|d| p.contains(d));
            if let (Some(b), Some(r)) = (
                begun,
                reached.and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
            ) {
                days_to_step[i].push((r - b).num_days().max(0));
            }
        }
        for r in c.file.referrals.iter().filter(|r| r.retracted.is_none()) {
            if r.date
                .as_deref()
                .is_some_and(|d| p.contains(d.get(..10).unwrap_or(d)))
            {
                *referrals
                    .entry(r.status.unwrap_or(ReferralStatus::Sent).code())
                    .or_default() += 1;
            }
        }
        if !open_in(c, p) {
            continue;
        }
        *gender
            .entry(
                c.file
                    .client
                    .gender
                    .clone()
                    .unwrap_or_else(|| "unknown".into()),
            )
            .or_default() += 1;
        *ages.entry(age_band(c, &p.to)).or_default() += 1;
        *by_area
            .entry(c.file.client.area.clone().unwrap_or_else(|| NO_AREA.into()))
            .or_default() += 1;
        *stages.entry(c.file.stage).or_default() += 1;
        *kinds
            .entry(c.file.case_kind.map_or("unknown", |k| k.code()).to_string())
            .or_default() += 1;
        let finding = c.file.current_judgement().and_then(|j| j.finding);
        *findings
            .entry(finding.map_or("unknown", |f| f.code()).to_string())
            .or_default() += 1;
        // A client may have several vulnerabilities: counted under each (the rows add up
        // to more than the clients).
        let mut own: Vec<&str> = c
            .file
            .client
            .vulnerabilities
            .iter()
            .map(String::as_str)
            .collect();
        own.sort_unstable();
        own.dedup();
        if own.is_empty() {
            own.push("none");
        }
        for v in own {
            *vulnerabilities.entry(v.to_string()).or_default() += 1;
        }
    }
    days_to_close.sort_unstable();
    for d in &mut days_to_step {
        d.sort_unstable();
    }
    let median = |v: &[i64]| -> usize {
        if v.is_empty() {
            0
        } else {
            v[v.len() / 2] as usize
        }
    };
    vec![
        Series {
            name: "months",
            title: "report-months",
            columns: vec!["col-opened", "col-closed"],
            rows: months
                .iter()
                .map(|m| (Label::Month(m.clone()), vec![opened_in[m], closed_in[m]]))
                .collect(),
        },
        Series {
            name: "gender",
            title: "report-gender",
            columns: vec!["col-cases"],
            rows: gender
                .into_iter()
                .map(|(g, n)| (Label::Code("gender", g), vec![n]))
                .collect(),
        },
        Series {
            name: "age",
            title: "report-age",
            columns: vec!["col-cases"],
            rows: AGE_BANDS
                .iter()
                .map(|(n, _, _)| *n)
                .chain(["unknown"])
                .map(|band| (Label::Code("age", band.to_string()), vec![ages[band]]))
                .collect(),
        },
        Series {
            name: "area",
            title: "report-area",
            columns: vec!["col-cases"],
            rows: area_rows(&by_area, areas),
        },
        Series {
            name: "stage",
            title: "report-stage",
            columns: vec!["col-cases"],
            rows: stages
                .into_iter()
                .map(|(s, n)| (Label::Code("stage", s.code().to_string()), vec![n]))
                .collect(),
        },
        Series {
            name: "case-kind",
            title: "report-case-kind",
            columns: vec!["col-cases"],
            rows: kinds
                .into_iter()
                .map(|(k, n)| (Label::Code("case-kind", k), vec![n]))
                .collect(),
        },
        Series {
            name: "conclusion",
            title: "report-conclusion",
            columns: vec!["col-cases"],
            rows: findings
                .into_iter()
                .map(|(k, n)| (Label::Code("finding", k), vec![n]))
                .collect(),
        },
        Series {
            name: "vulnerability",
            title: "report-vulnerability",
            columns: vec!["col-clients"],
            rows: vulnerabilities
                .into_iter()
                .map(|(k, n)| (Label::Code("vuln", k), vec![n]))
                .collect(),
        },
        Series {
            name: "referrals",
            title: "report-referral-outcomes",
            columns: vec!["col-referrals"],
            // Every status this version knows, then any a newer app wrote, as its code.
            rows: ReferralStatus::ALL
                .iter()
                .map(|s| s.code())
                .chain(
                    referrals
                        .keys()
                        .copied()
                        .filter(|c| !ReferralStatus::ALL.iter().any(|s| s.code() == *c)),
                )
                .map(|c| {
                    (
                        Label::Code("referral", c.to_string()),
                        vec![referrals.get(c).copied().unwrap_or(0)],
                    )
                })
                .collect(),
        },
        Series {
            name: "time-to-steps",
            title: "report-time-to-steps",
            columns: vec!["col-cases", "col-median-days", "col-longest-days"],
            rows: STEPS
                .iter()
                .zip(&days_to_step)
                .map(|(step, d)| {
                    (
                        Label::Code("step", step.to_string()),
                        vec![d.len(), median(d), d.last().copied().unwrap_or(0) as usize],
                    )
                })
                .collect(),
        },
        Series {
            name: "time-to-close",
            title: "report-time-to-close",
            columns: vec!["col-closures", "col-median-days", "col-longest-days"],
            rows: vec![(
                Label::Text(String::new()),
                vec![
                    days_to_close.len(),
                    median(&days_to_close),
                    days_to_close.last().copied().unwrap_or(0) as usize,
                ],
            )],
        },
    ]
}

/// A bar chart of a series, drawn as SVG: one group of bars per row, one bar per column,
/// the counts written on the bars. Left to right in every language (the table beside it
/// reads in the page's direction); described for screen readers by its title.
pub(crate) fn chart(l: &Locale, s: &Series) -> Markup {
    const BAR: f64 = 16.0;
    const GAP: f64 = 10.0;
    const LABEL: f64 = 170.0;
    const WIDTH: f64 = 520.0;
    let max = s
        .rows
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let per_row = BAR * s.columns.len() as f64 + GAP;
    let height = per_row * s.rows.len() as f64 + GAP;
    let title_id = format!("chart-{}", s.name);
    let scale = (WIDTH - LABEL - 50.0) / max;
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby=(title_id)
            viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) direction="ltr" {
            title id=(title_id) { (l.t(s.title)) }
            @for (i, (label, values)) in s.rows.iter().enumerate() {
                @let y = GAP + i as f64 * per_row;
                text x=(LABEL - 6.0) y=(y + BAR * values.len() as f64 / 2.0 + 4.0) text-anchor="end" { (label.shown(l)) }
                @for (j, v) in values.iter().enumerate() {
                    @let w = (*v as f64 * scale).max(if *v > 0 { 1.0 } else { 0.0 });
                    rect class=(format!("bar bar-{j}")) x=(LABEL) y=(y + j as f64 * BAR) width=(w) height=(BAR - 2.0) {
                        title { (l.t(s.columns[j])) ": " (l.number(*v as i64)) }
                    }
                    text x=(LABEL + w + 4.0) y=(y + j as f64 * BAR + BAR - 5.0) { (l.number(*v as i64)) }
                }
            }
        }
    }
}

/// The table beside a chart.
pub(crate) fn table(l: &Locale, s: &Series, label_heading: &str) -> Markup {
    html! {
        div.scroll tabindex="0" { table {
            thead { tr {
                th scope="col" { (l.t(label_heading)) }
                @for c in &s.columns { th scope="col" { (l.t(c)) } }
            } }
            tbody { @for (label, values) in &s.rows {
                tr {
                    th scope="row" { bdi { (label.shown(l)) } }
                    @for v in values { td.num { (l.number(*v as i64)) } }
                }
            } }
        } }
    }
}

/// The period's section of the reports page: the form that chooses it, and each report as
/// a chart with its table.
pub(crate) fn section(l: &Locale, p: &Period, all: &[Series]) -> Markup {
    html! {
        section.card #period {
            h2 { (l.t("report-period")) }
            form.inline method="get" action="/console/reports" {
                label { (l.t("period-from")) " " input type="date" name="from" value=(p.from) required; }
                " "
                label { (l.t("period-to")) " " input type="date" name="to" value=(p.to) required; }
                " "
                button type="submit" { (l.t("period-show")) }
            }
            p { a href=(format!("/console/reports/period.xlsx?from={}&to={}", p.from, p.to)) download { (l.t("export-xlsx")) } }
            @for s in all {
                div.report id=(format!("period-{}", s.name)) {
                    h3 { (l.t(s.title)) }
                    p { a href=(format!("/console/reports/period-{}.csv?from={}&to={}", s.name, p.from, p.to)) download { (l.t("export-csv")) } }
                    div.chart-and-table {
                        (chart(l, s))
                        (table(l, s, if s.name == "months" { "col-month" } else { "col-group" }))
                    }
                }
            }
        }
    }
}

/// The period's reports as one workbook, a sheet per report (counts only; every text is
/// written as text, never as a formula).
pub(crate) fn workbook(l: &Locale, p: &Period, all: &[Series]) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let bold = Format::new().set_bold();
    let mut book = Workbook::new();
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("spreadsheet: {e}"));
    for s in all {
        let sheet = book.add_worksheet();
        sheet.set_name(s.name).map_err(fail)?;
        sheet
            .write_string_with_format(
                0,
                0,
                format!("{} ({} – {})", l.t(s.title), p.from, p.to),
                &bold,
            )
            .map_err(fail)?;
        let heading = if s.name == "months" {
            "col-month"
        } else {
            "col-group"
        };
        sheet
            .write_string_with_format(2, 0, l.t(heading), &bold)
            .map_err(fail)?;
        for (j, c) in s.columns.iter().enumerate() {
            sheet
                .write_string_with_format(2, j as u16 + 1, l.t(c), &bold)
                .map_err(fail)?;
        }
        for (i, (label, values)) in s.rows.iter().enumerate() {
            let row = i as u32 + 3;
            let text = match label {
                Label::Month(m) => m.clone(),
                other => other.shown(l),
            };
            sheet.write_string(row, 0, text).map_err(fail)?;
            for (j, v) in values.iter().enumerate() {
                sheet
                    .write_number(row, j as u16 + 1, *v as f64)
                    .map_err(fail)?;
            }
        }
        sheet.set_column_width(0, 28).map_err(fail)?;
    }
    book.save_to_buffer().map_err(fail)
}

/// One report of the period as CSV: its labels as the page shows them, its counts (no
/// case is named). Cells a spreadsheet would read as a formula are neutralised.
pub(crate) fn to_csv(l: &Locale, s: &Series) -> String {
    let field = super::reports::csv_field;
    let heading = if s.name == "months" {
        "col-month"
    } else {
        "col-group"
    };
    let mut out = std::iter::once(field(&l.t(heading)))
        .chain(s.columns.iter().map(|c| field(&l.t(c))))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    for (label, values) in &s.rows {
        let text = match label {
            Label::Month(m) => m.clone(),
            other => other.shown(l),
        };
        out.push_str(&field(&text));
        for v in values {
            out.push(',');
            out.push_str(&v.to_string());
        }
        out.push_str("\r\n");
    }
    out
}

/// `GET /console/reports/period.xlsx?from&to`.
pub(crate) async fn xlsx(
    State(state): State<Arc<AppState>>,
    u: ConsoleUser,
    q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let result = async {
        let Query(q) = q.map_err(|_| bad_date())?;
        let p = Period::from_query(&q, &u.locale.today())?;
        let cases = data::visible_cases(&state, u.user()).await?;
        let db = state.db.clone();
        let areas = super::blocking(move || db.areas()).await?;
        workbook(u.locale, &p, &series(&cases, &p, &areas))
    }
    .await;
    match result {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"fieldcase-period.xlsx\"".to_string(),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => u.error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fieldcase_core::case::{Author, CaseFile, Closure, Referral, Role};
    use fieldcase_core::{CaseDoc, CaseId, NewCase};

    /// A case as the reports see it, with the read view given.
    fn case(file: CaseFile) -> Arc<Summary> {
        let author = Author::new("u", "U", Role::Worker, "d");
        let id = CaseId::random();
        let doc = CaseDoc::create(
            id,
            automerge::ActorId::random(),
            &author,
            NewCase {
                team: "t".into(),
                ..Default::default()
            },
            0,
        )
        .unwrap();
        Arc::new(Summary {
            access: crate::db::CaseAccess::read(id, doc.automerge()).unwrap(),
            summary: fieldcase_core::store::CaseSummary::of(&doc, 0).unwrap(),
            file,
        })
    }

    fn opened_on(day: &str, gender: &str, born: Option<&str>) -> CaseFile {
        let mut f = CaseFile::default();
        f.intake.date = Some(day.into());
        f.client.gender = Some(gender.into());
        f.client.date_of_birth = born.map(str::to_string);
        f
    }

    fn closure(day: &str) -> Closure {
        Closure {
            status: Some(ClosureStatus::Approved),
            decided_at: Some(format!("{day}T10:00:00Z")),
            ..Default::default()
        }
    }

    #[test]
    fn a_period_counts_what_was_open_in_it() {
        let p = Period::from_query(&q("2026-09-01", "2026-11-30"), "2026-12-02").unwrap();
        let mut closed_in_oct = opened_on("2026-09-10", "female", Some("2015-03-21"));
        closed_in_oct.closures.push(closure("2026-10-20"));
        closed_in_oct.referrals.push(Referral {
            date: Some("2026-09-12".into()),
            status: Some(ReferralStatus::DeclinedByOrganisation),
            ..Default::default()
        });
        let mut closed_before = opened_on("2026-01-05", "male", Some("1950-01-01"));
        closed_before.closures.push(closure("2026-03-01"));
        let cases = [
            case(closed_in_oct),
            case(opened_on("2026-10-01", "male", Some("2000-06-01"))),
            case(opened_on("2026-10-15", "female", None)),
            case(opened_on("2026-12-01", "female", Some("2020-01-01"))),
            case(closed_before),
        ];
        let all = series(&cases, &p, &[]);
        let get = |name: &str| all.iter().find(|s| s.name == name).unwrap();
        let rows = |name: &str| -> Vec<(String, Vec<usize>)> {
            get(name)
                .rows
                .iter()
                .map(|(l, v)| {
                    let label = match l {
                        Label::Month(m)
                        | Label::Code(_, m)
                        | Label::Text(m)
                        | Label::UnknownArea(m) => m.clone(),
                    };
                    (label, v.clone())
                })
                .collect()
        };
        assert_eq!(
            rows("months"),
            [
                ("2026-09".to_string(), vec![1, 0]),
                ("2026-10".to_string(), vec![2, 1]),
                ("2026-11".to_string(), vec![0, 0]),
            ]
        );
        // Open in the period: the three opened in it (one since closed); not the one
        // opened after it, nor the one closed before it.
        assert_eq!(
            rows("gender"),
            [
                ("female".to_string(), vec![2]),
                ("male".to_string(), vec![1])
            ]
        );
        let ages = rows("age");
        assert_eq!(ages.iter().map(|(_, v)| v[0]).sum::<usize>(), 3);
        assert!(ages.contains(&("6-11".to_string(), vec![1])));
        assert!(ages.contains(&("18-59".to_string(), vec![1])));
        assert!(ages.contains(&("unknown".to_string(), vec![1])));
        assert!(rows("referrals").contains(&("declined_by_organisation".to_string(), vec![1])));
        // 10 September to 20 October: 40 days.
        assert_eq!(rows("time-to-close")[0].1, vec![1, 40, 40]);
    }

    #[test]
    fn cases_count_by_area_with_unrecorded_and_unknown_areas_in_rows_of_their_own() {
        use crate::db::areas::Area;
        let p = Period::from_query(&q("2026-09-01", "2026-11-30"), "2026-12-02").unwrap();
        let in_area = |code: Option<&str>, day: &str| {
            let mut f = opened_on(day, "female", None);
            f.client.area = code.map(str::to_string);
            case(f)
        };
        let areas = [
            Area {
                code: "00001".into(),
                name: "Xã Tân Phú".into(),
            },
            Area {
                code: "00004".into(),
                name: "Xã Phú Mỹ".into(),
            },
            Area {
                code: "00007".into(),
                name: "Phường Ba Đình".into(),
            },
        ];
        let cases = [
            in_area(Some("00004"), "2026-09-10"),
            in_area(Some("00001"), "2026-10-01"),
            in_area(Some("00004"), "2026-11-02"),
            // Outside the period: not counted.
            in_area(Some("00001"), "2026-12-05"),
            in_area(None, "2026-10-03"),
            // A code the list lacks (another server's): counted as such.
            in_area(Some("99999"), "2026-10-04"),
        ];
        let all = series(&cases, &p, &areas);
        let s = all.iter().find(|s| s.name == "area").unwrap();
        let l = Locale::get("en");
        let shown: Vec<(String, Vec<usize>)> = s
            .rows
            .iter()
            .map(|(label, v)| (label.shown(l), v.clone()))
            .collect();
        assert_eq!(
            shown,
            [
                ("Xã Tân Phú (00001)".to_string(), vec![1]),
                ("Xã Phú Mỹ (00004)".to_string(), vec![2]),
                ("Not in the list of areas: 99999".to_string(), vec![1]),
                ("Area not recorded".to_string(), vec![1]),
            ]
        );
        // No case with an area: "not recorded" still has its row (zero).
        let none = series(&[], &p, &areas);
        let s = none.iter().find(|s| s.name == "area").unwrap();
        assert_eq!(s.rows.len(), 1);
        assert_eq!(s.rows[0].1, vec![0]);
        // Its CSV: the labels as shown, a formula neutralised.
        let odd = [Area {
            code: "00001".into(),
            name: "=HYPERLINK(1)".into(),
        }];
        let cases = [in_area(Some("00001"), "2026-10-01")];
        let all = series(&cases, &p, &odd);
        let csv = to_csv(l, all.iter().find(|s| s.name == "area").unwrap());
        assert_eq!(
            csv,
            "Group,Cases\r\n\"'=HYPERLINK(1) (00001)\",1\r\nArea not recorded,0\r\n"
        );
    }

    fn q(from: &str, to: &str) -> PeriodQuery {
        PeriodQuery {
            from: Some(from.into()),
            to: Some(to.into()),
        }
    }

    #[test]
    fn periods_default_to_twelve_months_and_refuse_what_is_not_one() {
        let p = Period::from_query(&PeriodQuery::default(), "2026-12-02").unwrap();
        assert_eq!(
            (p.from.as_str(), p.to.as_str()),
            ("2026-01-01", "2026-12-02")
        );
        assert_eq!(p.months().len(), 12);
        let p = Period::from_query(&q("2025-11-15", "2026-02-01"), "2026-12-02").unwrap();
        assert_eq!(p.months(), ["2025-11", "2025-12", "2026-01", "2026-02"]);
        for (from, to) in [
            ("2026-02-30", "2026-03-01"),
            ("yesterday", "2026-03-01"),
            ("2026-03-02", "2026-03-01"),
            ("1990-01-01", "2026-03-01"),
        ] {
            assert!(
                matches!(
                    Period::from_query(&q(from, to), "2026-12-02"),
                    Err(AppError::Invalid { .. })
                ),
                "{from} {to}"
            );
        }
        assert_eq!(add_months(2026, 1, -11), (2025, 2));
        assert_eq!(add_months(2026, 12, 1), (2027, 1));
    }
}
