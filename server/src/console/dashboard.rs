//! The caseload dashboard: cases per worker, by stage, by kind of case and by risk
//! conclusion (grouped, never ranked: "not enough information" is not a lesser finding);
//! overdue reviews, emergencies whose safety is not yet secured, next steps waiting, cases
//! with unresolved conflicts, recent activity; the case list with
//! filters and search (the phone's own filter and multilingual matching,
//! [`fieldcase_core::store::select`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use fieldcase_core::case::{CaseKind, Finding};
use fieldcase_core::store::{select, CaseFilter, CaseSummary, SortBy};
use fieldcase_core::Stage;
use maud::{html, Markup};
use serde::Deserialize;

use super::data::{self, People};
use super::view::{self, count, emergency_badge, finding_badge, risk_badge, stage_badge, Nav};
use super::ConsoleUser;
use crate::AppState;

/// How many changes the recent activity shows.
const RECENT_SHOWN: usize = 15;

/// The dashboard's filters (all optional; an unknown value is a clear error).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    q: String,
    #[serde(default)]
    worker: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    finding: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    only: String,
}

impl Filters {
    fn to_filter(&self, today: &str) -> Result<CaseFilter, String> {
        let mut f = CaseFilter {
            sort: SortBy::LastChange,
            ..Default::default()
        };
        if !self.q.trim().is_empty() {
            f.query = Some(self.q.chars().take(200).collect());
        }
        if !self.worker.is_empty() {
            f.assigned_to = Some(self.worker.clone());
        }
        if !self.stage.is_empty() {
            f.stage = Some(Stage::from_code(&self.stage).ok_or("unknown stage")?);
        }
        if !self.finding.is_empty() {
            f.finding = Some(Finding::from_code(&self.finding).ok_or("unknown conclusion")?);
        }
        if !self.kind.is_empty() {
            f.case_kind = Some(CaseKind::from_code(&self.kind).ok_or("unknown kind of case")?);
        }
        match self.only.as_str() {
            "" => {}
            "overdue" => {
                f.review_overdue_on = Some(today.to_string());
                f.sort = SortBy::NextReview;
            }
            "emergency" => f.emergency = Some(true),
            "conflicts" => f.with_conflicts = Some(true),
            _ => return Err("unknown filter".into()),
        }
        Ok(f)
    }
}

pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    u: ConsoleUser,
    q: Result<Query<Filters>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let filters = match q {
        Ok(Query(f)) => f,
        Err(_) => {
            return u.error(crate::AppError::invalid(
                crate::error::Problem::FiltersUnreadable,
                "the filters are not readable",
            ))
        }
    };
    match render(&state, &u, &filters).await {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

async fn render(
    state: &Arc<AppState>,
    u: &ConsoleUser,
    filters: &Filters,
) -> crate::AppResult<view::Page> {
    let l = u.locale;
    let today = l.today();
    let filter = filters
        .to_filter(&today)
        .map_err(|e| crate::AppError::invalid(crate::error::Problem::FiltersUnreadable, e))?;
    let cases = data::listed_cases(state, u.user()).await?;
    let people = People::load(state).await?;
    let summaries: Vec<CaseSummary> = cases.iter().map(|c| c.summary.clone()).collect();
    let shown = select(summaries.iter(), &filter);
    let open: Vec<&CaseSummary> = summaries
        .iter()
        .filter(|s| s.stage != Stage::Closed)
        .collect();

    // Per worker: open cases by stage.
    let mut per_worker: BTreeMap<String, (String, BTreeMap<Stage, usize>, usize)> = BTreeMap::new();
    for s in &open {
        for w in &s.assigned {
            let e = per_worker
                .entry(w.clone())
                .or_insert_with(|| (people.name(w), BTreeMap::new(), 0));
            *e.1.entry(s.stage).or_default() += 1;
            e.2 += 1;
        }
    }
    let mut workers: Vec<_> = per_worker.into_iter().collect();
    workers.sort_by(|a, b| a.1 .0.cmp(&b.1 .0));
    // Child-protection conclusions, each its own group (in the seed's order).
    let concluding: Vec<&CaseSummary> = open
        .iter()
        .copied()
        .filter(|s| s.case_kind.is_none_or(|k| k.has_findings()))
        .collect();
    let by_finding = |f: Option<Finding>| {
        concluding
            .iter()
            .filter(|s| s.finding == f && (f.is_some() || s.earlier_level.is_none()))
            .count()
    };
    let earlier = concluding
        .iter()
        .filter(|s| s.finding.is_none() && s.earlier_level.is_some())
        .count();
    let by_kind = |k: Option<CaseKind>| open.iter().filter(|s| s.case_kind == k).count();
    let next_steps: Vec<&CaseSummary> = open
        .iter()
        .copied()
        .filter(|s| s.next_step.is_some())
        .collect();
    let overdue: Vec<&CaseSummary> = open
        .iter()
        .copied()
        .filter(|s| s.review_overdue(&today))
        .collect();
    let emergencies: Vec<&CaseSummary> = open.iter().copied().filter(|s| s.emergency).collect();
    // Steps past their due date, by the deadlines of each case's team.
    let late: Vec<(&CaseSummary, Vec<fieldcase_core::store::AgendaItem>)> = open
        .iter()
        .map(|s| {
            let d = state.config.deadlines_of(s.team.as_deref());
            (
                *s,
                fieldcase_core::store::overdue(std::iter::once(*s), &today, &d),
            )
        })
        .filter(|(_, items)| !items.is_empty())
        .collect();
    let late_cases: Vec<&CaseSummary> = late.iter().map(|(s, _)| *s).collect();
    let late_of = |w: &str| {
        late.iter()
            .filter(|(s, _)| s.assigned.iter().any(|a| a == w))
            .count()
    };
    let conflicted: Vec<&CaseSummary> = summaries.iter().filter(|s| s.conflicts > 0).collect();
    let deadlines = team_deadlines(state, u).await?;
    let activity = data::recent_activity(state, &cases, RECENT_SHOWN).await?;

    let case_link = |s: &CaseSummary| {
        html! { a href=(format!("/console/cases/{}", s.id)) { bdi { (view::listed_name(&s.client_name, s.restricted)) } } }
    };
    let short_list =
        |title: &str, items: &[&CaseSummary], extra: &dyn Fn(&CaseSummary) -> Markup| {
            html! {
                section.card {
                    h2 { (title) " " span.count { (l.number(items.len() as i64)) } }
                    @if items.is_empty() { p.muted { (l.t("none")) } }
                    @else {
                        ul { @for s in items { li { (case_link(s)) " " (extra(s)) } } }
                    }
                }
            }
        };
    let here = "/console";
    let body = html! {
        h1 { (l.t("dashboard-title")) }
        p.muted { (count(l, "cases-count", summaries.len())) " · " (l.t("today")) " " (l.date(&today)) }
        div.grid {
            (short_list(&l.t("emergencies"), &emergencies, &|s| risk_badge(l, s)))
            (short_list(&l.t("next-steps-waiting"), &next_steps, &|s| html! {
                @if let Some(step) = s.next_step { span.by { (l.code("next-step", step.code())) } }
            }))
            (short_list(&l.t("overdue-reviews"), &overdue, &|s| html! {
                span.by { (l.t("review-due")) " " (l.date(s.next_review.as_deref().unwrap_or(""))) }
            }))
            (short_list(&l.t("overdue-steps"), &late_cases, &|s| html! {
                @if let Some((_, items)) = late.iter().find(|(c, _)| c.id == s.id) {
                    @for i in items.iter().take(3) {
                        " " span.badge.late { (l.code("agenda", i.kind.code())) " · " (l.date(i.when.get(..10).unwrap_or(&i.when))) }
                    }
                }
            }))
            (short_list(&l.t("with-conflicts"), &conflicted, &|s| html! {
                span.badge.conflict { (count(l, "conflicts-count", s.conflicts)) }
            }))
            section.card {
                h2 { (l.t("by-finding")) }
                table {
                    tbody {
                        @for f in Finding::ALL {
                            tr { th scope="row" { a href=(format!("/console?finding={}#cases", f.code())) { (finding_badge(l, Some(*f))) } } td.num { (l.number(by_finding(Some(*f)) as i64)) } }
                        }
                        @if earlier > 0 {
                            tr { th scope="row" { span.badge.earlier { (l.t("earlier-scale")) } } td.num { (l.number(earlier as i64)) } }
                        }
                        tr { th scope="row" { (finding_badge(l, None)) } td.num { (l.number(by_finding(None) as i64)) } }
                    }
                }
            }
            section.card {
                h2 { (l.t("by-kind")) }
                table {
                    tbody {
                        @for k in CaseKind::ALL {
                            tr { th scope="row" { a href=(format!("/console?kind={}#cases", k.code())) { (l.code("case-kind", k.code())) } } td.num { (l.number(by_kind(Some(*k)) as i64)) } }
                        }
                        tr { th scope="row" { (l.t("kind-not-set")) } td.num { (l.number(by_kind(None) as i64)) } }
                    }
                }
            }
        }
        section.card {
            h2 { (l.t("per-worker")) }
            div.scroll tabindex="0" { table {
                thead { tr {
                    th scope="col" { (l.t("worker")) }
                    @for st in Stage::ALL.iter().filter(|s| **s != Stage::Closed) { th.num scope="col" { (l.code("stage", st.code())) } }
                    th.num scope="col" { (l.t("total")) }
                    th.num scope="col" { (l.t("overdue-steps")) }
                } }
                tbody {
                    @for (id, (name, stages, total)) in &workers {
                        tr {
                            th scope="row" { a href=(format!("/console?worker={}", view::url_part(id))) { bdi { (name) } } }
                            @for st in Stage::ALL.iter().filter(|s| **s != Stage::Closed) {
                                td.num { (l.number(stages.get(st).copied().unwrap_or(0) as i64)) }
                            }
                            td.num { strong { (l.number(*total as i64)) } }
                            td.num { (l.number(late_of(id) as i64)) }
                        }
                    }
                }
            } }
        }
        @if !deadlines.is_empty() { (deadlines_card(l, &deadlines)) }
        section.card {
            h2 id="cases" { (l.t("cases")) }
            form.filters method="get" action="/console" role="search" {
                label { (l.t("search")) input type="search" name="q" value=(filters.q) placeholder=(l.t("search-hint")); }
                label { (l.t("worker"))
                    select name="worker" {
                        option value="" { (l.t("all")) }
                        @for (id, (name, _, _)) in &workers { option value=(id) selected[*id == filters.worker] { (name) } }
                    }
                }
                label { (l.t("stage"))
                    select name="stage" {
                        option value="" { (l.t("all")) }
                        @for st in Stage::ALL { option value=(st.code()) selected[st.code() == filters.stage] { (l.code("stage", st.code())) } }
                    }
                }
                label { (l.t("f-case-kind"))
                    select name="kind" {
                        option value="" { (l.t("all")) }
                        @for k in CaseKind::ALL { option value=(k.code()) selected[k.code() == filters.kind] { (l.code("case-kind", k.code())) } }
                    }
                }
                label { (l.t("f-finding"))
                    select name="finding" {
                        option value="" { (l.t("all")) }
                        @for f in Finding::ALL { option value=(f.code()) selected[f.code() == filters.finding] { (l.code("finding", f.code())) } }
                    }
                }
                label { (l.t("show"))
                    select name="only" {
                        option value="" { (l.t("all")) }
                        @for (v, k) in [("emergency", "emergencies"), ("overdue", "overdue-reviews"), ("conflicts", "with-conflicts")] {
                            option value=(v) selected[v == filters.only] { (l.t(k)) }
                        }
                    }
                }
                button type="submit" { (l.t("apply")) }
            }
            p.muted { (count(l, "cases-shown", shown.len())) }
            div.scroll tabindex="0" { table.cases {
                thead { tr {
                    th scope="col" { (l.t("client")) }
                    th scope="col" { (l.t("stage")) }
                    th scope="col" { (l.t("risk")) }
                    th scope="col" { (l.t("assigned")) }
                    th scope="col" { (l.t("next-review")) }
                    th scope="col" { (l.t("last-change")) }
                } }
                tbody {
                    @for s in &shown {
                        tr {
                            td {
                                (case_link(s))
                                @if let Some(lat) = s.client_name_latin.as_ref().filter(|_| !s.restricted) { br; small.muted { bdi { (lat) } } }
                                @if s.restricted { " " span.badge.restricted { (l.t("restricted")) } }
                                @if s.emergency { " " (emergency_badge(l)) }
                                @if s.closure_requested { " " span.badge { (l.t("closure-requested")) } }
                                @if s.conflicts > 0 { " " span.badge.conflict { (count(l, "conflicts-count", s.conflicts)) } }
                            }
                            td { (stage_badge(l, s.stage)) }
                            td { (risk_badge(l, s)) }
                            td { @for (i, w) in s.assigned.iter().enumerate() { @if i > 0 { ", " } bdi { (people.name(w)) } } }
                            td class=[s.review_overdue(&today).then_some("overdue")] { @if let Some(d) = &s.next_review { (l.date(d)) } }
                            td { (l.millis(s.last_change)) }
                        }
                    }
                }
            } }
        }
        section.card {
            h2 { (l.t("recent-activity")) }
            @if activity.is_empty() { p.muted { (l.t("none")) } }
            ol.activity {
                @for a in &activity {
                    li {
                        time { (l.millis(a.at_ms)) } " · "
                        bdi { (a.who) } " · "
                        a href=(format!("/console/cases/{}", a.case_id)) { bdi { (a.client) } }
                        " · " (view::action(l, &a.what))
                    }
                }
            }
        }
    };
    Ok(view::layout(
        u,
        &l.t("dashboard-title"),
        Nav::Dashboard,
        here,
        body,
    ))
}

/// The deadlines a supervisor's team works to, or (for an admin) every team's: read only,
/// since they are set in the server's configuration file (`[deadlines]`,
/// `[team_deadlines.<team>]`) and reach phones when they sync.
async fn team_deadlines(
    state: &Arc<AppState>,
    u: &ConsoleUser,
) -> crate::AppResult<Vec<(String, fieldcase_core::deadlines::Deadlines)>> {
    let user = u.user();
    Ok(match user.role {
        fieldcase_core::Role::Worker => Vec::new(),
        fieldcase_core::Role::Supervisor => user
            .team
            .iter()
            .map(|t| (t.clone(), state.config.deadlines_of(Some(t))))
            .collect(),
        fieldcase_core::Role::Admin => {
            let teams = crate::db::blocking(&state.db, |db| db.teams()).await?;
            teams
                .into_iter()
                .map(|t| {
                    let d = state.config.deadlines_of(Some(&t.name));
                    (t.name, d)
                })
                .collect()
        }
    })
}

/// The deadlines card: each step, what it is counted from, and its days per team.
fn deadlines_card(
    l: &super::i18n::Locale,
    teams: &[(String, fieldcase_core::deadlines::Deadlines)],
) -> Markup {
    use fieldcase_core::deadlines::Deadlines;
    type Days = fn(&Deadlines) -> u32;
    let review =
        |finding: &str| format!("{} · {}", l.t("agenda-review"), l.code("finding", finding));
    let rows: [(String, &str, Days); 8] = [
        (l.t("agenda-safety"), "from-intake", |d| d.safety_days),
        (l.t("agenda-assessment"), "from-intake", |d| {
            d.assessment_days
        }),
        (l.t("agenda-plan"), "from-intake", |d| d.plan_days),
        (l.t("agenda-referral_answer"), "from-referral", |d| {
            d.referral_answer_days
        }),
        (review("evidence_of_abuse"), "from-approval", |d| {
            d.review_days_evidence_of_abuse
        }),
        (review("insufficient_information"), "from-approval", |d| {
            d.review_days_insufficient_information
        }),
        (review("other_family_problems"), "from-approval", |d| {
            d.review_days_other_family_problems
        }),
        (l.t("review-otherwise"), "from-approval", |d| d.review_days),
    ];
    html! {
        section.card #deadlines {
            h2 { (l.t("deadlines")) }
            p.muted { (l.t("deadlines-note")) }
            div.scroll tabindex="0" { table {
                thead { tr {
                    th scope="col" { (l.t("deadline-step")) }
                    th scope="col" { (l.t("deadline-from")) }
                    @for (team, _) in teams { th.num scope="col" { bdi { (team) } } }
                } }
                tbody {
                    @for (step, from, days) in &rows {
                        tr {
                            th scope="row" { (step) }
                            td { (l.t(from)) }
                            @for (_, d) in teams { td.num { (count(l, "days-count", days(d) as usize)) } }
                        }
                    }
                }
            } }
        }
    }
}
