//! The caseload index, held in memory: one summary per case, rebuilt at open from sealed
//! summaries, updated on every write. Lists with filters, the worker's agenda, and search
//! by client name in any of our users' scripts.

use serde::{Deserialize, Serialize};

use crate::case::inspect::Count;
use crate::case::model::{
    ActivityStatus, AppointmentStatus, CaseKind, Finding, NextStep, ReferralStatus, RiskLevel,
};
use crate::case::{CaseDoc, Stage};
use crate::deadlines::{add_days, Deadlines, DueKind};
use crate::error::Result;
use crate::matching::{Person, Prepared};
use crate::search::{fold, matches};

/// What the caseload list shows of a case, and what it is filtered and searched on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub id: String,
    pub client_name: String,
    pub client_name_latin: Option<String>,
    pub stage: Stage,
    /// The kind of case (which decides its assessment).
    pub case_kind: Option<CaseKind>,
    /// The conclusion of the latest risk judgement (child protection).
    pub finding: Option<Finding>,
    /// An earlier risk code that meant no conclusion: the case needs a new one.
    pub earlier_level: Option<RiskLevel>,
    /// The next step of the latest judgement, while it is not done.
    pub next_step: Option<NextStep>,
    /// An emergency flagged and its safety not yet secured.
    pub emergency: bool,
    /// A closure request waits for a supervisor.
    pub closure_requested: bool,
    pub priority: Option<String>,
    pub restricted: bool,
    pub team: Option<String>,
    pub case_manager: Option<String>,
    pub assigned: Vec<String>,
    pub next_review: Option<String>,
    /// When the case last changed on this device (ms since the epoch).
    pub last_change: i64,
    /// Fields holding concurrent values that someone should resolve.
    pub conflicts: usize,
    /// Upcoming appointments and open activities and follow-ups.
    pub agenda: Vec<AgendaItem>,
    /// Steps whose due date comes from the team's deadlines ([`Deadlines`]): applied when
    /// the agenda is asked for, so new settings need no rebuilt summaries.
    #[serde(default)]
    pub(crate) pending: Vec<Pending>,
    /// Folded names (client, transliteration, household) for search.
    #[serde(default)]
    pub(crate) search_key: String,
    /// The client as the duplicate check compares them (keys of the names in every
    /// script, date of birth, sex, phones, household): see [`crate::matching`].
    #[serde(default)]
    pub(crate) person: Prepared,
    /// How the summary was built ([`SUMMARY_VERSION`]); an older one is rebuilt from the
    /// document when the store opens.
    #[serde(default)]
    pub(crate) version: u32,
}

/// The version of [`CaseSummary`] this code builds. Raise it when a summary's fields or
/// their meaning change: the store rebuilds older summaries from the documents at open.
pub(crate) const SUMMARY_VERSION: u32 = 3;

/// Something due: an appointment, an activity of the plan, a visit follow-up, a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AgendaItem {
    pub case_id: String,
    pub kind: AgendaKind,
    /// A date (`YYYY-MM-DD`) or an instant (RFC 3339); sorts as text within a day.
    pub when: String,
    /// The appointment's purpose, the activity's description...
    pub title: String,
    /// The entry's path in the case file.
    pub path: String,
    /// What the client needs to attend an appointment.
    pub needs: Option<String>,
}

/// A step due some days after `since`, as the team's deadlines say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pending {
    pub(crate) kind: DueKind,
    /// `YYYY-MM-DD`.
    pub(crate) since: String,
    pub(crate) path: String,
    /// The latest conclusion (for a review's deadline).
    pub(crate) finding: Option<Finding>,
}

impl AgendaKind {
    /// The kind's code (`follow_up`, `referral_answer`...).
    pub fn code(self) -> &'static str {
        match self {
            AgendaKind::Appointment => "appointment",
            AgendaKind::Activity => "activity",
            AgendaKind::FollowUp => "follow_up",
            AgendaKind::Review => "review",
            AgendaKind::Investigation => "investigation",
            AgendaKind::Safety => "safety",
            AgendaKind::Assessment => "assessment",
            AgendaKind::Plan => "plan",
            AgendaKind::ReferralAnswer => "referral_answer",
        }
    }
}

impl Pending {
    /// The agenda item of this step under `deadlines`.
    fn item(&self, case_id: &str, deadlines: &Deadlines) -> Option<AgendaItem> {
        let when = add_days(&self.since, deadlines.days(self.kind, self.finding))?;
        Some(AgendaItem {
            case_id: case_id.to_string(),
            kind: match self.kind {
                DueKind::Safety => AgendaKind::Safety,
                DueKind::Assessment => AgendaKind::Assessment,
                DueKind::Plan => AgendaKind::Plan,
                DueKind::ReferralAnswer => AgendaKind::ReferralAnswer,
                DueKind::Review => AgendaKind::Review,
            },
            when,
            title: String::new(),
            path: self.path.clone(),
            needs: None,
        })
    }
}

/// The kinds of agenda items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum AgendaKind {
    Appointment,
    Activity,
    FollowUp,
    Review,
    /// Further investigation a risk conclusion asked for (seed 004), by its due date.
    Investigation,
    /// Immediate safety measures in an emergency (due by the team's deadlines).
    Safety,
    /// The first assessment (due by the team's deadlines).
    Assessment,
    /// An approved plan (due by the team's deadlines).
    Plan,
    /// A partner's answer to a referral (due by the team's deadlines).
    ReferralAnswer,
}

impl CaseSummary {
    /// Builds the summary of a case document.
    pub fn of(doc: &CaseDoc, last_change: i64) -> Result<Self> {
        let (f, conflicts) = doc.outline()?;
        Ok(Self::of_outline(
            f,
            conflicts,
            doc.is_restricted(),
            last_change,
        ))
    }

    /// Builds the summary of a case from its outline ([`CaseDoc::outline`]: the file and
    /// how many fields hold concurrent values) and whether it is restricted
    /// ([`CaseDoc::restricted_in`]), as [`CaseSummary::of`] does from the document.
    pub fn of_outline(
        f: crate::CaseFile,
        conflicts: usize,
        restricted: bool,
        last_change: i64,
    ) -> Self {
        let judgement = f.current_judgement();
        let pending = f.pending_next_step();
        let emergency = f.emergency_open();
        let closure_requested = f.pending_closure().is_some();
        let mut agenda = Vec::new();
        let id = f.id.clone();
        let open = f.stage != Stage::Closed;
        if open {
            if let Some((NextStep::InvestigateFurther, j)) = &pending {
                if let Some(due) = f.risk_at(&j.path).and_then(|r| r.next_step_due.clone()) {
                    agenda.push(AgendaItem {
                        case_id: id.clone(),
                        kind: AgendaKind::Investigation,
                        when: due,
                        title: String::new(),
                        path: j.path.clone(),
                        needs: None,
                    });
                }
            }
            for a in f.appointments.iter().filter(|a| a.retracted.is_none()) {
                if a.status.unwrap_or(AppointmentStatus::Planned) == AppointmentStatus::Planned {
                    if let Some(at) = &a.at {
                        agenda.push(AgendaItem {
                            case_id: id.clone(),
                            kind: AgendaKind::Appointment,
                            when: at.clone(),
                            title: a.purpose.clone().unwrap_or_default(),
                            path: format!("appointments/{}", a.id),
                            needs: a.attendance_needs.clone(),
                        });
                    }
                }
            }
            for p in f.plan.problems.iter().filter(|p| p.retracted.is_none()) {
                for act in p.activities.iter().filter(|a| a.retracted.is_none()) {
                    let done = matches!(
                        act.status,
                        Some(ActivityStatus::Done | ActivityStatus::Cancelled)
                    );
                    if let (false, Some(due)) = (done, &act.due_date) {
                        agenda.push(AgendaItem {
                            case_id: id.clone(),
                            kind: AgendaKind::Activity,
                            when: due.clone(),
                            title: act.description.clone().unwrap_or_default(),
                            path: format!("plan/problems/{}/activities/{}", p.id, act.id),
                            needs: None,
                        });
                    }
                }
            }
            for v in f.visits.iter().filter(|v| v.retracted.is_none()) {
                for fu in v
                    .follow_ups
                    .iter()
                    .filter(|x| x.retracted.is_none() && x.done != Some(true))
                {
                    if let Some(due) = &fu.due_date {
                        agenda.push(AgendaItem {
                            case_id: id.clone(),
                            kind: AgendaKind::FollowUp,
                            when: due.clone(),
                            title: fu.text.clone().unwrap_or_default(),
                            path: format!("visits/{}/follow_ups/{}", v.id, fu.id),
                            needs: None,
                        });
                    }
                }
            }
            if let Some(r) = &f.plan.next_review {
                agenda.push(AgendaItem {
                    case_id: id.clone(),
                    kind: AgendaKind::Review,
                    when: r.clone(),
                    title: String::new(),
                    path: "plan/next_review".into(),
                    needs: None,
                });
            }
        }
        let mut due_steps = Vec::new();
        if open {
            let intake_day = f
                .intake
                .date
                .clone()
                .or_else(|| f.created_at.as_ref().map(|c| c.chars().take(10).collect()))
                .unwrap_or_default();
            let mut due = |kind, since: &str, path: &str, finding| {
                if !since.is_empty() {
                    due_steps.push(Pending {
                        kind,
                        since: since.chars().take(10).collect(),
                        path: path.to_string(),
                        finding,
                    });
                }
            };
            if emergency {
                due(DueKind::Safety, &intake_day, "intake/safety_measures", None);
            }
            let early = matches!(f.stage, Stage::Intake | Stage::Assessment);
            if early && f.assessments.iter().all(|a| a.retracted.is_some()) {
                due(DueKind::Assessment, &intake_day, "assessments", None);
            }
            let plan = f.plan_status();
            let approved = plan.approved_version.is_some() || plan.approved_unversioned;
            if (early || f.stage == Stage::Planning) && !approved {
                due(DueKind::Plan, &intake_day, "plan", None);
            }
            for r in f.referrals.iter().filter(|r| r.retracted.is_none()) {
                if r.status.unwrap_or(ReferralStatus::Sent).awaits_answer() {
                    let since = r.date.clone().or_else(|| r.recorded_at.clone());
                    let path = format!("referrals/{}", r.id);
                    due(
                        DueKind::ReferralAnswer,
                        since.as_deref().unwrap_or(""),
                        &path,
                        None,
                    );
                }
            }
            if f.plan.next_review.is_none() {
                if let Some(at) = f.approved_plan().and_then(|v| v.decided_at.clone()) {
                    let finding = judgement.as_ref().and_then(|j| j.finding);
                    due(DueKind::Review, &at, "plan/next_review", finding);
                }
            }
        }
        let mut names = vec![f.client.name.clone().unwrap_or_default()];
        names.extend(f.client.name_latin.clone());
        names.extend(
            f.client
                .household
                .iter()
                .filter(|m| m.retracted.is_none())
                .filter_map(|m| m.name.clone()),
        );
        let search_key = names.iter().map(|n| fold(n)).collect::<Vec<_>>().join("\n");
        let person = Prepared::of(&Person::of_client(&f.client));
        CaseSummary {
            id,
            client_name: f.client.name.unwrap_or_default(),
            client_name_latin: f.client.name_latin,
            stage: f.stage,
            case_kind: f.case_kind,
            finding: judgement.as_ref().and_then(|j| j.finding),
            earlier_level: judgement.as_ref().and_then(|j| j.earlier_level),
            next_step: if open { pending.map(|(s, _)| s) } else { None },
            emergency: open && emergency,
            closure_requested: open && closure_requested,
            priority: f.priority,
            restricted,
            team: f.team,
            case_manager: f.case_manager,
            assigned: f.assigned,
            next_review: if open { f.plan.next_review } else { None },
            last_change,
            conflicts,
            agenda,
            pending: due_steps,
            search_key,
            person,
            version: SUMMARY_VERSION,
        }
    }

    /// Whether the summary was built by this version.
    pub(crate) fn is_current(&self) -> bool {
        self.version == SUMMARY_VERSION
    }

    /// Stands for a case whose summary is being rebuilt while the store opens.
    pub(crate) fn placeholder(id: crate::ids::CaseId, last_change: i64) -> Self {
        CaseSummary {
            id: id.to_string(),
            client_name: String::new(),
            client_name_latin: None,
            stage: Stage::Intake,
            case_kind: None,
            finding: None,
            earlier_level: None,
            next_step: None,
            emergency: false,
            closure_requested: false,
            priority: None,
            restricted: true,
            team: None,
            case_manager: None,
            assigned: Vec::new(),
            next_review: None,
            last_change,
            conflicts: 0,
            agenda: Vec::new(),
            pending: Vec::new(),
            search_key: String::new(),
            person: Prepared::default(),
            version: 0,
        }
    }

    /// Whether the next review date has passed on `today` (`YYYY-MM-DD`).
    pub fn review_overdue(&self, today: &str) -> bool {
        self.stage != Stage::Closed && self.next_review.as_deref().is_some_and(|d| d < today)
    }
}

/// A summary as the server keeps it beside a case, sealed (issue 20: the console's dashboard
/// lists cases without opening their documents). Compact, and only what the dashboard
/// shows, filters, searches and counts on: short names and no empty fields; none of what
/// the server keeps in columns of its own (the id, team, assignees, whether it is
/// restricted), nor the client's names again for search; not the priority, the case
/// manager, the client as the duplicate check compares them, nor an agenda item's title,
/// path or needs (its kind and date are kept). [`CaseSummary::kept`] makes one and
/// [`Kept::summary`] gives the summary back: the one [`CaseSummary::of`] builds with those
/// left empty ([`CaseSummary::as_kept`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    /// [`SUMMARY_VERSION`]: a kept summary of another version is not used.
    #[serde(rename = "v")]
    version: u32,
    #[serde(rename = "n", default, skip_serializing_if = "String::is_empty")]
    client_name: String,
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    client_name_latin: Option<String>,
    #[serde(rename = "s")]
    stage: Stage,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    case_kind: Option<CaseKind>,
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    finding: Option<Finding>,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    earlier_level: Option<RiskLevel>,
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    next_step: Option<NextStep>,
    #[serde(rename = "u", default, skip_serializing_if = "is_false")]
    emergency: bool,
    #[serde(rename = "c", default, skip_serializing_if = "is_false")]
    closure_requested: bool,
    /// The document names no team (the server's column holds an empty name then).
    #[serde(rename = "t0", default, skip_serializing_if = "is_false")]
    no_team: bool,
    /// The assignees as the document lists them, only when they are not the server's
    /// (which keeps each once, in order).
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    assigned: Option<Vec<String>>,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    next_review: Option<String>,
    #[serde(rename = "o", default, skip_serializing_if = "is_zero")]
    conflicts: usize,
    #[serde(rename = "g", default, skip_serializing_if = "Vec::is_empty")]
    agenda: Vec<KeptItem>,
    #[serde(rename = "d", default, skip_serializing_if = "Vec::is_empty")]
    pending: Vec<KeptPending>,
    /// The search key after the client's own names (their household's), when there is one.
    #[serde(rename = "q", default, skip_serializing_if = "Option::is_none")]
    search_rest: Option<String>,
}

/// An agenda item as kept: its kind and when (the case is the kept one's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct KeptItem(AgendaKind, String);

/// A step due by the team's deadlines, as kept (not its path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct KeptPending {
    #[serde(rename = "k")]
    kind: DueKind,
    #[serde(rename = "s")]
    since: String,
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    finding: Option<Finding>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The search key of a client's own names (the start of [`CaseSummary`]'s).
fn names_key(name: &str, latin: Option<&str>) -> String {
    let mut key = fold(name);
    if let Some(l) = latin {
        key.push('\n');
        key.push_str(&fold(l));
    }
    key
}

impl CaseSummary {
    /// This summary as the server keeps it ([`Kept`]).
    pub fn kept(&self) -> Kept {
        let mut deduped: Vec<&String> = Vec::with_capacity(self.assigned.len());
        for a in &self.assigned {
            if !deduped.contains(&a) {
                deduped.push(a);
            }
        }
        let own = names_key(&self.client_name, self.client_name_latin.as_deref());
        let search_rest = match self.search_key.strip_prefix(own.as_str()) {
            Some("") => None,
            Some(rest) if rest.starts_with('\n') => Some(rest[1..].to_string()),
            // Not as built here: kept whole, marked by its first character.
            _ => Some(format!("\u{0}{}", self.search_key)),
        };
        Kept {
            version: self.version,
            client_name: self.client_name.clone(),
            client_name_latin: self.client_name_latin.clone(),
            stage: self.stage,
            case_kind: self.case_kind,
            finding: self.finding,
            earlier_level: self.earlier_level,
            next_step: self.next_step,
            emergency: self.emergency,
            closure_requested: self.closure_requested,
            no_team: self.team.is_none(),
            assigned: (deduped.len() != self.assigned.len()).then(|| self.assigned.clone()),
            next_review: self.next_review.clone(),
            conflicts: self.conflicts,
            agenda: self
                .agenda
                .iter()
                .map(|a| KeptItem(a.kind, a.when.clone()))
                .collect(),
            pending: self
                .pending
                .iter()
                .map(|p| KeptPending {
                    kind: p.kind,
                    since: p.since.clone(),
                    finding: p.finding,
                })
                .collect(),
            search_rest,
        }
    }
}

impl CaseSummary {
    /// This summary as [`Kept::summary`] gives it back: without the priority, the case
    /// manager, the client as the duplicate check compares them, and its agenda items'
    /// titles, paths and needs.
    pub fn as_kept(&self) -> CaseSummary {
        CaseSummary {
            priority: None,
            case_manager: None,
            agenda: self
                .agenda
                .iter()
                .map(|a| AgendaItem {
                    title: String::new(),
                    path: String::new(),
                    needs: None,
                    ..a.clone()
                })
                .collect(),
            pending: self
                .pending
                .iter()
                .map(|p| Pending {
                    path: String::new(),
                    ..p.clone()
                })
                .collect(),
            person: Prepared::default(),
            ..self.clone()
        }
    }
}

impl Kept {
    /// The summary of case `id`, with what the server keeps in its columns: its team (an
    /// empty name when the document names none), its assignees (each once, in order),
    /// whether it is restricted, and when it last changed. `None` for one kept by another
    /// version ([`SUMMARY_VERSION`]). What is not kept is left empty
    /// ([`CaseSummary::as_kept`]).
    pub fn summary(
        self,
        id: String,
        team: &str,
        assigned: &[String],
        restricted: bool,
        last_change: i64,
    ) -> Option<CaseSummary> {
        if self.version != SUMMARY_VERSION {
            return None;
        }
        let own = names_key(&self.client_name, self.client_name_latin.as_deref());
        let search_key = match self.search_rest {
            None => own,
            Some(whole) if whole.starts_with('\u{0}') => whole[1..].to_string(),
            Some(rest) => format!("{own}\n{rest}"),
        };
        Some(CaseSummary {
            client_name: self.client_name,
            client_name_latin: self.client_name_latin,
            stage: self.stage,
            case_kind: self.case_kind,
            finding: self.finding,
            earlier_level: self.earlier_level,
            next_step: self.next_step,
            emergency: self.emergency,
            closure_requested: self.closure_requested,
            priority: None,
            restricted,
            team: (!self.no_team).then(|| team.to_string()),
            case_manager: None,
            assigned: self.assigned.unwrap_or_else(|| assigned.to_vec()),
            next_review: self.next_review,
            last_change,
            conflicts: self.conflicts,
            agenda: self
                .agenda
                .into_iter()
                .map(|KeptItem(kind, when)| AgendaItem {
                    case_id: id.clone(),
                    kind,
                    when,
                    title: String::new(),
                    path: String::new(),
                    needs: None,
                })
                .collect(),
            pending: self
                .pending
                .into_iter()
                .map(|p| Pending {
                    path: String::new(),
                    kind: p.kind,
                    since: p.since,
                    finding: p.finding,
                })
                .collect(),
            search_key,
            person: Prepared::default(),
            version: SUMMARY_VERSION,
            id,
        })
    }
}

/// How to order a list of cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    /// Most recently changed first.
    #[default]
    LastChange,
    /// Soonest (or most overdue) review first; cases without a review date last.
    NextReview,
}

/// Which cases to list. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(default)]
pub struct CaseFilter {
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub stage: Option<Stage>,
    /// Only cases whose latest risk judgement reached this conclusion.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub finding: Option<Finding>,
    /// Only cases of this kind.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub case_kind: Option<CaseKind>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub assigned_to: Option<String>,
    /// Only cases whose review date is before this day (`YYYY-MM-DD`, usually today).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub review_overdue_on: Option<String>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub emergency: Option<bool>,
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub with_conflicts: Option<bool>,
    /// Client or household name, in any script (see [`crate::search`]).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub query: Option<String>,
    /// The order (most recently changed first by default in Rust; an app names it).
    pub sort: SortBy,
    /// At most this many results (all when absent).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub limit: Option<Count>,
}

/// Applies a filter to summaries (the phone's caseload list, the server's console).
pub fn select<'a>(all: impl Iterator<Item = &'a CaseSummary>, f: &CaseFilter) -> Vec<CaseSummary> {
    let query = f.query.as_deref().map(fold).filter(|q| !q.is_empty());
    let mut out: Vec<CaseSummary> = all
        .filter(|s| f.stage.is_none_or(|st| s.stage == st))
        .filter(|s| f.finding.is_none_or(|x| s.finding == Some(x)))
        .filter(|s| f.case_kind.is_none_or(|k| s.case_kind == Some(k)))
        .filter(|s| {
            f.assigned_to
                .as_ref()
                .is_none_or(|u| s.assigned.contains(u))
        })
        .filter(|s| {
            f.review_overdue_on
                .as_deref()
                .is_none_or(|d| s.review_overdue(d))
        })
        .filter(|s| f.emergency.is_none_or(|e| s.emergency == e))
        .filter(|s| f.with_conflicts.is_none_or(|c| (s.conflicts > 0) == c))
        .filter(|s| query.as_deref().is_none_or(|q| matches(&s.search_key, q)))
        .cloned()
        .collect();
    match f.sort {
        SortBy::LastChange => {
            out.sort_by(|a, b| b.last_change.cmp(&a.last_change).then(a.id.cmp(&b.id)))
        }
        SortBy::NextReview => out.sort_by(|a, b| match (&a.next_review, &b.next_review) {
            (Some(x), Some(y)) => x.cmp(y).then(a.id.cmp(&b.id)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => b.last_change.cmp(&a.last_change),
        }),
    }
    if let Some(n) = f.limit {
        out.truncate(n);
    }
    out
}

/// Every item of these cases' agendas, the steps the team's `deadlines` date included.
fn all_items<'a>(
    all: impl Iterator<Item = &'a CaseSummary>,
    deadlines: &Deadlines,
) -> Vec<AgendaItem> {
    all.flat_map(|s| {
        s.agenda
            .iter()
            .cloned()
            .chain(s.pending.iter().filter_map(|p| p.item(&s.id, deadlines)))
            .collect::<Vec<_>>()
    })
    .collect()
}

/// What is overdue on `today` (`YYYY-MM-DD`) across cases: every agenda item due before
/// the day (the team's deadlines included), most overdue first. Computed from the
/// documents and the settings alone, without the network.
pub fn overdue<'a>(
    all: impl Iterator<Item = &'a CaseSummary>,
    today: &str,
    deadlines: &Deadlines,
) -> Vec<AgendaItem> {
    let mut items: Vec<AgendaItem> = all_items(all, deadlines)
        .into_iter()
        .filter(|i| i.when.get(..10).unwrap_or(&i.when) < today)
        .collect();
    items.sort_by(|a, b| a.when.cmp(&b.when).then(a.case_id.cmp(&b.case_id)));
    items
}

/// The agenda across cases up to day `to` inclusive (`YYYY-MM-DD`), soonest first, the
/// team's deadlines included. Overdue items (before any day asked for) are included: a
/// missed activity is still due.
pub(crate) fn agenda<'a>(
    all: impl Iterator<Item = &'a CaseSummary>,
    to: &str,
    deadlines: &Deadlines,
) -> Vec<AgendaItem> {
    let end = format!("{to}\u{10FFFF}");
    let mut items: Vec<AgendaItem> = all_items(all, deadlines)
        .into_iter()
        .filter(|i| i.when.as_str() <= end.as_str())
        .collect();
    items.sort_by(|a, b| a.when.cmp(&b.when).then(a.case_id.cmp(&b.case_id)));
    items
}
