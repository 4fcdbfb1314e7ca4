//! One case file as one Automerge document, and the typed edits that change it.
//!
//! Every edit is one Automerge transaction: it is attributed to the device's actor (whose
//! user and device are recorded in the document's `actors` map on its first write), it
//! carries the time, and its message names the action, so the history reads like a log of
//! what people did. Edits validate their input against [`crate::schema`] before anything is
//! written; a refused edit leaves the document untouched.
//!
//! ```
//! use fieldcase_core::case::{Author, CaseDoc, Role, NewCase, VisitInput};
//! use fieldcase_core::CaseId;
//! use automerge::ActorId;
//!
//! let author = Author::new("u-anna", "Anna", Role::Worker, "phone-1");
//! let mut new = NewCase::default();
//! new.team = "north".into();
//! new.client.name = Some("Nguyễn Thị Lan".into());
//! let mut case = CaseDoc::create(CaseId::random(), ActorId::random(), &author, new, 1_700_000_000_000)?;
//! let visit = case.add_visit(&author, 1_700_000_100_000, VisitInput {
//!     date: Some("2026-11-20".into()),
//!     kind: Some("home".into()),
//!     note: Some("Gia đình đã nhận hỗ trợ lương thực.".into()),
//!     ..Default::default()
//! })?;
//! assert_eq!(case.read()?.visits[0].id, visit);
//! # Ok::<(), fieldcase_core::Error>(())
//! ```

pub mod admission;
pub mod authority;
pub(crate) mod decoded;
pub mod input;
pub mod inspect;
pub mod model;
mod outline;
mod plan;
pub mod process;
pub mod stage;
pub mod upgrade;
mod walk;

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{ActorId, Automerge, ChangeHash, ObjType, ReadDoc, ROOT};
use serde::Serialize;
use serde_json::{json, Map, Value as Json};

pub use input::*;
pub use model::*;
pub use outline::Outline;
pub use plan::{PlanChange, PlanChangeKind, PlanStatus};
pub use stage::Stage;

use crate::attachment::AttachedFile;
use crate::error::{Error, Result};
use crate::ids::{new_item_id, CaseId};
use crate::schema::{self, Kind, Slot, CASE};

/// A user's role, which decides the actions they may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Worker,
    Supervisor,
    Admin,
}

impl Role {
    /// Supervisors and admins approve plans and closures, assign and lift restrictions.
    pub fn has_authority(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }

    pub fn code(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        [Role::Worker, Role::Supervisor, Role::Admin]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

/// Who is editing: every change is attributed to a user on a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Author {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub device_id: String,
}

impl Author {
    pub fn new(user_id: &str, name: &str, role: Role, device_id: &str) -> Self {
        Author {
            user_id: user_id.into(),
            name: name.into(),
            role,
            device_id: device_id.into(),
        }
    }
}

/// A case file: an Automerge document following [`crate::schema::CASE`].
#[derive(Debug, Clone)]
pub struct CaseDoc {
    doc: Automerge,
    /// The actor, user and device already recorded in `actors` (saves reads per edit).
    registered: Option<(String, String, String)>,
    /// Whether an edit since the last [`CaseDoc::take_index_dirty`] may have changed what
    /// the caseload index shows (see [`INDEX_PATHS`]).
    index_dirty: bool,
}

/// Where the caseload index reads from. Edits elsewhere (narrative texts, visit details,
/// consents, referrals, contacts) cannot change a case's index entry.
pub const INDEX_PATHS: &[&str] = &[
    "stage",
    "priority",
    "sensitivity",
    "team",
    "case_manager",
    "assigned",
    "client/name",
    "client/name_latin",
    "client/household",
    "case_kind",
    "intake/emergency",
    "intake/safety_secured_at",
    "intake/preliminary_risk",
    "intake/preliminary_finding",
    "closures",
    "referrals",
    "plan/approval",
    "assessments",
    "reviews",
    "appointments",
    "plan/problems",
    "plan/next_review",
    "visits/*/follow_ups",
];

/// Whether a write at `path` (a field, or a map whose fields are written) may change the
/// caseload index.
fn touches_index(path: &str) -> bool {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segs.is_empty() {
        return true;
    }
    INDEX_PATHS.iter().any(|p| {
        let pat: Vec<&str> = p.split('/').collect();
        // The write is at or below an index path, or above one (a map holding it).
        pat.iter().zip(&segs).all(|(a, b)| *a == "*" || a == b)
    })
}

/// RFC 3339 (UTC, seconds) for a time in milliseconds since the Unix epoch.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn to_map<T: Serialize>(v: &T) -> Map<String, Json> {
    match serde_json::to_value(v) {
        Ok(Json::Object(m)) => m,
        _ => Map::new(),
    }
}

fn path_join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}/{b}")
    }
}

impl CaseDoc {
    /// Opens a new case: the whole schema scaffolded, stage `intake`, the creator as case
    /// manager and assigned worker unless `new` names another.
    pub fn create(
        id: CaseId,
        actor: ActorId,
        author: &Author,
        new: NewCase,
        now_ms: i64,
    ) -> Result<Self> {
        if new.team.trim().is_empty() {
            return Err(Error::invalid("team", "a case belongs to a team"));
        }
        if new
            .intake
            .as_ref()
            .is_some_and(|i| i.preliminary_finding.is_some())
            && !new.case_kind.is_some_and(|k| k.has_findings())
        {
            return Err(Error::invalid(
                "intake/preliminary_finding",
                "only a child-protection case concludes about abuse: set the kind of case",
            ));
        }
        let mut doc = Automerge::new().with_actor(actor);
        let manager = new
            .case_manager
            .clone()
            .unwrap_or_else(|| author.user_id.clone());
        let id_str = id.to_string();
        let at = rfc3339(now_ms);
        let actor_hex = doc.get_actor().to_hex_string();
        commit(&mut doc, now_ms, "create case", |tx| {
            tx.put(ROOT, "schema", schema::SCHEMA_ID)?;
            schema::scaffold(tx, &ROOT, CASE)?;
            register_actor(tx, &actor_hex, author)?;
            let mut root = Map::new();
            root.insert("id".into(), json!(id_str));
            root.insert("created_at".into(), json!(at));
            root.insert("created_by".into(), json!(author.user_id));
            root.insert("team".into(), json!(new.team));
            root.insert("case_manager".into(), json!(manager));
            let mut assigned = vec![manager.clone()];
            if author.user_id != manager && author.role == Role::Worker {
                assigned.push(author.user_id.clone());
            }
            root.insert("assigned".into(), json!(assigned));
            root.insert("stage".into(), json!(Stage::Intake.code()));
            root.insert(
                "sensitivity".into(),
                json!(Sensitivity::of(new.restricted).code()),
            );
            root.insert(
                "priority".into(),
                json!(new.priority.as_deref().unwrap_or("normal")),
            );
            if let Some(kind) = new.case_kind {
                root.insert("case_kind".into(), json!(kind.code()));
            }
            root.insert("client".into(), Json::Object(to_map(&new.client)));
            if let Some(intake) = &new.intake {
                root.insert("intake".into(), Json::Object(to_map(intake)));
            }
            schema::write_map(tx, &ROOT, CASE, false, &root, "", true)?;
            Ok(())
        })?;
        Ok(CaseDoc::wrap(doc))
    }

    fn wrap(doc: Automerge) -> Self {
        CaseDoc {
            doc,
            registered: None,
            index_dirty: true,
        }
    }

    /// Loads a case from saved bytes (a snapshot, optionally followed by changes).
    pub fn load(bytes: &[u8]) -> Result<Self> {
        Ok(CaseDoc::wrap(Automerge::load(bytes)?))
    }

    /// Wraps a document this app stored itself (already valid).
    pub(crate) fn from_loaded(doc: Automerge) -> Self {
        CaseDoc::wrap(doc)
    }

    /// Wraps a document received from elsewhere, after checking it against the schema.
    pub fn from_automerge(doc: Automerge) -> Result<Self> {
        schema::validate(&doc).map_err(|v| Error::invalid(v.path, v.reason))?;
        Ok(CaseDoc::wrap(doc))
    }

    /// Sets the actor this replica writes with.
    pub fn set_actor(&mut self, actor: ActorId) {
        self.doc.set_actor(actor);
    }

    /// The underlying Automerge document.
    pub fn automerge(&self) -> &Automerge {
        &self.doc
    }

    /// The underlying Automerge document, for sync and merge (not for edits: those go
    /// through the typed actions so they stay valid).
    pub fn automerge_mut(&mut self) -> &mut Automerge {
        self.index_dirty = true;
        &mut self.doc
    }

    /// Merges another replica of the same case into this one.
    pub fn merge(&mut self, other: &mut CaseDoc) -> Result<()> {
        self.doc.merge(&mut other.doc)?;
        self.index_dirty = true;
        Ok(())
    }

    /// Applies a sync message from a peer (the index may change: a merge).
    pub fn receive_sync_message(
        &mut self,
        state: &mut automerge::sync::State,
        message: automerge::sync::Message,
    ) -> Result<()> {
        use automerge::sync::SyncDoc;
        self.doc.receive_sync_message(state, message)?;
        self.index_dirty = true;
        Ok(())
    }

    /// The next sync message for a peer, if there is anything to say.
    pub fn generate_sync_message(
        &self,
        state: &mut automerge::sync::State,
    ) -> Option<automerge::sync::Message> {
        use automerge::sync::SyncDoc;
        self.doc.generate_sync_message(state)
    }

    /// The current heads of the document's history.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The case id stored in the document.
    pub fn id(&self) -> Result<CaseId> {
        schema::get_str(&self.doc, &ROOT, "id")
            .ok_or_else(|| Error::invalid("id", "document has no case id"))?
            .parse()
    }

    /// Whether the case is restricted. If people disagreed (one restricted it while another
    /// set it normal), it is restricted until someone with authority resolves it.
    pub fn is_restricted(&self) -> bool {
        Self::restricted_in(&self.doc)
    }

    /// [`CaseDoc::is_restricted`] of any Automerge document.
    pub fn restricted_in(doc: &Automerge) -> bool {
        doc.get_all(ROOT, "sensitivity")
            .unwrap_or_default()
            .iter()
            .any(|(v, _)| {
                matches!(v, automerge::Value::Scalar(s)
                    if s.as_str().is_some_and(|c| Sensitivity::parse(c).restricts()))
            })
    }

    /// The stage the case is in (the winning value if two phones disagreed).
    pub fn stage(&self) -> Stage {
        schema::get_str(&self.doc, &ROOT, "stage")
            .map(|s| Stage::parse(&s))
            .unwrap_or_default()
    }

    /// The whole case file as JSON (texts as strings; winning values of conflicts).
    pub fn to_json(&self) -> Json {
        walk::Walk::new(&self.doc, true).root()
    }

    /// The case file without its narrative texts (left empty), and the number of fields
    /// holding concurrent different values: what the caseload index needs, at a fraction
    /// of the cost of a full read (texts are most of a case's operations).
    pub fn outline(&self) -> Result<(CaseFile, usize)> {
        Self::outline_of(&self.doc)
    }

    /// [`CaseDoc::outline`] of any Automerge document (no copy is made), e.g. one the
    /// server is about to accept.
    pub fn outline_of(doc: &Automerge) -> Result<(CaseFile, usize)> {
        let outline = Outline::of(doc)?;
        let conflicts = outline.conflicts();
        Ok((outline.file, conflicts))
    }

    /// The whole case file as typed values.
    pub fn read(&self) -> Result<CaseFile> {
        let mut file: CaseFile = serde_json::from_value(self.to_json())?;
        // Only what each actor recorded of itself (see [`inspect::actor_records`]).
        file.actors = inspect::actor_records(&self.doc);
        Ok(file)
    }

    fn edit<T>(
        &mut self,
        author: &Author,
        now_ms: i64,
        message: &str,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let out = self.edit_outside_index(author, now_ms, message, f)?;
        self.index_dirty = true;
        Ok(out)
    }

    /// Whether the caseload index may be out of date since the last call; clears the flag.
    pub fn take_index_dirty(&mut self) -> bool {
        std::mem::replace(&mut self.index_dirty, false)
    }

    /// An edit that cannot change the caseload index (its paths are outside [`INDEX_PATHS`]).
    fn edit_outside_index<T>(
        &mut self,
        author: &Author,
        now_ms: i64,
        message: &str,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let actor = self.doc.get_actor().to_hex_string();
        let me = (actor, author.user_id.clone(), author.device_id.clone());
        let known = self.registered.as_ref() == Some(&me);
        // A case written by an earlier schema revision is upgraded first, by the change
        // every replica makes alike (`upgrade`); if the edit is refused, the document is
        // left as it was.
        let before = match upgrade::needs_upgrade(&self.doc) {
            true => {
                let before = self.doc.clone();
                upgrade::upgrade(&mut self.doc)?;
                Some(before)
            }
            false => None,
        };
        let out = commit(&mut self.doc, now_ms, message, |tx| {
            if !known {
                register_actor(tx, &me.0, author)?;
            }
            f(tx)
        });
        let out = match (out, before) {
            (Ok(out), _) => out,
            (Err(e), Some(before)) => {
                self.doc = before;
                return Err(e);
            }
            (Err(e), None) => return Err(e),
        };
        self.registered = Some(me);
        Ok(out)
    }

    /// Runs an edit, marking the index stale only if `path` may affect it.
    fn edit_at<T>(
        &mut self,
        author: &Author,
        now_ms: i64,
        message: &str,
        path: &str,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        if touches_index(path) {
            self.edit(author, now_ms, message, f)
        } else {
            self.edit_outside_index(author, now_ms, message, f)
        }
    }

    /// Adds an entry to the list at `list_path`; returns the new entry's id.
    fn add_entry(
        &mut self,
        author: &Author,
        now_ms: i64,
        list_path: &str,
        value: Map<String, Json>,
    ) -> Result<String> {
        let message = format!("add {}", list_path.rsplit('/').next().unwrap_or(list_path));
        self.edit_at(author, now_ms, &message, list_path, |tx| {
            insert_entry(tx, author, now_ms, list_path, value)
        })
    }

    /// Writes fields of the map or entry at `path` (empty for the root).
    fn update_map(
        &mut self,
        author: &Author,
        now_ms: i64,
        message: &str,
        path: &str,
        value: Map<String, Json>,
        allow_action: bool,
    ) -> Result<()> {
        let index = value.keys().any(|k| touches_index(&format!("{path}/{k}")));
        let f = |tx: &mut Transaction<'_>| write_at(tx, path, &value, allow_action);
        if index {
            self.edit(author, now_ms, message, f)
        } else {
            self.edit_outside_index(author, now_ms, message, f)
        }
    }

    /// Changes the client's identity and situation.
    pub fn update_client(&mut self, a: &Author, now: i64, input: ClientInput) -> Result<()> {
        self.update_map(a, now, "update client", "client", to_map(&input), false)
    }

    /// Adds a way to reach the client.
    pub fn add_contact(&mut self, a: &Author, now: i64, input: ContactInput) -> Result<String> {
        self.add_entry(a, now, "client/contacts", to_map(&input))
    }

    /// Adds a member of the client's household.
    pub fn add_household_member(
        &mut self,
        a: &Author,
        now: i64,
        input: HouseholdMemberInput,
    ) -> Result<String> {
        self.add_entry(a, now, "client/household", to_map(&input))
    }

    /// Links this case to another (issue 19): a household member's own case when `member`
    /// names one, or else a new household entry for a related case (a sibling, a parent, a
    /// child). The link holds only the other case's id and the relation's code
    /// ([`crate::schema::CASE_RELATIONS`]), nothing of that case; the server admits it only
    /// when the writer may see that case. A case is linked once; not to itself. Returns the
    /// member's id.
    pub fn link_case(
        &mut self,
        a: &Author,
        now: i64,
        member: Option<&str>,
        case_id: &str,
        relation: &str,
    ) -> Result<String> {
        let target: CaseId = case_id
            .parse()
            .map_err(|_| Error::invalid("client/household/case_id", "not a case id"))?;
        if target == self.id()? {
            return Err(Error::invalid(
                "client/household/case_id",
                "a case is not linked to itself",
            ));
        }
        if !crate::schema::CASE_RELATIONS.contains(&relation) {
            return Err(Error::invalid(
                "client/household/case_relation",
                "not a relation code",
            ));
        }
        let file = self.read()?;
        let members = &file.client.household;
        if members
            .iter()
            .any(|m| m.retracted.is_none() && m.case_id.as_deref() == Some(&target.to_string()))
        {
            return Err(Error::invalid(
                "client/household/case_id",
                "this case is linked already",
            ));
        }
        let mut value = Map::new();
        value.insert("case_id".into(), json!(target.to_string()));
        value.insert("case_relation".into(), json!(relation));
        match member {
            Some(m) => {
                if !members.iter().any(|x| x.id == m && x.retracted.is_none()) {
                    return Err(Error::NotFound(format!("client/household/{m}")));
                }
                let path = format!("client/household/{m}");
                self.update_map(a, now, "link case", &path, value, true)?;
                Ok(m.to_string())
            }
            None => self.edit_at(a, now, "link case", "client/household", |tx| {
                insert_entry_with(tx, a, now, "client/household", value, true)
            }),
        }
    }

    /// Records (or completes) the intake.
    pub fn record_intake(&mut self, a: &Author, now: i64, input: IntakeInput) -> Result<()> {
        if input.preliminary_finding.is_some()
            && !self.read()?.case_kind.is_some_and(|k| k.has_findings())
        {
            return Err(Error::invalid(
                "intake/preliminary_finding",
                "only a child-protection case concludes about abuse: set the kind of case",
            ));
        }
        self.update_map(a, now, "record intake", "intake", to_map(&input), false)
    }

    /// Records the safety of a person at risk: the alleged perpetrator and the safety plan.
    pub fn record_safety(&mut self, a: &Author, now: i64, input: SafetyInput) -> Result<()> {
        if input.protection_order.is_some_and(|o| !o.is_known()) {
            return Err(Error::invalid("safety/protection_order", "unknown status"));
        }
        self.update_map(a, now, "record safety", "safety", to_map(&input), false)
    }

    /// Records a consent the client or family gave or refused.
    pub fn record_consent(&mut self, a: &Author, now: i64, input: ConsentInput) -> Result<String> {
        self.add_entry(a, now, "consents", to_map(&input))
    }

    /// Records that a consent was withdrawn (the consent itself stays in the file).
    pub fn withdraw_consent(
        &mut self,
        a: &Author,
        now: i64,
        consent_id: &str,
        date: &str,
        reason: &str,
    ) -> Result<()> {
        let value = to_map(&json!({"withdrawn_on": date, "withdrawn_reason": reason}));
        self.update_map(
            a,
            now,
            "withdraw consent",
            &format!("consents/{consent_id}"),
            value,
            false,
        )
    }

    /// Adds an assessment over the life domains with its risk judgement.
    pub fn add_assessment(
        &mut self,
        a: &Author,
        now: i64,
        mut input: AssessmentInput,
    ) -> Result<String> {
        if let Some(risk) = input.risk.as_mut() {
            self.check_risk(risk, "assessments")?;
        }
        let given: Vec<String> = to_map(&input)
            .keys()
            .filter(|k| schema::is_kind_assessment_item(k))
            .cloned()
            .collect();
        if !given.is_empty() {
            let items = self
                .read()?
                .case_kind
                .map_or(&[][..], |k| k.assessment_items());
            if let Some(other) = given.iter().find(|g| !items.contains(&g.as_str())) {
                return Err(Error::invalid(
                    format!("assessments/{other}"),
                    "this item belongs to the assessment of another kind of case",
                ));
            }
        }
        for domain in input
            .domains
            .as_ref()
            .map(|d| d.keys())
            .into_iter()
            .flatten()
        {
            if !schema::LIFE_DOMAINS.contains(&domain.as_str()) {
                return Err(Error::invalid(
                    format!("assessments/domains/{domain}"),
                    "unknown life domain",
                ));
            }
        }
        self.add_entry(a, now, "assessments", to_map(&input))
    }

    /// Adds a problem to the plan; returns its id.
    pub fn add_problem(&mut self, a: &Author, now: i64, input: ProblemInput) -> Result<String> {
        let mut m = to_map(&input);
        m.entry("status").or_insert(json!("open"));
        self.add_entry(a, now, "plan/problems", m)
    }

    /// Changes a problem of the plan.
    pub fn update_problem(
        &mut self,
        a: &Author,
        now: i64,
        problem_id: &str,
        input: ProblemInput,
    ) -> Result<()> {
        self.update_map(
            a,
            now,
            "update problem",
            &format!("plan/problems/{problem_id}"),
            to_map(&input),
            false,
        )
    }

    /// Adds an activity towards a problem's goal; returns its id.
    pub fn add_activity(
        &mut self,
        a: &Author,
        now: i64,
        problem_id: &str,
        input: ActivityInput,
    ) -> Result<String> {
        let mut m = to_map(&input);
        m.entry("status").or_insert(json!("planned"));
        self.add_entry(a, now, &format!("plan/problems/{problem_id}/activities"), m)
    }

    /// Sets the status of an activity.
    pub fn set_activity_status(
        &mut self,
        a: &Author,
        now: i64,
        problem_id: &str,
        activity_id: &str,
        status: ActivityStatus,
    ) -> Result<()> {
        let path = format!("plan/problems/{problem_id}/activities/{activity_id}");
        self.update_map(
            a,
            now,
            "set activity status",
            &path,
            to_map(&json!({"status": status})),
            false,
        )
    }

    /// Sets the date of the next review.
    pub fn set_next_review(&mut self, a: &Author, now: i64, date: &str) -> Result<()> {
        self.update_map(
            a,
            now,
            "set next review",
            "plan",
            to_map(&json!({"next_review": date})),
            false,
        )
    }

    /// Records the family's agreement with the plan.
    pub fn record_family_agreement(
        &mut self,
        a: &Author,
        now: i64,
        input: AgreementInput,
    ) -> Result<()> {
        let value = to_map(&json!({"family_agreement": input}));
        self.update_map(a, now, "record family agreement", "plan", value, false)
    }

    /// Adds a referral to a partner organisation, in free text or naming the partner
    /// directory's service. One that shares the client's information (unless the input
    /// says it shares none) needs a consent that covers it ([`Referral::consent_problem`]);
    /// its first step (sent, or the status given) is recorded with it.
    pub fn add_referral(&mut self, a: &Author, now: i64, input: ReferralInput) -> Result<String> {
        Self::check_referral_status(input.status, input.status_reason.as_deref(), "referrals")?;
        let file = self.read()?;
        let probe = Referral {
            shares_information: input.shares_information,
            consent_id: input.consent_id.clone(),
            ..Default::default()
        };
        if let Some(why) = probe.consent_problem(&file.consents) {
            return Err(Error::invalid("referrals/consent_id", why));
        }
        let status = input.status.unwrap_or(ReferralStatus::Sent);
        let mut m = to_map(&input);
        m.insert("status".into(), json!(status));
        m.entry("shares_information").or_insert(json!(true));
        let mut step = to_map(&json!({"status": status}));
        if let Some(r) = input.status_reason.filter(|r| !r.trim().is_empty()) {
            step.insert("reason".into(), json!(r));
        }
        self.edit(a, now, "add referrals", |tx| {
            let id = insert_entry(tx, a, now, "referrals", m)?;
            insert_entry_with(tx, a, now, &format!("referrals/{id}/steps"), step, true)?;
            Ok(id)
        })
    }

    /// Links a referral to the partner directory's service (and location and contact),
    /// as when one written in free text is matched to an entry later; the names are
    /// written too when given.
    pub fn link_referral(
        &mut self,
        a: &Author,
        now: i64,
        referral_id: &str,
        input: ReferralLinkInput,
    ) -> Result<()> {
        let path = format!("referrals/{referral_id}");
        if input
            .service_id
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
        {
            return Err(Error::invalid(
                format!("{path}/service_id"),
                "name the directory's service",
            ));
        }
        self.live_referral(referral_id)?;
        self.update_map(a, now, "link referral", &path, to_map(&input), false)
    }

    /// The referral `referral_id`, not retracted.
    fn live_referral(&self, referral_id: &str) -> Result<Referral> {
        self.read()?
            .referrals
            .into_iter()
            .find(|r| r.id == referral_id && r.retracted.is_none())
            .ok_or_else(|| Error::NotFound(format!("referrals/{referral_id}")))
    }

    /// Records the next step of a referral's loop ([`ReferralStatus::can_move_to`]): the
    /// status, the organisation's reason for declining, the outcome; the step is added to
    /// the referral's `steps` with who and when (a referral recorded before revision 2 has
    /// no steps: its status alone moves).
    pub fn set_referral_status(
        &mut self,
        a: &Author,
        now: i64,
        referral_id: &str,
        status: ReferralStatus,
        reason: Option<&str>,
        outcome: Option<&str>,
    ) -> Result<()> {
        self.referral_step(a, now, referral_id, status, reason, outcome, None)
    }

    /// A partner's answer to a referral (through a link: `docs/adr/0006-*`): the next step
    /// of its loop as [`Self::set_referral_status`] records it, with the partner's feedback
    /// (on the referral and on the step).
    pub fn record_partner_answer(
        &mut self,
        a: &Author,
        now: i64,
        referral_id: &str,
        status: ReferralStatus,
        reason: Option<&str>,
        feedback: Option<&str>,
    ) -> Result<()> {
        self.referral_step(a, now, referral_id, status, reason, None, feedback)
    }

    #[allow(clippy::too_many_arguments)]
    fn referral_step(
        &mut self,
        a: &Author,
        now: i64,
        referral_id: &str,
        status: ReferralStatus,
        reason: Option<&str>,
        outcome: Option<&str>,
        feedback: Option<&str>,
    ) -> Result<()> {
        let path = format!("referrals/{referral_id}");
        Self::check_referral_status(Some(status), reason, &path)?;
        let from = self
            .live_referral(referral_id)?
            .status
            .unwrap_or(ReferralStatus::Sent);
        if !from.can_move_to(status) {
            return Err(Error::invalid(format!("{path}/status"), REFERRAL_STEPS));
        }
        let mut m = to_map(&json!({"status": status}));
        let mut step = to_map(&json!({"status": status}));
        if let Some(r) = reason.filter(|r| !r.trim().is_empty()) {
            m.insert("status_reason".into(), json!(r));
            step.insert("reason".into(), json!(r));
        }
        if let Some(o) = outcome.filter(|o| !o.trim().is_empty()) {
            m.insert("outcome".into(), json!(o));
            step.insert("note".into(), json!(o));
        }
        if let Some(f) = feedback.filter(|f| !f.trim().is_empty()) {
            m.insert("feedback".into(), json!(f));
            step.insert("note".into(), json!(f));
        }
        let steps = format!("{path}/steps");
        self.edit(a, now, "set referral status", |tx| {
            write_at(tx, &path, &m, false)?;
            if list_exists(tx, &steps) {
                insert_entry_with(tx, a, now, &steps, step, true)?;
            }
            Ok(())
        })
    }

    /// Records a visit, call or meeting with its note.
    pub fn add_visit(&mut self, a: &Author, now: i64, input: VisitInput) -> Result<String> {
        self.add_entry(a, now, "visits", to_map(&input))
    }

    /// Adds a follow-up to a visit.
    pub fn add_follow_up(
        &mut self,
        a: &Author,
        now: i64,
        visit_id: &str,
        input: FollowUpInput,
    ) -> Result<String> {
        self.add_entry(
            a,
            now,
            &format!("visits/{visit_id}/follow_ups"),
            to_map(&input),
        )
    }

    /// Adds the reference to an attachment whose bytes are `hash` (SHA-256, lowercase
    /// hex), `size` bytes of `media_type` (as [`crate::attachment::sniff`] recognised
    /// them). The bytes themselves are kept by the store ([`crate::CaseStore::attach`]);
    /// `about`, when given, must name a live entry of a list of [`schema::ATTACHABLE`].
    pub fn add_attachment(
        &mut self,
        a: &Author,
        now: i64,
        file: &AttachedFile,
        input: AttachmentInput,
    ) -> Result<String> {
        if !crate::attachment::is_hash(&file.hash) {
            return Err(Error::invalid("attachments/hash", "not a SHA-256 in hex"));
        }
        if let Some(kind) = input.kind.filter(|k| !k.is_known()) {
            return Err(Error::invalid(
                "attachments/kind",
                format!("`{kind}` is not a kind this version knows"),
            ));
        }
        if let Some(about) = input.about.as_deref() {
            self.check_about(about)?;
        }
        let mut m = to_map(&json!({
            "hash": file.hash,
            "size": file.size,
            "media_type": file.media_type,
            "kind": input.kind.unwrap_or(model::AttachmentKind::Document),
        }));
        if let Some(about) = input.about {
            m.insert("about".into(), json!(about));
        }
        if let Some(caption) = input.caption.filter(|c| !c.trim().is_empty()) {
            m.insert("caption".into(), json!(caption));
        }
        self.edit_outside_index(a, now, "add attachments", |tx| {
            insert_entry_with(tx, a, now, "attachments", m, true)
        })
    }

    /// Whether `about` names a live entry an attachment may belong to.
    fn check_about(&self, about: &str) -> Result<()> {
        let bad = || {
            Error::invalid(
                "attachments/about",
                "name a consent, assessment, referral, visit, review or closure as <list>/<id>",
            )
        };
        let (list, id) = about.split_once('/').ok_or_else(bad)?;
        if !schema::ATTACHABLE.contains(&list) || id.is_empty() || id.contains('/') {
            return Err(bad());
        }
        let (obj, _) =
            resolve_entry(&self.doc, about).map_err(|_| Error::NotFound(format!("{list}/{id}")))?;
        if schema::get_obj(&self.doc, &obj, "retracted").is_some() {
            return Err(Error::invalid(
                "attachments/about",
                "that entry was retracted",
            ));
        }
        Ok(())
    }

    /// Adds an appointment.
    pub fn add_appointment(
        &mut self,
        a: &Author,
        now: i64,
        input: AppointmentInput,
    ) -> Result<String> {
        let mut m = to_map(&input);
        m.entry("status").or_insert(json!("planned"));
        self.add_entry(a, now, "appointments", m)
    }

    /// Records whether an appointment was kept, missed or moved.
    pub fn set_appointment_status(
        &mut self,
        a: &Author,
        now: i64,
        appointment_id: &str,
        status: AppointmentStatus,
    ) -> Result<()> {
        let path = format!("appointments/{appointment_id}");
        self.update_map(
            a,
            now,
            "set appointment status",
            &path,
            to_map(&json!({"status": status})),
            false,
        )
    }

    /// Records supervision on the record: a case conference, a review of the handling of
    /// the case, or a disagreement between professionals, with the day it took place. A
    /// supervisor's review is written by a supervisor only (the server checks it again);
    /// a worker records their own as `self_review`.
    pub fn add_supervision(
        &mut self,
        a: &Author,
        now: i64,
        input: SupervisionInput,
    ) -> Result<String> {
        let Some(kind) = input.kind else {
            return Err(Error::invalid("supervision/kind", "say what is recorded"));
        };
        if !kind.is_known() {
            return Err(Error::invalid(
                "supervision/kind",
                "not a kind of supervision entry",
            ));
        }
        if kind == SupervisionKind::SupervisorReview {
            require_authority(a, "a supervisor's review")?;
        }
        if input.date.as_deref().is_none_or(str::is_empty) {
            return Err(Error::invalid(
                "supervision/date",
                "say on which day it took place",
            ));
        }
        self.add_entry(a, now, "supervision", to_map(&input))
    }

    /// Records a review: progress per goal, re-assessed risk, satisfaction, decision.
    pub fn add_review(&mut self, a: &Author, now: i64, mut input: ReviewInput) -> Result<String> {
        if let Some(risk) = input.risk.as_mut() {
            self.check_risk(risk, "reviews")?;
        }
        let progress = input.progress.take().unwrap_or_default();
        let m = to_map(&input);
        self.edit(a, now, "add review", |tx| {
            let id = insert_entry(tx, a, now, "reviews", m)?;
            for p in progress {
                insert_entry(tx, a, now, &format!("reviews/{id}/progress"), to_map(&p))?;
            }
            Ok(id)
        })
    }

    /// Moves the case along the workflow. Closing and reopening have their own actions;
    /// implementation needs an approved plan.
    pub fn change_stage(&mut self, a: &Author, now: i64, to: Stage) -> Result<()> {
        let from = self.stage();
        let refuse = |reason: &str| {
            Err(Error::InvalidTransition {
                from,
                to,
                reason: reason.into(),
            })
        };
        if !from.can_move_to(to) {
            return refuse("the workflow has no such step");
        }
        if from == Stage::Intake && self.read()?.emergency_open() {
            return refuse(process::SAFETY_FIRST);
        }
        match to {
            Stage::Closed => {
                return refuse("a case is closed when a supervisor approves a closure request")
            }
            Stage::Intake => return refuse("a closed case is reopened with a reason (reopen)"),
            Stage::Implementation => {
                let plan = self.read()?.plan;
                if plan.approval.status != Some(ApprovalStatus::Approved) {
                    return refuse("the plan must be approved by a supervisor first");
                }
            }
            _ => {}
        }
        let message = format!("stage {} -> {}", from.code(), to.code());
        self.edit(a, now, &message, |tx| {
            if from == Stage::Review && to == Stage::Planning {
                // A new plan needs a new approval: the old one does not carry over.
                reset_plan_approval(tx)?;
            }
            write_at(tx, "", &to_map(&json!({"stage": to.code()})), true)
        })
    }

    /// Sets who the case is assigned to and who manages it (supervisors and admins).
    pub fn assign(
        &mut self,
        a: &Author,
        now: i64,
        workers: &[String],
        case_manager: Option<&str>,
    ) -> Result<()> {
        require_authority(a, "assigning a case")?;
        if workers.is_empty() {
            return Err(Error::invalid(
                "assigned",
                "a case needs at least one assigned worker",
            ));
        }
        let mut m = to_map(&json!({"assigned": workers}));
        if let Some(cm) = case_manager {
            m.insert("case_manager".into(), json!(cm));
        }
        self.update_map(a, now, "assign", "", m, true)
    }

    /// Marks the case restricted (anyone may) or normal again (supervisors only).
    pub fn set_restricted(&mut self, a: &Author, now: i64, restricted: bool) -> Result<()> {
        if !restricted {
            require_authority(a, "lifting a restriction")?;
        }
        let value = to_map(&json!({"sensitivity": Sensitivity::of(restricted).code()}));
        self.update_map(a, now, "set sensitivity", "", value, true)
    }

    /// Retracts an entry (`visits/<id>`, `plan/problems/<id>`...): it stays in the file and
    /// in history, marked with who retracted it, when and why.
    pub fn retract(&mut self, a: &Author, now: i64, entry_path: &str, reason: &str) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(entry_path, "a retraction needs a reason"));
        }
        let (list_path, _) = entry_path
            .rsplit_once('/')
            .ok_or_else(|| Error::invalid(entry_path, "not an entry path"))?;
        // Entries of action-only lists (closures) are decided, not retracted.
        if schema::resolve(&self.doc, list_path)?.action_only {
            return Err(Error::invalid(
                entry_path,
                "these entries are decided, not retracted",
            ));
        }
        let value =
            to_map(&json!({"retracted": {"at": rfc3339(now), "by": a.user_id, "reason": reason}}));
        self.edit(a, now, "retract", |tx| {
            let (obj, _) = resolve_entry(tx, entry_path)?;
            if schema::get_obj(tx, &obj, "retracted").is_some() {
                return Err(Error::invalid(entry_path, "already retracted"));
            }
            write_at(tx, entry_path, &value, true)
        })
    }

    /// Writes any open field of the schema from JSON (forms generated from the schema).
    /// Resolving a conflict is this call with the chosen value.
    pub fn set_field(&mut self, a: &Author, now: i64, path: &str, value: &Json) -> Result<()> {
        let message = format!("set {path}");
        self.edit_at(a, now, &message, path, |tx| {
            let r = schema::resolve(tx, path)?;
            if r.action_only {
                return Err(Error::invalid(
                    path,
                    "this field is changed through its own action",
                ));
            }
            if matches!(r.field.kind, Kind::Entries(_)) {
                return Err(Error::invalid(path, "entries are added one by one"));
            }
            schema::write_field(tx, &r.obj, &r.key, r.field, value, path, false)
        })
    }

    /// Edits a narrative field in place: deletes `delete` characters at `position` (Unicode
    /// scalar values) and inserts `insert`. Concurrent edits merge character by character.
    pub fn edit_text(
        &mut self,
        a: &Author,
        now: i64,
        path: &str,
        position: usize,
        delete: usize,
        insert: &str,
    ) -> Result<()> {
        self.splice(a, now, path, TextUnits::Scalars, position, delete, insert)
    }

    /// [`CaseDoc::edit_text`] with `position` and `delete` in UTF-16 code units, as Kotlin,
    /// Java and Swift (`NSString`, `UITextView`) count them: an emoji or a rare CJK
    /// character is two. A position inside such a character is refused.
    pub fn edit_text_utf16(
        &mut self,
        a: &Author,
        now: i64,
        path: &str,
        position: usize,
        delete: usize,
        insert: &str,
    ) -> Result<()> {
        self.splice(a, now, path, TextUnits::Utf16, position, delete, insert)
    }

    #[allow(clippy::too_many_arguments)]
    fn splice(
        &mut self,
        a: &Author,
        now: i64,
        path: &str,
        units: TextUnits,
        position: usize,
        delete: usize,
        insert: &str,
    ) -> Result<()> {
        let message = format!("edit {path}");
        self.edit_at(a, now, &message, path, |tx| {
            let r = schema::resolve(tx, path)?;
            if r.action_only {
                return Err(Error::invalid(
                    path,
                    "this text is changed through its own action",
                ));
            }
            if !matches!(r.field.kind, Kind::Text) {
                return Err(Error::invalid(path, "not a narrative text field"));
            }
            let text =
                schema::get_obj(tx, &r.obj, &r.key).ok_or_else(|| Error::NotFound(path.into()))?;
            let len = tx.length(&text);
            let (position, delete) = match units {
                TextUnits::Scalars => (position, delete),
                TextUnits::Utf16 => {
                    let current = tx.text(&text)?;
                    let at = |units16: usize| {
                        scalar_offset(&current, units16).ok_or_else(|| {
                            Error::invalid(
                                path,
                                format!(
                                    "UTF-16 offset {units16} is inside a character or past the text"
                                ),
                            )
                        })
                    };
                    let start = at(position)?;
                    let end = at(position.saturating_add(delete))?;
                    (start, end - start)
                }
            };
            if position > len || delete > len - position {
                return Err(Error::invalid(
                    path,
                    format!("range {position}+{delete} outside the text of length {len}"),
                ));
            }
            if len - delete + insert.chars().count() > schema::MAX_STR {
                return Err(Error::invalid(path, "text too long"));
            }
            tx.splice_text(&text, position, delete as isize, insert)?;
            Ok(())
        })
    }
}

/// How a text position is counted.
#[derive(Debug, Clone, Copy)]
enum TextUnits {
    Scalars,
    Utf16,
}

/// The Unicode scalar offset in `s` of the UTF-16 offset `units16`, if it falls between
/// characters and within the text.
fn scalar_offset(s: &str, units16: usize) -> Option<usize> {
    let (mut seen, mut scalars) = (0, 0);
    for c in s.chars() {
        if seen >= units16 {
            break;
        }
        seen += c.len_utf16();
        scalars += 1;
    }
    (seen == units16).then_some(scalars)
}

/// Commits one transaction with the author's time (seconds, as Automerge JS records it) and
/// a message naming the action; rolls back on error.
fn commit<T>(
    doc: &mut Automerge,
    now_ms: i64,
    message: &str,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let opts = CommitOptions::default()
        .with_message(message.to_string())
        .with_time(now_ms / 1000);
    match doc.transact_with(|_| opts, f) {
        Ok(ok) => Ok(ok.result),
        Err(failure) => Err(failure.error),
    }
}

fn require_authority(a: &Author, what: &str) -> Result<()> {
    if a.role.has_authority() {
        Ok(())
    } else {
        Err(Error::Unauthorized(format!("{what} needs a supervisor")))
    }
}

/// Records which user and device this actor writes for, once per actor.
fn register_actor(tx: &mut Transaction<'_>, actor: &str, a: &Author) -> Result<()> {
    let actors = match schema::get_obj(tx, &ROOT, "actors") {
        Some(id) => id,
        None => tx.put_object(ROOT, "actors", ObjType::Map)?,
    };
    let known = schema::get_obj(tx, &actors, actor)
        .map(|obj| {
            schema::get_str(tx, &obj, "user_id").as_deref() == Some(&a.user_id)
                && schema::get_str(tx, &obj, "device_id").as_deref() == Some(&a.device_id)
        })
        .unwrap_or(false);
    if !known {
        let obj = tx.put_object(&actors, actor, ObjType::Map)?;
        tx.put(&obj, "user_id", a.user_id.as_str())?;
        tx.put(&obj, "device_id", a.device_id.as_str())?;
        tx.put(&obj, "name", a.name.as_str())?;
    }
    Ok(())
}

/// Resolves `<list path>/<entry id>` to the entry's object and its fields.
fn resolve_entry<R: ReadDoc>(
    doc: &R,
    entry_path: &str,
) -> Result<(automerge::ObjId, &'static [schema::Field])> {
    let (list_path, id) = entry_path
        .rsplit_once('/')
        .ok_or_else(|| Error::invalid(entry_path, "not an entry path"))?;
    let r = schema::resolve(doc, list_path)?;
    let Kind::Entries(fields) = &r.field.kind else {
        return Err(Error::invalid(list_path, "not a list of entries"));
    };
    let list =
        schema::get_obj(doc, &r.obj, &r.key).ok_or_else(|| Error::NotFound(list_path.into()))?;
    let (_, obj) =
        schema::find_entry(doc, &list, id).ok_or_else(|| Error::NotFound(entry_path.into()))?;
    Ok((obj, fields))
}

/// Writes fields into the map at `path`: the root, a map field, or an entry.
fn write_at(
    tx: &mut Transaction<'_>,
    path: &str,
    value: &Map<String, Json>,
    allow_action: bool,
) -> Result<()> {
    if path.is_empty() {
        return schema::write_map(tx, &ROOT, CASE, false, value, "", allow_action);
    }
    let r = schema::resolve(tx, path);
    match r {
        Ok(r) if matches!(r.field.kind, Kind::Map(_)) => {
            if r.action_only && !allow_action {
                return Err(Error::invalid(
                    path,
                    "this is changed through its own action",
                ));
            }
            let Kind::Map(fields) = &r.field.kind else {
                unreachable!()
            };
            // A map a later schema revision added was created by the upgrade (`upgrade`).
            let obj =
                schema::get_obj(tx, &r.obj, &r.key).ok_or_else(|| Error::NotFound(path.into()))?;
            schema::write_map(tx, &obj, fields, false, value, path, allow_action)
        }
        _ => {
            let (obj, fields) = resolve_entry(tx, path)?;
            if path.starts_with("closures/") && !allow_action {
                return Err(Error::invalid(
                    path,
                    "closures are changed through their actions",
                ));
            }
            schema::write_map(tx, &obj, fields, true, value, path, allow_action)
        }
    }
}

/// Clears the plan's approval: a new plan, or a new cycle, needs its own. The earlier
/// request and decision go with it (they stay in history, and an approval in the plan's
/// versions); none is left to read as if it were about the new plan.
fn reset_plan_approval(tx: &mut Transaction<'_>) -> Result<()> {
    write_at(
        tx,
        "plan/approval",
        &to_map(&json!({"status": "none"})),
        true,
    )?;
    let r = schema::resolve(tx, "plan/approval")?;
    if let Some(approval) = schema::get_obj(tx, &r.obj, &r.key) {
        for key in [
            "requested_at",
            "requested_by",
            "decided_at",
            "decided_by",
            "comment",
        ] {
            if tx.get(&approval, key)?.is_some() {
                tx.delete(&approval, key)?;
            }
        }
    }
    Ok(())
}

/// Whether the list at `path` exists (a list a later revision added to an entry is absent
/// from entries recorded before it).
fn list_exists(tx: &Transaction<'_>, path: &str) -> bool {
    schema::resolve(tx, path)
        .ok()
        .and_then(|r| schema::get_obj(tx, &r.obj, &r.key))
        .is_some()
}

fn insert_entry(
    tx: &mut Transaction<'_>,
    a: &Author,
    now: i64,
    list_path: &str,
    value: Map<String, Json>,
) -> Result<String> {
    insert_entry_with(tx, a, now, list_path, value, false)
}

fn insert_entry_with(
    tx: &mut Transaction<'_>,
    a: &Author,
    now: i64,
    list_path: &str,
    mut value: Map<String, Json>,
    allow_action: bool,
) -> Result<String> {
    let r = schema::resolve(tx, list_path)?;
    if r.action_only && !allow_action {
        return Err(Error::invalid(
            list_path,
            "entries here are added through their own action",
        ));
    }
    let Kind::Entries(fields) = &r.field.kind else {
        return Err(Error::invalid(list_path, "not a list of entries"));
    };
    // A list a later schema revision added was created by the upgrade (`upgrade`).
    let list =
        schema::get_obj(tx, &r.obj, &r.key).ok_or_else(|| Error::NotFound(list_path.into()))?;
    // Reject unknown or action-only input fields before adding bookkeeping.
    for k in value.keys() {
        let f = schema::find_field(fields, false, k)
            .ok_or_else(|| Error::invalid(path_join(list_path, k), "no such field"))?;
        if f.access == schema::Access::Action && !allow_action {
            return Err(Error::invalid(
                path_join(list_path, k),
                "changed through its own action",
            ));
        }
    }
    let id = new_item_id();
    value.insert("id".into(), json!(id));
    value.insert("recorded_at".into(), json!(rfc3339(now)));
    value.insert("recorded_by".into(), json!(a.user_id));
    let n = tx.length(&list);
    let shape = schema::Shape {
        fields,
        entry: true,
    };
    schema::create_map(tx, &list, Slot::Insert(n), shape, &value, list_path, true)?;
    Ok(id)
}
