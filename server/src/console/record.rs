//! The case record: the merged case file, section by section like the paper file; who last
//! changed each field and when, with its full history one click away; fields holding
//! concurrent values with every value, its author, and a form to choose one; the visit
//! timeline; the plan and closure decisions and the assignment for supervisors.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use fieldcase_core::{conflicts, history as field_history, Bylines, Conflict};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value as Json;

use super::data::{self, Loaded, People};
use super::roster::Roster;
use super::view::{self, byline, count, csrf, risk_badge, stage_badge, Nav};
use super::{back, ConsoleUser, Posted};
use crate::error::{AppError, AppResult};
use crate::AppState;

/// The page's view of one case.
struct Ctx<'a> {
    l: &'static super::i18n::Locale,
    case: &'a Loaded,
    id: String,
    conflicts: HashMap<String, Conflict>,
    /// Who last wrote inside each text, list and map (one pass over the history).
    bylines: Bylines,
    /// Who the changes' devices belong to, and the receipts of far-off times.
    roster: Roster,
    people: &'a People,
}

/// The prefix of the messages for a field's codes (`client/kind` → `kind-…`), by the
/// names of the fields its path goes through: the same words the record uses.
fn code_prefix(names: &[&str]) -> Option<&'static str> {
    let last = *names.last()?;
    let parent = names.len().checked_sub(2).map(|i| names[i]).unwrap_or("");
    Some(match (parent, last) {
        ("client", "kind") => "kind",
        ("client", "gender") => "gender",
        ("client", "vulnerabilities") => "vuln",
        ("", "priority") => "priority",
        ("", "sensitivity") => "sensitivity",
        ("", "stage") => "stage",
        ("contacts", "kind") => "contact",
        ("consents", "topic") => "topic",
        ("intake", "source") => "source",
        ("intake", "urgency") => "urgency",
        ("intake", "preliminary_risk") | ("risk", "level") => "risk",
        ("intake", "preliminary_finding") | ("risk", "finding") => "finding",
        ("risk", "next_step") => "next-step",
        ("intake", "decision") => "intake-decision",
        ("", "case_kind") => "case-kind",
        ("closures", "informed_how") => "informed-how",
        ("safety", "protection_order") => "protection-order",
        ("closures", "stage_at_request") => "stage",
        ("approval", "status") => "approval",
        (_, "domain") => "domain",
        ("problems", "status") => "problem",
        ("activities", "status") => "activity",
        ("referrals", "status") => "referral",
        ("appointments", "status") => "appointment",
        ("reviews", "decision") => "decision",
        ("closures", "reason") => "closure-reason",
        ("closures", "status") => "closure",
        ("visits", "kind") => "visit",
        ("supervision", "kind") => "supervision",
        _ => return None,
    })
}

/// A value of a field as the record shows that field: dates and times in the reader's
/// calendar, codes in the reader's language, yes or no, numbers in the language's digits;
/// names and free text isolated. A value the schema does not describe is shown as stored.
pub(super) fn shown_value(l: &super::i18n::Locale, path: &str, v: &Json) -> Markup {
    use fieldcase_core::schema::{field_names, Kind};
    let Some((names, field)) = field_names(path) else {
        return html! { bdi { (raw(v)) } };
    };
    let prefix = code_prefix(&names);
    let code = |c: &str| prefix.map_or_else(|| c.to_string(), |p| l.code(p, c));
    match (&field.kind, v) {
        (_, Json::Null) => html! { span.muted { (l.t("value-cleared")) } },
        (Kind::Date, Json::String(d)) => html! { time datetime=(d) { (l.date(d)) } },
        (Kind::DateTime, Json::String(t)) => html! { time datetime=(t) { (l.datetime(t)) } },
        (Kind::Bool, Json::Bool(b)) => html! { (l.t(if *b { "yes" } else { "no" })) },
        (Kind::Int(..), Json::Number(n)) => match n.as_i64() {
            Some(n) => html! { (l.number(n)) },
            None => html! { (n.to_string()) },
        },
        (Kind::Enum(_), Json::String(c)) => html! { (code(c)) },
        (Kind::EnumList(_) | Kind::StrList, Json::Array(items)) => html! {
            @for (i, item) in items.iter().enumerate() {
                @if i > 0 { ", " }
                @match (item, &field.kind) {
                    (Json::String(c), Kind::EnumList(_)) => (code(c)),
                    (Json::String(s), _) => bdi { (s) },
                    (other, _) => bdi { (raw(other)) },
                }
            }
        },
        (_, Json::String(s)) => html! { bdi { (s) } },
        (_, other) => html! { bdi { (raw(other)) } },
    }
}

/// A stored value as it is, for what no field describes.
fn raw(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// A field path in words: its section and the field's own label (`client/address` is
/// "Client and household › Address"), falling back to the path's own words.
pub(crate) fn path_label(l: &super::i18n::Locale, path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let field = l.code("f", &segments[segments.len() - 1].replace('_', "-"));
    if segments.len() == 1 {
        return field;
    }
    format!("{} › {field}", l.code("section", segments[0]))
}

impl Ctx<'_> {
    /// One field: its label, value, who last changed it, a link to its history; a field
    /// holding concurrent values is marked and points to the conflicts section.
    fn field(&self, label: &str, path: &str, value: Markup) -> Markup {
        let l = self.l;
        let last = self.bylines.last_change(&self.case.doc, path);
        let conflicted = self.conflicts.contains_key(path);
        // An empty field is folded away (the page's "show empty fields" control shows it).
        let empty = !conflicted && value.0.trim().is_empty();
        html! {
            div.field.conflicted[conflicted].empty[empty] {
                dt { (l.t(label)) }
                dd {
                    span.value { (value) }
                    @if conflicted { " " a.badge.conflict href=(format!("#conflict-{}", anchor(path))) { (l.t("conflict-see")) } }
                    @if let Some(a) = &last {
                        " " (byline(l, &self.roster.show(a))) " "
                        a.history href=(format!("/console/cases/{}/history?path={}", self.id, view::url_part(path))) { (l.t("history")) }
                    }
                }
            }
        }
    }

    fn text(&self, label: &str, path: &str, v: &Option<String>) -> Markup {
        self.field(label, path, html! { @if let Some(s) = v { bdi { (s) } } })
    }

    fn long(&self, label: &str, path: &str, v: &str) -> Markup {
        self.field(label, path, html! { span.note dir="auto" { (v) } })
    }

    fn date(&self, label: &str, path: &str, v: &Option<String>) -> Markup {
        self.field(
            label,
            path,
            html! { @if let Some(s) = v { time datetime=(s) { (self.l.date(s)) } } },
        )
    }

    fn yes_no(&self, label: &str, path: &str, v: Option<bool>) -> Markup {
        let l = self.l;
        self.field(
            label,
            path,
            html! { @match v { Some(true) => (l.t("yes")), Some(false) => (l.t("no")), None => "" } },
        )
    }

    fn list(&self, label: &str, path: &str, v: &[String]) -> Markup {
        self.field(
            label,
            path,
            html! { @for (i, x) in v.iter().enumerate() { @if i > 0 { ", " } bdi { (x) } } },
        )
    }

    /// A list of codes, each in the user's language.
    fn coded_list(&self, label: &str, path: &str, prefix: &str, v: &[String]) -> Markup {
        let shown: Vec<String> = v.iter().map(|c| self.l.code(prefix, c)).collect();
        self.field(label, path, html! { (shown.join(", ")) })
    }

    fn coded(&self, label: &str, path: &str, prefix: &str, v: Option<&str>) -> Markup {
        self.field(
            label,
            path,
            html! { @if let Some(c) = v { (self.l.code(prefix, c)) } },
        )
    }

    fn person(&self, label: &str, path: &str, v: &Option<String>) -> Markup {
        self.field(
            label,
            path,
            html! { @if let Some(id) = v { bdi { (self.people.name(id)) } } },
        )
    }

    fn retracted(&self, r: &Option<fieldcase_core::case::Retraction>) -> Markup {
        let l = self.l;
        html! {
            @if let Some(r) = r {
                p.retracted { (l.t("retracted")) ": " bdi { (r.reason.clone().unwrap_or_default()) }
                    " · " bdi { (r.by.as_deref().map(|b| self.people.name(b)).unwrap_or_default()) }
                    @if let Some(a) = r.at.as_deref() { " · " time datetime=(a) { (l.datetime(a)) } } }
            }
        }
    }
}

fn anchor(path: &str) -> String {
    path.replace('/', "-")
}

/// The record's first card: what a supervisor reads first. Who the client is; what is
/// due or overdue (follow-ups of visits, appointments to come); referrals still open and
/// their state; the latest visits. Everything else is in the sections below.
fn summary(cx: &Ctx<'_>, visits: &[&fieldcase_core::case::Visit]) -> Markup {
    use fieldcase_core::case::{AppointmentStatus, ReferralStatus};
    let l = cx.l;
    let f = &cx.case.file;
    let today = l.today();
    let age = f
        .client
        .date_of_birth
        .as_deref()
        .and_then(|dob| years_between(dob, &today));
    let live = |r: &Option<fieldcase_core::case::Retraction>| r.is_none();
    let mut due: Vec<(&str, &str, bool)> = visits
        .iter()
        .filter(|v| live(&v.retracted))
        .flat_map(|v| v.follow_ups.iter())
        .filter(|fu| live(&fu.retracted) && fu.done != Some(true))
        .filter_map(|fu| {
            let d = fu.due_date.as_deref()?;
            Some((
                d,
                fu.text.as_deref().unwrap_or_default(),
                d < today.as_str(),
            ))
        })
        .collect();
    due.sort();
    let mut coming: Vec<&fieldcase_core::case::Appointment> = f
        .appointments
        .iter()
        .filter(|a| {
            live(&a.retracted)
                && a.status.unwrap_or(AppointmentStatus::Planned) == AppointmentStatus::Planned
        })
        .filter(|a| a.at.as_deref().is_some_and(|t| t >= today.as_str()))
        .collect();
    coming.sort_by(|a, b| a.at.cmp(&b.at));
    let open_referrals: Vec<&fieldcase_core::case::Referral> = f
        .referrals
        .iter()
        .filter(|r| live(&r.retracted) && !r.status.unwrap_or(ReferralStatus::Sent).is_final())
        .collect();
    let latest: Vec<&&fieldcase_core::case::Visit> = visits
        .iter()
        .filter(|v| live(&v.retracted))
        .take(2)
        .collect();
    html! {
        section.card.summary #summary aria-labelledby="summary-title" {
            h2 #summary-title { (l.t("summary-title")) }
            dl.summary-grid {
                div {
                    dt { (l.t("section-client")) }
                    dd {
                        bdi { (f.client.name.clone().unwrap_or_default()) }
                        @if let Some(n) = &f.client.name_latin { " (" bdi { (n) } ")" }
                        @if let Some(a) = age { " · " (l.ta("age-years", &[("count", fluent_bundle::FluentValue::from(a))])) }
                        @if let Some(g) = &f.client.gender { " · " (l.code("gender", g)) }
                        @if let Some(k) = &f.client.kind { " · " (l.code("kind", k)) }
                    }
                }
                div {
                    dt { (l.t("summary-due")) }
                    dd {
                        @if due.is_empty() && coming.is_empty() { span.muted { (l.t("none")) } }
                        ul.plain {
                            @for (d, text, overdue) in &due {
                                li.overdue[*overdue] {
                                    @if *overdue { strong { (l.t("overdue")) } " " }
                                    time datetime=(d) { (l.date(d)) } " · " bdi { (text) }
                                }
                            }
                            @for a in coming.iter().take(3) {
                                li {
                                    @if let Some(t) = &a.at { time datetime=(t) { (l.datetime(t)) } }
                                    " · " bdi { (a.purpose.clone().or_else(|| a.with_whom.clone()).unwrap_or_default()) }
                                }
                            }
                        }
                    }
                }
                div {
                    dt { (l.t("summary-referrals")) }
                    dd {
                        @if open_referrals.is_empty() { span.muted { (l.t("none")) } }
                        ul.plain { @for r in &open_referrals {
                            li {
                                bdi { (r.organisation.clone().unwrap_or_default()) }
                                @if let Some(d) = &r.domain { " · " (l.code("domain", d)) }
                                " · " (l.code("referral", r.status.unwrap_or(ReferralStatus::Sent).code()))
                                @if let Some(d) = &r.date { " · " time datetime=(d) { (l.date(d)) } }
                            }
                        } }
                    }
                }
                div {
                    dt { (l.t("summary-visits")) }
                    dd {
                        @if latest.is_empty() { span.muted { (l.t("none")) } }
                        ul.plain { @for v in &latest {
                            li {
                                @if let Some(d) = &v.date { time datetime=(d) { (l.date(d)) } " · " }
                                (l.code("visit", v.kind.as_deref().unwrap_or("")))
                                @if !v.note.is_empty() { " · " span.note dir="auto" { (excerpt(&v.note, 160)) } }
                            }
                        } }
                    }
                }
            }
        }
    }
}

/// Whole years from a date of birth to today (both `YYYY-MM-DD`); `None` for anything else.
fn years_between(born: &str, today: &str) -> Option<i64> {
    let parse = |s: &str| -> Option<(i64, i64, i64)> {
        let mut p = s.get(..10)?.split('-').map(|x| x.parse::<i64>().ok());
        Some((p.next()??, p.next()??, p.next()??))
    };
    let (by, bm, bd) = parse(born)?;
    let (ty, tm, td) = parse(today)?;
    let years = ty - by - i64::from((tm, td) < (bm, bd));
    (0..150).contains(&years).then_some(years)
}

/// The start of a note, cut at a character boundary, with an ellipsis when cut.
fn excerpt(text: &str, chars: usize) -> String {
    let mut out: String = text.chars().take(chars).collect();
    if text.chars().nth(chars).is_some() {
        out.push('…');
    }
    out
}

/// Records that `u` chose to see the name of the restricted case `id`.
async fn name_shown(
    state: &Arc<AppState>,
    u: &ConsoleUser,
    id: fieldcase_core::CaseId,
) -> AppResult<()> {
    let (db, who) = (state.db.clone(), u.user().id.clone());
    let device = u.session.device_id.clone();
    let now = chrono::Utc::now().timestamp_millis();
    super::blocking(move || db.audit(&who, &device, &id, "name shown (console)", now)).await
}

/// The fields that hold a client's name.
const NAME_PATHS: [&str; 2] = ["client/name", "client/name_latin"];

/// `?show=name`: the name of a restricted case, shown because the viewer chose to (and
/// recorded).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RecordQuery {
    #[serde(default)]
    show: Option<String>,
}

pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    u: ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<RecordQuery>,
) -> Response {
    let show_name = q.show.as_deref() == Some("name");
    match render(&state, &u, &id, show_name).await {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

/// How many of the latest reads of a case its record shows supervisors and admins.
const VIEWED_SHOWN: usize = 50;

/// How far back the record's timeline reads a case's history (its newest changes).
const TIMELINE_CHANGES: usize = 400;

/// Whether a change is a step of the case worth its own line in the timeline (intake,
/// stages, visits, assessments, referrals, appointments, reviews, decisions, assignment),
/// by the core's own label of the action.
fn milestone(message: &str) -> bool {
    message.starts_with("stage ")
        || matches!(
            message,
            "create case"
                | "record intake"
                | "add visits"
                | "add assessments"
                | "add referrals"
                | "set referral status"
                | "add appointments"
                | "add reviews"
                | "request plan approval"
                | "approve plan"
                | "return plan"
                | "record family agreement"
                | "request closure"
                | "approve closure"
                | "close as duplicate"
                | "add supervision"
                | "return closure"
                | "reopen case"
                | "assign"
                | "set sensitivity"
                | "withdraw consent"
                | "retract"
        )
}

fn timeline(l: &super::i18n::Locale, steps: &[data::Activity], conflicts: usize) -> Markup {
    html! {
        section.card #timeline {
            h2 { (l.t("section-timeline")) }
            @if conflicts > 0 {
                p { a href="#conflicts" { (view::count(l, "conflicts-count", conflicts)) } }
            }
            @if steps.is_empty() { p.muted { (l.t("none")) } }
            ol.timeline.steps {
                @for s in steps {
                    li {
                        time datetime=(chrono::DateTime::from_timestamp_millis(s.at_ms).map(|t| t.to_rfc3339()).unwrap_or_default()) { (l.millis(s.at_ms)) }
                        " · " bdi { (s.who) } " · " (view::action(l, &s.what))
                    }
                }
            }
        }
    }
}

/// A related case as this record names it: the client's name from the related cases the
/// reader may see, else "a case you may not see" (a link may point anywhere).
fn related_name(
    l: &super::i18n::Locale,
    related: &fieldcase_core::matching::RelatedCases,
    id: &str,
) -> Markup {
    match related.related.iter().find(|r| r.case_id == id) {
        Some(r) => html! { bdi { (r.client_name) } },
        None => html! { (l.t("related-not-visible")) },
    }
}

/// How a related case is related, in the reader's words.
fn relation_said(l: &super::i18n::Locale, r: &fieldcase_core::matching::RelatedCase) -> Markup {
    use fieldcase_core::matching::Relation;
    let key = match r.relation {
        Relation::ListedHere => "related-listed-here",
        Relation::ListsThisClient => "related-lists-this-client",
        Relation::ContinuesIn => "related-continues-in",
        Relation::DuplicateHere => "related-duplicate-here",
    };
    html! {
        (l.t(key))
        @if let Some(c) = r.case_relation.as_deref() { " · " (l.code("caserel", c)) }
    }
}

async fn render(
    state: &Arc<AppState>,
    u: &ConsoleUser,
    id: &str,
    show_name: bool,
) -> AppResult<view::Page> {
    let mut loaded = data::one_case(state, u, id, "read (console)").await?;
    // A restricted case shows its client's initials until the viewer chooses to show the
    // name, and that choice is on the record.
    let name_hidden = loaded.access.restricted && !show_name;
    if loaded.access.restricted && show_name {
        name_shown(state, u, loaded.access.id).await?;
    }
    if name_hidden {
        let shown = view::initials(loaded.file.client.name.as_deref().unwrap_or_default());
        loaded.file.client.name = Some(shown.clone());
        loaded.file.client.name_latin = None;
        loaded.summary.client_name = shown;
        loaded.summary.client_name_latin = None;
    }
    let case = Arc::new(loaded);
    let steps = {
        let (case, db) = (case.clone(), state.db.clone());
        super::blocking(move || {
            Ok(data::recent_changes(&case, TIMELINE_CHANGES, db.as_ref())?
                .into_iter()
                .filter(|a| milestone(&a.what))
                .collect::<Vec<_>>())
        })
        .await?
    };
    let links = {
        let (db, cid) = (state.db.clone(), case.access.id);
        super::blocking(move || db.referral_links(&cid)).await?
    };
    let related = {
        let (db, cid, user) = (state.db.clone(), case.access.id, u.user().clone());
        let max = state.config.matching_max_related;
        let (related, left_out) =
            super::blocking(move || crate::matching::related(db.as_ref(), &user, cid, max)).await?;
        state
            .metrics
            .related_left_out
            .fetch_add(left_out as u64, std::sync::atomic::Ordering::Relaxed);
        related
    };
    // The files the server holds whole (the others are still on the phone that attached
    // them).
    let stored: std::collections::HashSet<String> = {
        let (db, cid) = (state.db.clone(), case.access.id);
        let hashes: Vec<String> = case
            .file
            .attachments
            .iter()
            .map(|a| a.hash.clone())
            .collect();
        super::blocking(move || {
            let mut whole = std::collections::HashSet::new();
            for h in hashes {
                if fieldcase_core::attachment::is_hash(&h)
                    && db.stored_attachment(&cid, &h)?.is_some()
                {
                    whole.insert(h);
                }
            }
            Ok(whole)
        })
        .await?
    };
    let areas = {
        let db = state.db.clone();
        super::blocking(move || db.areas()).await?
    };
    let now = chrono::Utc::now().timestamp_millis();
    let people = People::load(state).await?;
    // Who read the case, for those who answer for it (this read is the first shown).
    let viewed = if u.user().role.has_authority() {
        let (db, cid) = (state.db.clone(), case.access.id);
        super::blocking(move || db.audit_trail(Some(&cid), VIEWED_SHOWN)).await?
    } else {
        Vec::new()
    };
    let roster = Roster::load(state, case.access.id, &case.doc).await?;
    let cx = Ctx {
        l: u.locale,
        id: case.access.id.to_string(),
        // A hidden name is hidden in its conflicts too (their values shown as initials).
        conflicts: conflicts(&case.doc)
            .into_iter()
            .map(|mut c| {
                if name_hidden && NAME_PATHS.contains(&c.path.as_str()) {
                    for v in &mut c.values {
                        let shown = view::initials(v.value.as_str().unwrap_or_default());
                        v.value = serde_json::Value::String(shown);
                    }
                }
                (c.path.clone(), c)
            })
            .collect(),
        bylines: Bylines::of(&case.doc),
        roster,
        case: &case,
        people: &people,
    };
    let f = &case.file;
    let l = cx.l;
    let name = f.client.name.clone().unwrap_or_default();
    let here = format!("/console/cases/{}", cx.id);
    let authority = u.user().role.has_authority();
    let mut conflict_list: Vec<&Conflict> = cx.conflicts.values().collect();
    conflict_list.sort_by(|a, b| a.path.cmp(&b.path));
    let mut visits: Vec<&fieldcase_core::case::Visit> = f.visits.iter().collect();
    visits.sort_by(|a, b| b.date.cmp(&a.date));

    let body = html! {
        header.case-head {
            h1 { bdi { (name) } }
            p {
                (stage_badge(l, f.stage)) " "
                (risk_badge(l, &case.summary)) " "
                @if case.summary.emergency { (view::emergency_badge(l)) " " }
                @if case.access.restricted { span.badge.restricted { (l.t("restricted")) } " " }
                span.muted { (l.t("team")) ": " bdi { (cx.people.team(f.team.as_deref().unwrap_or_default())) } }
            }
        }
        @if name_hidden {
            p.name-hidden { (l.t("name-hidden")) " " a href=(format!("{here}?show=name")) { (l.t("name-show")) } }
        }
        (summary(&cx, &visits))
        nav.print aria-label=(l.t("print-forms")) {
            (l.t("print-forms")) ": "
            @for (n, form) in ["mau-1", "mau-2", "mau-3", "mau-4", "mau-5"].iter().enumerate() {
                a href=(format!("{here}/print/{form}")) lang="vi" { bdi { "Mẫu " (n + 1) } } " "
            }
            @if f.closures.iter().any(|c| c.retracted.is_none() && c.reopened_at.is_none() && c.status == Some(fieldcase_core::case::ClosureStatus::Approved)) {
                a href=(format!("{here}/print/closure-letter")) { (l.t("letter-closure-title")) } " "
            }
            a href=(format!("{here}/print/file")) { (l.t("print-whole-file")) } " "
            @if u.user().role.has_authority() {
                a href=(format!("{here}/export.json")) download { bdi { (l.t("export-json")) } }
            }
        }
        p.fold-control {
            label { input #show-empty type="checkbox"; " " (l.t("show-empty-fields")) }
        }
        nav.toc aria-label=(l.t("sections")) {
            @for (anchor, key) in [("timeline", "section-timeline"), ("conflicts", "section-conflicts"), ("client", "section-client"), ("related", "section-related"), ("safety", "section-safety"), ("intake", "section-intake"),
                ("assessments", "section-assessments"), ("plan", "section-plan"), ("referrals", "section-referrals"),
                ("visits", "section-visits"), ("appointments", "section-appointments"), ("reviews", "section-reviews"),
                ("supervision", "section-supervision"), ("closures", "section-closures"), ("attachments", "section-attachments"), ("assignment", "section-assignment")] {
                a href=(format!("#{anchor}")) { (l.t(key)) }
            }
        }
        (timeline(l, &steps, conflict_list.len()))
        section.card #conflicts {
            h2 { (l.t("section-conflicts")) " " span.count { (l.number(conflict_list.len() as i64)) } }
            @if conflict_list.is_empty() { p.muted { (l.t("no-conflicts")) } }
            @else { p { (l.t("conflicts-explain")) } }
            @for c in &conflict_list {
                div.conflict-field id=(format!("conflict-{}", anchor(&c.path))) {
                    h3 { (path_label(l, &c.path)) " " small.muted { code { (c.path) } } }
                    ul.values {
                        @for v in &c.values {
                            li.value-choice {
                                strong.value { (shown_value(l, &c.path, &v.value)) }
                                @if v.winner { " " span.badge { (l.t("shown-now")) } }
                                @let by = cx.roster.show(&v.by);
                                " " (byline(l, &by))
                                @if let Some(d) = &by.device { " " small.muted { (l.t("device")) " " bdi { (d) } } }
                                @if authority {
                                    form.inline method="post" action=(format!("/console/cases/{}/resolve", cx.id)) {
                                        (csrf(u))
                                        input type="hidden" name="path" value=(c.path);
                                        input type="hidden" name="value" value=(v.value.to_string());
                                        button type="submit" { (l.t("choose-value")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card #client {
            h2 { (l.t("section-client")) }
            dl {
                (cx.text("f-name", "client/name", &f.client.name))
                (cx.text("f-name-latin", "client/name_latin", &f.client.name_latin))
                (cx.coded("f-client-kind", "client/kind", "kind", f.client.kind.as_deref()))
                (cx.date("f-date-of-birth", "client/date_of_birth", &f.client.date_of_birth))
                (cx.yes_no("f-birth-approximate", "client/birth_date_approximate", f.client.birth_date_approximate))
                (cx.coded("f-gender", "client/gender", "gender", f.client.gender.as_deref()))
                (cx.list("f-languages", "client/languages", &f.client.languages))
                (cx.text("f-address", "client/address", &f.client.address))
                (cx.field("f-area", "client/area", area_shown(l, &areas, f.client.area.as_deref())))
                (cx.coded_list("f-vulnerabilities", "client/vulnerabilities", "vuln", &f.client.vulnerabilities))
                (cx.long("f-notes", "client/notes", &f.client.notes))
                (cx.person("f-case-manager", "case_manager", &f.case_manager))
                (cx.coded("f-priority", "priority", "priority", f.priority.as_deref()))
                (cx.coded("f-sensitivity", "sensitivity", "sensitivity", f.sensitivity.map(|s| s.code())))
                (cx.field("f-created-at", "created_at", html! { @if let Some(t) = &f.created_at { time datetime=(t) { (l.datetime(t)) } } }))
                (cx.person("f-created-by", "created_by", &f.created_by))
            }
            @if authority {
                form.inline.area-form method="post" action=(format!("{here}/area")) {
                    (view::csrf(u))
                    label { (l.t("f-area")) " "
                        select name="area" {
                            option value="" selected[f.client.area.is_none()] { (l.t("area-not-recorded")) }
                            @for a in &areas {
                                option value=(a.code) selected[f.client.area.as_deref() == Some(a.code.as_str())] { (a.name) " (" (a.code) ")" }
                            }
                        }
                    }
                    " "
                    button.secondary type="submit" { (l.t("area-set")) }
                }
            }
            h3 { (l.t("household")) }
            @for m in &f.client.household {
                @let p = format!("client/household/{}", m.id);
                article.entry.retracted[m.retracted.is_some()] { dl {
                    (cx.text("f-name", &format!("{p}/name"), &m.name))
                    (cx.text("f-relationship", &format!("{p}/relationship"), &m.relationship))
                    (cx.date("f-date-of-birth", &format!("{p}/date_of_birth"), &m.date_of_birth))
                    (cx.yes_no("f-lives-with-client", &format!("{p}/lives_with_client"), m.lives_with_client))
                    (cx.text("f-note", &format!("{p}/note"), &m.note))
                    (cx.field("f-own-case", &format!("{p}/case_id"), html! { @if let Some(c) = m.case_id.as_deref() { a href=(format!("/console/cases/{}", view::url_part(c))) { (related_name(l, &related, c)) } } }))
                    (cx.coded("f-case-relation", &format!("{p}/case_relation"), "caserel", m.case_relation.as_deref()))
                } (cx.retracted(&m.retracted)) }
            }
            h3 { (l.t("contacts")) }
            @let reachable: Vec<&str> = f.reachable_contacts().iter().map(|c| c.id.as_str()).collect();
            @for c in &f.client.contacts {
                @let p = format!("client/contacts/{}", c.id);
                @let unsafe_contact = !reachable.contains(&c.id.as_str());
                // Do no harm: a contact that may not be used is marked, and never printed.
                article.entry.retracted[c.retracted.is_some()].unsafe-contact[unsafe_contact] {
                @if unsafe_contact && c.retracted.is_none() { p.warning { (l.t("contact-not-safe")) } }
                dl {
                    (cx.coded("f-kind", &format!("{p}/kind"), "contact", c.kind.as_deref()))
                    (cx.text("f-value", &format!("{p}/value"), &c.value))
                    (cx.yes_no("f-safe-to-contact", &format!("{p}/safe_to_contact"), c.safe_to_contact))
                    (cx.text("f-note", &format!("{p}/note"), &c.note))
                } (cx.retracted(&c.retracted)) }
            }
            h3 { (l.t("consents")) }
            @for c in &f.consents {
                @let p = format!("consents/{}", c.id);
                article.entry.retracted[c.retracted.is_some()] { dl {
                    (cx.coded("f-topic", &format!("{p}/topic"), "topic", c.topic.as_deref()))
                    (cx.text("f-scope", &format!("{p}/scope"), &c.scope))
                    (cx.text("f-given-by", &format!("{p}/given_by"), &c.given_by))
                    (cx.yes_no("f-granted", &format!("{p}/granted"), c.granted))
                    (cx.date("f-date", &format!("{p}/date"), &c.date))
                    (cx.date("f-withdrawn-on", &format!("{p}/withdrawn_on"), &c.withdrawn_on))
                    (cx.text("f-withdrawn-reason", &format!("{p}/withdrawn_reason"), &c.withdrawn_reason))
                } (cx.retracted(&c.retracted)) }
            }
        }
        section.card #related aria-labelledby="related-title" {
            h2 #related-title { (l.t("section-related")) }
            @if related.related.is_empty() && related.elsewhere.is_empty() { p.muted { (l.t("none")) } }
            @if !related.related.is_empty() {
                table {
                    thead { tr { th scope="col" { (l.t("related-client")) } th scope="col" { (l.t("related-how")) } } }
                    tbody {
                        @for r in &related.related {
                            tr {
                                td { a href=(format!("/console/cases/{}", view::url_part(&r.case_id))) { bdi { (r.client_name) } } }
                                td { (relation_said(l, r)) }
                            }
                        }
                    }
                }
            }
            @for e in &related.elsewhere {
                p.elsewhere { (l.ta("related-elsewhere", &[("team", e.team.as_str().into())])) }
            }
        }
        section.card #safety {
            h2 { (l.t("section-safety")) }
            dl {
                (cx.text("f-perpetrator-relationship", "safety/perpetrator_relationship", &f.safety.perpetrator_relationship))
                (cx.yes_no("f-perpetrator-lives-with-client", "safety/perpetrator_lives_with_client", f.safety.perpetrator_lives_with_client))
                (cx.coded("f-protection-order", "safety/protection_order", "protection-order", f.safety.protection_order.map(|o| o.code())))
                (cx.text("f-protection-order-note", "safety/protection_order_note", &f.safety.protection_order_note))
                (cx.text("f-warning-signs", "safety/warning_signs", &f.safety.warning_signs))
                (cx.text("f-safe-contacts", "safety/safe_contacts", &f.safety.safe_contacts))
                (cx.text("f-safe-places", "safety/safe_places", &f.safety.safe_places))
                (cx.text("f-what-to-do", "safety/what_to_do", &f.safety.what_to_do))
                (cx.date("f-reviewed-on", "safety/reviewed_on", &f.safety.reviewed_on))
            }
        }
        section.card #intake {
            h2 { (l.t("section-intake")) }
            dl {
                (cx.coded("f-case-kind", "case_kind", "case-kind", f.case_kind.map(|k| k.code())))
                (cx.date("f-date", "intake/date", &f.intake.date))
                (cx.coded("f-source", "intake/source", "source", f.intake.source.as_deref()))
                (cx.text("f-reporter", "intake/reporter_name", &f.intake.reporter_name))
                (cx.text("f-reporter-contact", "intake/reporter_contact", &f.intake.reporter_contact))
                (cx.text("f-referring-organisation", "intake/referring_organisation", &f.intake.referring_organisation))
                (cx.long("f-reason", "intake/reason", &f.intake.reason))
                (cx.list("f-presenting-problems", "intake/presenting_problems", &f.intake.presenting_problems))
                (cx.coded("f-urgency", "intake/urgency", "urgency", f.intake.urgency.as_deref()))
                (cx.yes_no("emergency", "intake/emergency", f.intake.emergency))
                (cx.coded("f-preliminary-finding", "intake/preliminary_finding", "finding", f.intake.preliminary_finding.map(|r| r.code())))
                (cx.coded("f-preliminary-risk", "intake/preliminary_risk", "risk", f.intake.preliminary_risk.map(|r| r.code())))
                (cx.long("f-safety-measures", "intake/safety_measures", &f.intake.safety_measures))
                (cx.field("f-safety-secured", "intake/safety_secured_at", html! {
                    @if let Some(t) = &f.intake.safety_secured_at {
                        time datetime=(t) { (l.datetime(t)) }
                        @if let Some(by) = &f.intake.safety_secured_by { " · " bdi { (people.name(by)) } }
                    }
                }))
                (cx.coded("f-intake-decision", "intake/decision", "intake-decision", f.intake.decision.map(|d| d.code())))
                (cx.text("f-decision-reason", "intake/decision_reason", &f.intake.decision_reason))
                (cx.text("f-referred-to", "intake/referred_to", &f.intake.referred_to))
                (cx.yes_no("f-multiple-problems", "intake/criteria/multiple_problems", f.intake.criteria.multiple_problems))
                (cx.yes_no("f-basic-needs-met", "intake/criteria/basic_needs_met", f.intake.criteria.basic_needs_met))
                (cx.yes_no("f-cannot-access-alone", "intake/criteria/cannot_access_alone", f.intake.criteria.cannot_access_alone))
                (cx.text("f-criteria-note", "intake/criteria/note", &f.intake.criteria.note))
            }
        }
        section.card #assessments {
            h2 { (l.t("section-assessments")) }
            @let kind_items = f.case_kind.map_or(&[][..], |k| k.assessment_items());
            @for a in &f.assessments {
                @let p = format!("assessments/{}", a.id);
                @let held = a.kind_items();
                article.entry.retracted[a.retracted.is_some()] {
                    dl {
                        (cx.date("f-date", &format!("{p}/date"), &a.date))
                        (cx.coded("f-finding", &format!("{p}/risk/finding"), "finding", a.risk.finding.map(|r| r.code())))
                        (cx.coded("f-earlier-risk", &format!("{p}/risk/level"), "risk", a.risk.level.map(|r| r.code())))
                        (cx.coded("f-next-step", &format!("{p}/risk/next_step"), "next-step", a.risk.next_step.map(|r| r.code())))
                        (cx.date("f-next-step-due", &format!("{p}/risk/next_step_due"), &a.risk.next_step_due))
                        (cx.date("f-next-step-done", &format!("{p}/risk/next_step_done_on"), &a.risk.next_step_done_on))
                        (cx.yes_no("emergency", &format!("{p}/risk/emergency"), a.risk.emergency))
                        (cx.long("f-conclusion", &format!("{p}/risk/conclusion"), &a.risk.conclusion))
                        (cx.long("f-capability", &format!("{p}/capability"), &a.capability))
                        (cx.long("f-summary", &format!("{p}/summary"), &a.summary))
                        (cx.list("f-sources", &format!("{p}/sources"), &a.sources))
                        // The items of the case's kind, and any other this assessment holds.
                        @if kind_items.contains(&"ready_to_talk") || held.contains(&"ready_to_talk") { (cx.yes_no("f-ready-to-talk", &format!("{p}/ready_to_talk"), a.ready_to_talk)) }
                        @if kind_items.contains(&"problems_to_work_on") || held.contains(&"problems_to_work_on") { (cx.text("f-problems-to-work-on", &format!("{p}/problems_to_work_on"), &a.problems_to_work_on)) }
                        @if kind_items.contains(&"unrecognised_problems") || held.contains(&"unrecognised_problems") { (cx.text("f-unrecognised-problems", &format!("{p}/unrecognised_problems"), &a.unrecognised_problems)) }
                        @if kind_items.contains(&"recommendations") || held.contains(&"recommendations") { (cx.text("f-recommendations", &format!("{p}/recommendations"), &a.recommendations)) }
                        @if kind_items.contains(&"legal_question") || held.contains(&"legal_question") { (cx.text("f-legal-question", &format!("{p}/legal_question"), &a.legal_question)) }
                        @if kind_items.contains(&"action_steps") || held.contains(&"action_steps") { (cx.text("f-action-steps", &format!("{p}/action_steps"), &a.action_steps)) }
                        @if kind_items.contains(&"expected_result") || held.contains(&"expected_result") { (cx.text("f-expected-result", &format!("{p}/expected_result"), &a.expected_result)) }
                        @if kind_items.contains(&"lawyer_needed") || held.contains(&"lawyer_needed") { (cx.yes_no("f-lawyer-needed", &format!("{p}/lawyer_needed"), a.lawyer_needed)) }
                    }
                    @if !a.domains.is_empty() {
                        div.scroll tabindex="0" { table {
                            thead { tr { th { (l.t("domain")) } th { (l.t("f-rating")) } th { (l.t("f-needs")) } th { (l.t("f-strengths")) } } }
                            tbody { @for (d, v) in a.domains.iter().filter(|(_, v)| v.rating.is_some() || !v.needs.is_empty() || !v.strengths.is_empty()) {
                                tr { th scope="row" { (l.code("domain", d)) } td.num { @if let Some(r) = v.rating { (l.number(r)) } } td { (v.needs) } td { (v.strengths) } }
                            } }
                        } }
                    }
                    (cx.retracted(&a.retracted))
                }
            }
        }
        section.card #plan {
            h2 { (l.t("section-plan")) }
            @let ap = &f.plan.approval;
            dl {
                (cx.date("next-review", "plan/next_review", &f.plan.next_review))
                (cx.yes_no("f-family-agreed", "plan/family_agreement/agreed", f.plan.family_agreement.agreed))
                (cx.date("f-agreement-date", "plan/family_agreement/date", &f.plan.family_agreement.date))
                (cx.text("f-agreement-by", "plan/family_agreement/by", &f.plan.family_agreement.by))
                (cx.text("f-agreement-note", "plan/family_agreement/note", &f.plan.family_agreement.note))
                (cx.coded("f-approval", "plan/approval/status", "approval", ap.status.map(|s| s.code())))
                (cx.text("f-comment", "plan/approval/comment", &ap.comment))
            }
            @if f.plan_status().approved_unversioned { p.muted { (l.t("plan-approved-unversioned")) } }
            @if !f.plan.versions.is_empty() {
                h3 { (l.t("plan-versions")) }
                ol.versions { @for v in &f.plan.versions {
                    li {
                        (l.ta("plan-version", &[("version", v.number.unwrap_or(0).into())])) " · "
                        @if let Some(at) = &v.decided_at { time datetime=(at) { (l.datetime(at)) } }
                        @if let Some(by) = &v.decided_by { " · " bdi { (people.name(by)) } }
                        @if let Some(auth) = &v.authority { " · " bdi { (auth) } }
                        @if let Some(no) = &v.decision_number { " · " (l.t("f-decision-number")) " " bdi { (no) } }
                        @if let Some(d) = &v.decision_date { " · " (l.date(d)) }
                        @if let Some(c) = v.comment.as_ref().filter(|c| !c.is_empty()) { " · " span.note { bdi { (c) } } }
                        @if authority && v.decision_number.is_none() {
                            (super::approvals::later_decision_form(u, &cx.id, &v.id))
                        }
                    }
                } }
            }
            (super::approvals::plan_changes(u, f))
            @if ap.status == Some(fieldcase_core::case::ApprovalStatus::Requested) && authority {
                (super::approvals::plan_form(u, &cx.id, &here))
            }
            @for pr in &f.plan.problems {
                @let p = format!("plan/problems/{}", pr.id);
                article.entry.retracted[pr.retracted.is_some()] {
                    dl {
                        (cx.field("f-priority", &format!("{p}/priority"), html! { @if let Some(n) = pr.priority { (l.number(n)) } }))
                        (cx.coded("domain", &format!("{p}/domain"), "domain", pr.domain.as_deref()))
                        (cx.long("f-description", &format!("{p}/description"), &pr.description))
                        (cx.text("f-need", &format!("{p}/need"), &pr.need))
                        (cx.text("f-goal", &format!("{p}/goal"), &pr.goal))
                        (cx.date("f-target-date", &format!("{p}/target_date"), &pr.target_date))
                        (cx.coded("f-status", &format!("{p}/status"), "problem", pr.status.as_deref()))
                    }
                    @for a in &pr.activities {
                        @let ap = format!("{p}/activities/{}", a.id);
                        div.activity.retracted[a.retracted.is_some()] { dl {
                            (cx.text("f-activity", &format!("{ap}/description"), &a.description))
                            (cx.field("f-responsible", &format!("{ap}/responsible"), html! {
                                @if let Some(k) = &a.responsible.kind { (l.code("responsible", k)) ": " }
                                bdi { (a.responsible.name.clone().unwrap_or_default()) } " " bdi { (a.responsible.organisation.clone().unwrap_or_default()) }
                            }))
                            (cx.text("f-resources", &format!("{ap}/resources"), &a.resources))
                            (cx.text("f-frequency", &format!("{ap}/frequency"), &a.frequency))
                            (cx.date("f-due-date", &format!("{ap}/due_date"), &a.due_date))
                            (cx.coded("f-status", &format!("{ap}/status"), "activity", a.status.map(|s| s.code())))
                        } }
                    }
                    (cx.retracted(&pr.retracted))
                }
            }
        }
        section.card #referrals {
            h2 { (l.t("section-referrals")) }
            @for r in &f.referrals {
                @let p = format!("referrals/{}", r.id);
                article.entry.retracted[r.retracted.is_some()] { dl {
                    (cx.date("f-date", &format!("{p}/date"), &r.date))
                    (cx.text("f-organisation", &format!("{p}/organisation"), &r.organisation))
                    (cx.text("f-service", &format!("{p}/service"), &r.service))
                    (cx.text("f-reason", &format!("{p}/reason"), &r.reason))
                    (cx.coded("domain", &format!("{p}/domain"), "domain", r.domain.as_deref()))
                    (cx.coded("f-status", &format!("{p}/status"), "referral", r.status.map(|s| s.code())))
                    (cx.text("f-status-reason", &format!("{p}/status_reason"), &r.status_reason))
                    (cx.text("f-outcome", &format!("{p}/outcome"), &r.outcome))
                    (cx.text("f-feedback", &format!("{p}/feedback"), &r.feedback))
                    (cx.yes_no("f-shares-information", &format!("{p}/shares_information"), r.shares_information))
                    (cx.text("f-consent", &format!("{p}/consent_id"), &r.consent_id))
                    (cx.field("f-directory-service", &format!("{p}/service_id"), html! {
                        @if let Some(sid) = r.service_id.as_deref().filter(|s| !s.is_empty()) {
                            a href=(format!("/console/directory/{}", view::url_part(sid))) { bdi { (sid) } }
                        }
                    }))
                }
                @if !r.steps.is_empty() {
                    h3 { (l.t("referral-steps")) }
                    ol.steps {
                        @for st in &r.steps {
                            li {
                                (l.code("referral", st.status.map(|s| s.code()).unwrap_or_default()))
                                @if let Some(at) = st.recorded_at.as_deref() { " · " time datetime=(at) { (l.datetime(at)) } }
                                @if let Some(by) = st.recorded_by.as_deref() { " · " bdi { (cx.people.name(by)) } }
                                @if let Some(why) = st.reason.as_deref() { " · " bdi { (why) } }
                                @if let Some(note) = st.note.as_deref() { " · " bdi { (note) } }
                            }
                        }
                    }
                }
                (cx.retracted(&r.retracted))
                (super::partner::section(l, u, &f.id, r, &links, now)) }
            }
        }
        section.card #visits {
            h2 { (l.t("section-visits")) " " span.count { (l.number(visits.len() as i64)) } }
            ol.timeline {
                @for v in &visits {
                    @let p = format!("visits/{}", v.id);
                    li.entry.retracted[v.retracted.is_some()] {
                        h3 { @if let Some(d) = &v.date { time datetime=(d) { (l.date(d)) } } " · " (l.code("visit", v.kind.as_deref().unwrap_or(""))) }
                        dl {
                            (cx.text("f-place", &format!("{p}/place"), &v.place))
                            (cx.list("f-participants", &format!("{p}/participants"), &v.participants))
                            (cx.field("f-duration", &format!("{p}/duration_minutes"), html! { @if let Some(n) = v.duration_minutes { (l.number(n)) } }))
                            (cx.long("f-note", &format!("{p}/note"), &v.note))
                        }
                        @if !v.follow_ups.is_empty() {
                            ul { @for fu in &v.follow_ups {
                                li { (fu.text.clone().unwrap_or_default()) @if let Some(d) = &fu.due_date { " · " (l.date(d)) } @if fu.done == Some(true) { " ✓" } }
                            } }
                        }
                        @if let Some(by) = &v.recorded_by { p.by { (l.t("recorded-by")) " " bdi { (cx.people.name(by)) } } }
                        (cx.retracted(&v.retracted))
                    }
                }
            }
        }
        section.card #appointments {
            h2 { (l.t("section-appointments")) }
            @for a in &f.appointments {
                @let p = format!("appointments/{}", a.id);
                article.entry.retracted[a.retracted.is_some()] { dl {
                    (cx.field("f-when", &format!("{p}/at"), html! { @if let Some(t) = &a.at { time datetime=(t) { (l.datetime(t)) } } }))
                    (cx.text("f-place", &format!("{p}/place"), &a.place))
                    (cx.text("f-with-whom", &format!("{p}/with_whom"), &a.with_whom))
                    (cx.text("f-purpose", &format!("{p}/purpose"), &a.purpose))
                    (cx.coded("f-status", &format!("{p}/status"), "appointment", a.status.map(|s| s.code())))
                    (cx.text("f-attendance-needs", &format!("{p}/attendance_needs"), &a.attendance_needs))
                    (cx.text("f-note", &format!("{p}/note"), &a.note))
                } (cx.retracted(&a.retracted)) }
            }
        }
        section.card #reviews {
            h2 { (l.t("section-reviews")) }
            @for r in &f.reviews {
                @let p = format!("reviews/{}", r.id);
                article.entry.retracted[r.retracted.is_some()] { dl {
                    (cx.date("f-date", &format!("{p}/date"), &r.date))
                    (cx.coded("f-finding", &format!("{p}/risk/finding"), "finding", r.risk.finding.map(|x| x.code())))
                    (cx.coded("f-earlier-risk", &format!("{p}/risk/level"), "risk", r.risk.level.map(|x| x.code())))
                    (cx.coded("f-next-step", &format!("{p}/risk/next_step"), "next-step", r.risk.next_step.map(|x| x.code())))
                    (cx.date("f-next-step-due", &format!("{p}/risk/next_step_due"), &r.risk.next_step_due))
                    (cx.text("f-new-risk-factors", &format!("{p}/new_risk_factors"), &r.new_risk_factors))
                    (cx.text("f-new-supports", &format!("{p}/new_supports"), &r.new_supports))
                    (cx.text("f-client-opinion", &format!("{p}/client_opinion"), &r.client_opinion))
                    (cx.text("f-specialist-opinions", &format!("{p}/specialist_opinions"), &r.specialist_opinions))
                    (cx.field("f-satisfaction", &format!("{p}/satisfaction"), html! { @if let Some(n) = r.satisfaction { (l.number(n)) } }))
                    (cx.text("f-satisfaction-note", &format!("{p}/satisfaction_note"), &r.satisfaction_note))
                    (cx.coded("f-decision", &format!("{p}/decision"), "decision", r.decision.as_deref()))
                    (cx.long("f-notes", &format!("{p}/notes"), &r.notes))
                }
                @if !r.progress.is_empty() {
                    h3 { (l.t("f-progress")) }
                    div.scroll tabindex="0" { table {
                        thead { tr { th { (l.t("f-goal")) } th { (l.t("f-status")) } th { (l.t("f-note")) } } }
                        tbody { @for g in &r.progress {
                            @let goal = g.problem_id.as_deref().and_then(|id| f.plan.problems.iter().find(|pr| pr.id == id));
                            tr {
                                td { bdi { (goal.and_then(|pr| pr.goal.clone().or_else(|| Some(pr.description.clone()))).unwrap_or_default()) } }
                                td { @if let Some(st) = &g.status { (l.code("problem", st)) } }
                                td { bdi { (g.note.clone().unwrap_or_default()) } }
                            }
                        } }
                    } }
                }
                (cx.retracted(&r.retracted)) }
            }
        }
        section.card #supervision {
            h2 { (l.t("section-supervision")) " " span.count { (l.number(f.supervision.len() as i64)) } }
            @if f.supervision.is_empty() { p.muted { (l.t("supervision-none")) } }
            ol.timeline {
                @for e in &f.supervision {
                    @let p = format!("supervision/{}", e.id);
                    li.entry.retracted[e.retracted.is_some()] {
                        h3 {
                            @if let Some(d) = &e.date { time datetime=(d) { (l.date(d)) } " · " }
                            (l.code("supervision", e.kind.map(|k| k.code()).unwrap_or("")))
                        }
                        dl {
                            (cx.list("f-participants", &format!("{p}/participants"), &e.participants))
                            (cx.long("f-observed", &format!("{p}/summary"), &e.summary))
                            (cx.text("f-went-well", &format!("{p}/went_well"), &e.went_well))
                            (cx.text("f-learning", &format!("{p}/learning"), &e.learning))
                            (cx.text("f-changes", &format!("{p}/changes"), &e.changes))
                            (cx.text("f-decisions", &format!("{p}/decisions"), &e.decisions))
                            (cx.text("f-positions", &format!("{p}/positions"), &e.positions))
                            (cx.text("f-resolution", &format!("{p}/resolution"), &e.resolution))
                        }
                        @if let Some(by) = &e.recorded_by { p.by { (l.t("recorded-by")) " " bdi { (cx.people.name(by)) } @if let Some(at) = e.recorded_at.as_deref() { " · " time datetime=(at) { (l.datetime(at)) } } } }
                        (cx.retracted(&e.retracted))
                    }
                }
            }
            @if authority {
                details {
                    summary { (l.t("supervision-add")) }
                    form.supervision method="post" action=(format!("{here}/supervision")) {
                        (csrf(u))
                        p.muted { (l.t("supervision-explain")) }
                        label { (l.t("f-kind"))
                            select name="kind" required {
                                @for k in fieldcase_core::case::SupervisionKind::ALL { option value=(k.code()) { (l.code("supervision", k.code())) } }
                            }
                        }
                        label { (l.t("f-date")) input type="date" name="date" required; }
                        label { (l.t("f-participants")) " " small.muted { (l.t("one-per-line")) }
                            textarea name="participants" rows="2" maxlength="2000" {} }
                        label { (l.t("f-observed")) textarea name="summary" rows="4" maxlength="8000" {} }
                        @for (name, key) in [("went_well", "f-went-well"), ("learning", "f-learning"), ("changes", "f-changes"),
                            ("decisions", "f-decisions"), ("positions", "f-positions"), ("resolution", "f-resolution")] {
                            label { (l.t(key)) input name=(name) maxlength="2000"; }
                        }
                        button type="submit" { (l.t("supervision-record")) }
                    }
                }
            }
        }
        section.card #closures {
            h2 { (l.t("section-closures")) }
            @for c in &f.closures {
                @let p = format!("closures/{}", c.id);
                article.entry {
                    dl {
                        (cx.coded("f-reason", &format!("{p}/reason"), "closure-reason", c.reason.as_deref()))
                        @if let Some(of) = c.duplicate_of.as_deref() {
                            (cx.field("f-duplicate-of", &format!("{p}/duplicate_of"), html! { a href=(format!("/console/cases/{}", view::url_part(of))) { bdi { (of) } } }))
                        }
                        (cx.coded("f-stage-at-request", &format!("{p}/stage_at_request"), "stage", c.stage_at_request.map(|s| s.code())))
                        (cx.long("f-outcome", &format!("{p}/outcome"), &c.outcome))
                        (cx.yes_no("f-informed", &format!("{p}/informed"), c.informed))
                        (cx.date("f-informed-on", &format!("{p}/informed_on"), &c.informed_on))
                        (cx.coded("f-informed-how", &format!("{p}/informed_how"), "informed-how", c.informed_how.map(|h| h.code())))
                        (cx.text("f-informed-note", &format!("{p}/informed_note"), &c.informed_note))
                        (cx.coded("f-status", &format!("{p}/status"), "closure", c.status.map(|s| s.code())))
                        (cx.text("f-comment", &format!("{p}/comment"), &c.comment))
                        (cx.text("f-reopen-reason", &format!("{p}/reopen_reason"), &c.reopen_reason))
                    }
                    @if c.status == Some(fieldcase_core::case::ClosureStatus::Requested) && c.retracted.is_none() && authority {
                        (super::approvals::closure_form(u, &cx.id, &c.id, &here))
                    }
                }
            }
        }
        section.card #attachments {
            h2 { (l.t("section-attachments")) " " span.count { (l.number(f.attachments.len() as i64)) } }
            @if f.attachments.is_empty() { p.muted { (l.t("attachment-none")) } }
            ul.attachments {
                @for a in &f.attachments {
                    @let p = format!("attachments/{}", a.id);
                    @let href = format!("{here}/attachments/{}", view::url_part(&a.id));
                    @let whole = stored.contains(&a.hash);
                    @let image = a.media_type.as_deref().is_some_and(|m| m.starts_with("image/") && m != "image/heif");
                    li.entry.retracted[a.retracted.is_some()] {
                        h3 {
                            (l.code("attachment", a.kind.map(|k| k.code()).unwrap_or("document")))
                            " · " (l.ta("kilobytes", &[("n", ((a.size + 1023) / 1024).into())]))
                            " · " small.muted { bdi { (a.media_type.clone().unwrap_or_default()) } }
                        }
                        @if whole && image && a.retracted.is_none() {
                            a href=(href) { img.attachment src=(href) alt=(a.caption.clone().unwrap_or_else(|| l.code("attachment", a.kind.map(|k| k.code()).unwrap_or("photo")))) loading="lazy"; }
                        }
                        dl {
                            (cx.text("f-caption", &format!("{p}/caption"), &a.caption))
                            (cx.field("attachment-about", &format!("{p}/about"), html! {
                                @if let Some((list, _)) = a.about.as_deref().and_then(|p| p.split_once('/')) { (l.code("section", list)) }
                            }))
                        }
                        @if whole { p { a href=(href) { (l.t("attachment-open")) } } }
                        @else { p.muted { (l.t("attachment-not-here")) } }
                        @if let Some(by) = &a.recorded_by { p.by { (l.t("recorded-by")) " " bdi { (cx.people.name(by)) } @if let Some(at) = a.recorded_at.as_deref() { " · " time datetime=(at) { (l.datetime(at)) } } } }
                        (cx.retracted(&a.retracted))
                    }
                }
            }
        }
        section.card #assignment {
            h2 { (l.t("section-assignment")) }
            p { (l.t("assigned")) ": " @for (i, w) in f.assigned.iter().enumerate() { @if i > 0 { ", " } bdi { (people.name(w)) } } }
            @if authority {
                @let team = f.team.clone().unwrap_or_default();
                form method="post" action=(format!("/console/cases/{}/assignment", cx.id)) {
                    (csrf(u))
                    fieldset {
                        legend { (l.t("assign-to")) }
                        @for w in people.of_team(&team) {
                            label.check { input type="checkbox" name="workers" value=(w.username) checked[f.assigned.contains(&w.id)]; " " bdi { (w.display_name) } " (" (l.t(&format!("role-{}", w.role.code()))) ")" }
                        }
                    }
                    label { (l.t("f-case-manager"))
                        select name="case_manager" {
                            option value="" { "—" }
                            @for w in people.of_team(&team) {
                                option value=(w.username) selected[f.case_manager.as_deref() == Some(w.id.as_str())] { (w.display_name) }
                            }
                        }
                    }
                    button type="submit" { (l.t("assign")) }
                }
            }
        }
        @if u.user().role == fieldcase_core::Role::Supervisor {
            section.card #erasure {
                h2 { (l.t("erasure-ask")) }
                p.muted { (l.t("erasure-ask-explain")) }
                form method="post" action=(format!("/console/cases/{}/erasure-request", cx.id)) {
                    (csrf(u))
                    label { (l.t("erasure-reason"))
                        input name="reason" required maxlength="500";
                    }
                    button.secondary type="submit" { (l.t("erasure-ask-button")) }
                }
            }
        }
        @if authority {
            section.card #viewed {
                h2 { (l.t("section-viewed")) }
                p.muted { (l.t("viewed-explain")) }
                div.scroll tabindex="0" {
                    table {
                        thead { tr { th { (l.t("f-when")) } th { (l.t("f-by")) } th { (l.t("viewed-device")) } th { (l.t("viewed-what")) } } }
                        tbody {
                            @for e in &viewed {
                                tr {
                                    td { time datetime=(chrono::DateTime::from_timestamp_millis(e.at).map(|t| t.to_rfc3339()).unwrap_or_default()) { (l.millis(e.at)) } }
                                    td { bdi { (people.name(&e.user_id)) } }
                                    td { code { (e.device) } }
                                    td { (e.action) }
                                }
                            }
                        }
                    }
                }
            }
        }
        p.muted { (count(cx.l, "changes-count", cx.bylines.changes())) }
    };
    Ok(view::layout(u, &name, Nav::None, &here, body))
}

#[derive(Deserialize)]
pub(crate) struct HistoryQuery {
    path: String,
}

/// Every change of one field, oldest first.
pub(crate) async fn history(
    State(state): State<Arc<AppState>>,
    u: ConsoleUser,
    Path(id): Path<String>,
    q: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let result = async {
        let Query(q) = q.map_err(|_| AppError::BadRequest("which field? (path)".into()))?;
        let case = data::one_case(&state, &u, &id, "history (console)").await?;
        let changes = field_history(&case.doc, &q.path)
            .map_err(|_| AppError::BadRequest("the case file has no such field".into()))?;
        // The history of a restricted case's name shows the name: the viewer chose it.
        if case.access.restricted && NAME_PATHS.contains(&q.path.as_str()) {
            name_shown(&state, &u, case.access.id).await?;
        }
        let roster = Roster::load(&state, case.access.id, &case.doc).await?;
        let l = u.locale;
        let name = view::listed_name(
            case.file.client.name.as_deref().unwrap_or_default(),
            case.access.restricted,
        );
        let case_url = format!("/console/cases/{}", case.access.id);
        let body = html! {
            p { a href=(case_url) { "← " bdi { (name) } } }
            h1 { (l.t("history")) ": " (path_label(l, &q.path)) " " small.muted { code { (q.path) } } }
            div.scroll tabindex="0" { table {
                thead { tr { th { (l.t("f-when")) } th { (l.t("who")) } th { (l.t("device")) } th { (l.t("action")) } th { (l.t("f-value")) } } }
                tbody { @for c in changes.iter().rev() {
                    @let by = roster.show(&c.by);
                    tr {
                        td { time datetime=(by.at) { (l.datetime(&by.at)) } (view::claimed(l, &by)) }
                        td { bdi { (by.name.clone().unwrap_or_else(|| l.t("someone"))) } }
                        td { small { bdi { (by.device.clone().unwrap_or_default()) } } }
                        td { (view::action(l, c.message.as_deref().unwrap_or_default())) }
                        td {
                            @if let Some(v) = &c.value { (shown_value(l, &q.path, v)) }
                            @else if c.inserted == 0 && c.deleted == 0 { (l.t("history-kept")) }
                            @else { "+" (l.number(c.inserted as i64)) " / −" (l.number(c.deleted as i64)) }
                        }
                    }
                } }
            } }
        };
        Ok::<_, AppError>(view::layout(&u, &l.t("history"), Nav::None, &case_url, body))
    }
    .await;
    match result {
        Ok(p) => p.into_response(),
        Err(e) => u.error(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct ResolveForm {
    path: String,
    /// The chosen value, as JSON (one of the values the field holds).
    value: String,
}

/// Chooses one value of a conflicting field: a normal change by the supervisor, written
/// through the hub so that the phones get it. The value must still be one of the field's
/// concurrent values (if someone resolved it meanwhile, the answer says so).
pub(crate) async fn resolve(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted<ResolveForm>,
) -> Response {
    let Posted { user, form } = posted;
    let result = async {
        let case_id = data::writable_case(&state, &user, &id).await?;
        let value: Json = serde_json::from_str(&form.value).map_err(|_| {
            AppError::invalid(
                crate::error::Problem::ValueUnreadable,
                "the chosen value is not readable",
            )
        })?;
        let path = form.path.clone();
        state
            .hub
            .edit(&state, case_id, user.user(), move |doc, author, now| {
                let current = conflicts(doc);
                let held = current
                    .iter()
                    .find(|c| c.path == path)
                    .is_some_and(|c| c.values.iter().any(|v| v.value == value));
                if !held {
                    return Err(fieldcase_core::Error::InvalidInput {
                        path: path.clone(),
                        reason: "this field no longer holds that value; reload the case".into(),
                    });
                }
                doc.set_field(author, now, &path, &value)
            })
            .await?;
        tracing::info!(case = %id, by = %user.user().id, "conflict resolved (console)");
        Ok(())
    }
    .await;
    match result {
        Ok(()) => back(Some(&format!("/console/cases/{id}#conflicts")), "/console"),
        Err(e) => user.error(e),
    }
}

/// The client's area as the record shows it: its name and code, or an honest word for a
/// code the list lacks (written before the list had it, or by another server).
fn area_shown(
    l: &super::i18n::Locale,
    areas: &[crate::db::areas::Area],
    code: Option<&str>,
) -> Markup {
    let Some(code) = code else {
        return html! {};
    };
    match areas.iter().find(|a| a.code == code) {
        Some(a) => html! { bdi { (a.name) } " " small.muted { "(" code { (a.code) } ")" } },
        None => html! { (l.ta("area-unknown", &[("code", code.into())])) },
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct AreaForm {
    #[serde(default)]
    area: String,
}

/// Sets or clears the client's area (supervisors and admins): one of the agency's areas,
/// through the hub like every console write, so the server's admission checks the code
/// (an unknown one is refused in words before that, [`crate::db::areas::no_such_area`]).
pub(crate) async fn set_area(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted<AreaForm>,
) -> Response {
    let Posted { user, form } = posted;
    let result = async {
        let case_id = data::writable_case(&state, &user, &id).await?;
        // A case the user may not see is not found, whatever the area asked for.
        let (db, who) = (state.db.clone(), user.user().clone());
        let seen = super::blocking(move || {
            Ok(db
                .case_access(&case_id)?
                .is_some_and(|a| a.visible_to(&who)))
        })
        .await?;
        if !seen {
            return Err(AppError::NotFound);
        }
        let code = form.area.trim().to_string();
        let value = if code.is_empty() {
            Json::Null
        } else {
            crate::db::areas::code(&code)?;
            let db = state.db.clone();
            let c = code.clone();
            let known =
                super::blocking(move || Ok(db.areas()?.iter().any(|a| a.code == c))).await?;
            if !known {
                return Err(crate::db::areas::no_such_area(&code));
            }
            Json::String(code)
        };
        state
            .hub
            .edit(&state, case_id, user.user(), move |doc, author, now| {
                doc.set_field(author, now, "client/area", &value)
            })
            .await?;
        tracing::info!(case = %id, by = %user.user().id, "area set (console)");
        Ok(())
    }
    .await;
    match result {
        Ok(()) => back(Some(&format!("/console/cases/{id}#client")), "/console"),
        Err(e) => user.error(e),
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct SupervisionForm {
    kind: String,
    date: String,
    #[serde(default)]
    participants: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    went_well: String,
    #[serde(default)]
    learning: String,
    #[serde(default)]
    changes: String,
    #[serde(default)]
    decisions: String,
    #[serde(default)]
    positions: String,
    #[serde(default)]
    resolution: String,
}

/// Records supervision on the case (supervisors and admins on the console; workers record
/// their own review and conferences from the phone): the core's typed edit, so the same
/// rules as every other path.
pub(crate) async fn add_supervision(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted<SupervisionForm>,
) -> Response {
    let Posted { user, form } = posted;
    let result = async {
        let case_id = data::writable_case(&state, &user, &id).await?;
        let kind =
            fieldcase_core::case::SupervisionKind::from_code(&form.kind).ok_or_else(|| {
                AppError::invalid(
                    crate::error::Problem::NoSuchSupervisionKind,
                    "not a kind of supervision entry",
                )
            })?;
        let some = |s: String| {
            let s = s.trim().to_string();
            (!s.is_empty()).then_some(s)
        };
        let participants: Vec<String> = form
            .participants
            .lines()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        let input = fieldcase_core::case::SupervisionInput {
            kind: Some(kind),
            date: some(form.date),
            participants: (!participants.is_empty()).then_some(participants),
            summary: some(form.summary),
            went_well: some(form.went_well),
            learning: some(form.learning),
            changes: some(form.changes),
            decisions: some(form.decisions),
            positions: some(form.positions),
            resolution: some(form.resolution),
        };
        state
            .hub
            .edit(&state, case_id, user.user(), move |doc, author, now| {
                doc.add_supervision(author, now, input.clone())
            })
            .await?;
        tracing::info!(case = %id, by = %user.user().id, "supervision recorded (console)");
        Ok(())
    }
    .await;
    match result {
        Ok(()) => back(
            Some(&format!("/console/cases/{id}#supervision")),
            "/console",
        ),
        Err(e) => user.error(e),
    }
}

/// Assigns or transfers the case: the phones of workers gained get it at their next sync,
/// those of workers lost hand in their last changes and drop it.
pub(crate) async fn assign(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    posted: Posted<Vec<(String, String)>>,
) -> Response {
    let Posted { user, form } = posted;
    let workers: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "workers")
        .map(|(_, v)| v.clone())
        .collect();
    let manager = form
        .iter()
        .find(|(k, v)| k == "case_manager" && !v.is_empty())
        .map(|(_, v)| v.clone());
    let result = async {
        let case_id = id.parse().map_err(|_| AppError::NotFound)?;
        crate::admin::assign_via_hub(&state, case_id, user.user(), &workers, manager.as_deref())
            .await
    }
    .await;
    match result {
        Ok(_) => back(Some(&format!("/console/cases/{id}#assignment")), "/console"),
        Err(e) => user.error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_count_whole_years_and_excerpts_cut_at_characters() {
        assert_eq!(years_between("2015-03-21", "2026-03-20"), Some(10));
        assert_eq!(years_between("2015-03-21", "2026-03-21"), Some(11));
        assert_eq!(years_between("soon", "2026-03-21"), None);
        assert_eq!(years_between("2030-01-01", "2026-03-21"), None);
        assert_eq!(excerpt("Đã thăm gia đình", 6), "Đã thă…");
        assert_eq!(excerpt("ngắn", 10), "ngắn");
    }
}
