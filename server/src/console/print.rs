//! Printable pages from the merged record (issue 17, first slice): seed 004's five forms
//! (Mẫu 1 to Mẫu 5) in Vietnamese, each field in the step the seed gives it, and the
//! closure letter to the family in their language. A4 pages the browser prints (to paper
//! or PDF); the print stylesheet drops the page's own controls.
//!
//! Who may print: whoever may see the case (anyone else gets the answer of a case that
//! does not exist). Every print is recorded in the audit trail with the form's name.
//! What leaves the office on paper: contacts marked not safe to contact, the person who
//! reported the case, and the safety plan and the alleged perpetrator are left out unless
//! the person printing chooses to include them (`?include=restricted`); that choice is in
//! the audit entry as well.
//!
//! The whole case file prints too, in any of the six languages (`file?lang=`): every field
//! that holds a value, in the schema's order, as the record shows it.
//!
//! The referral letter (`referral-letter?referral=<id>&lang=`) goes to the partner in its
//! language with the minimum the service needs: where and why the client is referred, who
//! refers, and the client's name, birth date, gender, languages and contacts that are safe
//! to contact only while the referral shares the client's information under a consent that
//! is still given (said on the letter, with the consent's date).
//!
//! Not yet here (issue 17): attachments.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fieldcase_core::case::{CaseFile, ClosureStatus, Contact};
use fieldcase_core::schema::{self, Field, Kind};
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;
use serde_json::Value as Json;

use super::data::{self, People};
use super::i18n::{Locale, LOCALES};
use super::{now_ms, ConsoleUser};
use crate::error::{AppError, AppResult};
use crate::AppState;

/// The print stylesheet (A4).
pub(crate) async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("print.css"),
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PrintQuery {
    /// `restricted`: include what is left out by default.
    #[serde(default)]
    include: Option<String>,
    /// The letter's language (a console language code).
    #[serde(default)]
    lang: Option<String>,
    /// The referral a referral letter is for.
    #[serde(default)]
    referral: Option<String>,
}

/// The printable pages, by the name in their address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Seed 004, step 1: intake, preliminary risk assessment, immediate safety.
    Mau1,
    /// Step 2: information, verification and risk assessment.
    Mau2,
    /// Step 3: the plan submitted to the commune People's Committee.
    Mau3,
    /// Step 4: monitoring of the plan.
    Mau4,
    /// Step 5: review and risk assessment after the intervention.
    Mau5,
    /// The letter telling the family that the case is closed.
    ClosureLetter,
    /// The letter to the organisation a client is referred to.
    ReferralLetter,
    /// The whole case file.
    File,
}

impl Form {
    fn of(name: &str) -> Option<Form> {
        Some(match name {
            "mau-1" => Form::Mau1,
            "mau-2" => Form::Mau2,
            "mau-3" => Form::Mau3,
            "mau-4" => Form::Mau4,
            "mau-5" => Form::Mau5,
            "closure-letter" => Form::ClosureLetter,
            "referral-letter" => Form::ReferralLetter,
            "file" => Form::File,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Form::Mau1 => "mau-1",
            Form::Mau2 => "mau-2",
            Form::Mau3 => "mau-3",
            Form::Mau4 => "mau-4",
            Form::Mau5 => "mau-5",
            Form::ClosureLetter => "closure-letter",
            Form::ReferralLetter => "referral-letter",
            Form::File => "file",
        }
    }

    /// The form's number and title as seed 004 names the step it belongs to.
    fn title(self) -> (&'static str, &'static str) {
        match self {
            Form::Mau1 => (
                "Mẫu 1",
                "Tiếp nhận thông tin, đánh giá nguy cơ sơ bộ và bảo đảm an toàn tạm thời",
            ),
            Form::Mau2 => ("Mẫu 2", "Thu thập thông tin, xác minh và đánh giá nguy cơ"),
            Form::Mau3 => ("Mẫu 3", "Kế hoạch can thiệp, trợ giúp"),
            Form::Mau4 => (
                "Mẫu 4",
                "Theo dõi, giám sát tình hình và kết quả thực hiện kế hoạch can thiệp, trợ giúp",
            ),
            Form::Mau5 => ("Mẫu 5", "Rà soát, đánh giá nguy cơ sau can thiệp, trợ giúp"),
            Form::ClosureLetter | Form::ReferralLetter | Form::File => ("", ""),
        }
    }
}

/// `GET /console/cases/{id}/export.json`: the whole case as JSON, for a client's own
/// record (a data-subject request, issue 18) with the print of the whole file: supervisors
/// and admins who see the case; audited.
pub(crate) async fn export_json(
    State(state): State<Arc<AppState>>,
    u: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        if !u.user().role.has_authority() {
            // A case the worker cannot see stays a 404.
            data::one_case(&state, &u, &id, "read (console)").await?;
            return Err(AppError::Forbidden);
        }
        let case = data::one_case(&state, &u, &id, "exported as JSON (console)").await?;
        let body = serde_json::to_string_pretty(&case.doc.to_json())
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok::<_, AppError>((case.access.id, body))
    }
    .await;
    match result {
        Ok((id, body)) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/json; charset=utf-8".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"fieldcase-case-{id}.json\""),
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => u.error(e),
    }
}

/// `GET /console/cases/{id}/print/{form}`.
pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    u: ConsoleUser,
    Path((id, form)): Path<(String, String)>,
    Query(q): Query<PrintQuery>,
) -> Response {
    match render(&state, &u, &id, &form, &q).await {
        Ok(html) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html.into_string(),
        )
            .into_response(),
        Err(e) => u.error(e),
    }
}

async fn render(
    state: &Arc<AppState>,
    u: &ConsoleUser,
    id: &str,
    form: &str,
    q: &PrintQuery,
) -> AppResult<Markup> {
    let form = Form::of(form).ok_or(AppError::NotFound)?;
    let case = data::one_case(state, u, id, "read (console)").await?;
    let include = match q.include.as_deref() {
        None | Some("") => false,
        Some("restricted") => true,
        Some(_) => return Err(AppError::BadRequest("include: only `restricted`".into())),
    };
    let f = &case.file;
    let people = People::load(state).await?;
    let letter_lang = match form {
        Form::ClosureLetter => Some(letter_locale(f, q.lang.as_deref(), u.locale)?),
        Form::File | Form::ReferralLetter => {
            Some(match q.lang.as_deref().filter(|c| !c.is_empty()) {
                Some(_) => letter_locale(f, q.lang.as_deref(), u.locale)?,
                None => u.locale,
            })
        }
        _ => None,
    };
    let referral = match form {
        Form::ReferralLetter => Some(
            f.referrals
                .iter()
                .find(|r| Some(r.id.as_str()) == q.referral.as_deref() && r.retracted.is_none())
                .ok_or_else(|| {
                    AppError::BadRequest("referral: name one of the case's referrals".into())
                })?,
        ),
        _ => None,
    };
    if form == Form::ClosureLetter && decided_closure(f).is_none() {
        return Err(AppError::invalid(
            crate::error::Problem::ClosureNotApproved,
            "the case has no closure approved by a supervisor: there is no letter to print",
        ));
    }
    // On the record before anything is shown.
    let (db, who, case_id) = (state.db.clone(), u.user().id.clone(), case.access.id);
    let device = u.session.device_id.clone();
    let what = format!(
        "printed {}{} (console)",
        form.name(),
        if include {
            " with restricted details"
        } else {
            ""
        }
    );
    super::blocking(move || db.audit(&who, &device, &case_id, &what, now_ms())).await?;
    tracing::info!(case = %case_id, user = %u.user().id, form = form.name(), include, "case printed");
    let printed_by = u.user().display_name.clone();
    let cx = Print {
        f,
        people: &people,
        include,
        printed_by,
        id: case.access.id.to_string(),
    };
    Ok(match (form, letter_lang) {
        (Form::File, Some(l)) => cx.whole_file(l, &case.doc.to_json()),
        (Form::ReferralLetter, Some(l)) => cx.referral_letter(l, referral.expect("found above")),
        (_, Some(l)) => cx.closure_letter(l),
        _ => cx.form(form),
    })
}

/// The letter's language: the one asked for, else the client's first language the
/// console speaks, else the reader's.
fn letter_locale(
    f: &CaseFile,
    asked: Option<&str>,
    reader: &'static Locale,
) -> AppResult<&'static Locale> {
    if let Some(code) = asked.filter(|c| !c.is_empty()) {
        return LOCALES.iter().find(|l| l.code == code).ok_or_else(|| {
            AppError::invalid(
                crate::error::Problem::NoSuchLanguage,
                format!("lang: no language `{code}`"),
            )
        });
    }
    Ok(f.client
        .languages
        .iter()
        .find_map(|c| LOCALES.iter().find(|l| l.code == c.as_str()))
        .unwrap_or(reader))
}

/// The latest closure a supervisor approved and nobody reopened.
fn decided_closure(f: &CaseFile) -> Option<&fieldcase_core::case::Closure> {
    f.closures
        .iter()
        .filter(|c| c.retracted.is_none() && c.status == Some(ClosureStatus::Approved))
        .filter(|c| c.reopened_at.is_none())
        .max_by(|a, b| a.decided_at.cmp(&b.decided_at))
}

struct Print<'a> {
    f: &'a CaseFile,
    people: &'a People,
    include: bool,
    printed_by: String,
    id: String,
}

impl Print<'_> {
    /// The page around a form or letter.
    fn page(&self, l: &Locale, title: &str, body: Markup) -> Markup {
        let today = chrono::Utc::now().date_naive().to_string();
        html! {
            (DOCTYPE)
            html lang=(l.code) dir=(l.dir()) {
                head {
                    meta charset="utf-8";
                    title { (title) }
                    link rel="stylesheet" href="/console/static/print.css";
                }
                body {
                    main.sheet {
                        (body)
                        footer.printed {
                            (l.t("print-printed")) " " time datetime=(today) { (l.date(&today)) }
                            " · " bdi { (self.printed_by) } " · " code { (self.id) }
                            @if self.include { " · " (l.t("print-with-restricted")) }
                        }
                    }
                }
            }
        }
    }

    fn name_of(&self, user_id: &Option<String>) -> String {
        user_id
            .as_deref()
            .map(|u| self.people.name(u))
            .unwrap_or_default()
    }

    fn form(&self, form: Form) -> Markup {
        let vi = Locale::get("vi");
        let (number, title) = form.title();
        let f = self.f;
        let body = html! {
            header.form-head {
                p.number { (number) }
                h1 { (title) }
            }
            section {
                h2 { "Thông tin về trẻ em" }
                dl {
                    (row(vi.t("f-name"), html! { bdi { (f.client.name.clone().unwrap_or_default()) } }))
                    (row(vi.t("f-date-of-birth"), date(vi, &f.client.date_of_birth)))
                    (row(vi.t("f-gender"), code(vi, "gender", f.client.gender.as_deref())))
                    (row(vi.t("f-address"), text(&f.client.address)))
                }
            }
            @match form {
                Form::Mau1 => (self.mau1(vi)),
                Form::Mau2 => (self.mau2(vi)),
                Form::Mau3 => (self.mau3(vi)),
                Form::Mau4 => (self.mau4(vi)),
                Form::Mau5 => (self.mau5(vi)),
                Form::ClosureLetter | Form::ReferralLetter | Form::File => {},
            }
            section.signatures {
                div { p { "Người lập" } p.sign { bdi { (self.name_of(&f.case_manager)) } } }
                @if form == Form::Mau3 {
                    div { p { "Ủy ban nhân dân cấp xã" } p.sign {} }
                }
            }
        };
        self.page(vi, &format!("{number} · {title}"), body)
    }

    /// Step 1 (seed 004): the report recorded, its verification, the preliminary risk
    /// assessment, the immediate safety measures of an emergency.
    fn mau1(&self, vi: &Locale) -> Markup {
        let i = &self.f.intake;
        html! {
            section {
                h2 { "Ghi chép thông tin về vụ việc" }
                dl {
                    (row(vi.t("f-date"), date(vi, &i.date)))
                    (row(vi.t("f-source"), code(vi, "source", i.source.as_deref())))
                    @if self.include {
                        (row(vi.t("f-reporter"), text(&i.reporter_name)))
                        (row(vi.t("f-reporter-contact"), text(&i.reporter_contact)))
                    }
                    (row(vi.t("f-reason"), long(&i.reason)))
                    (row(vi.t("f-presenting-problems"), list(&i.presenting_problems)))
                }
            }
            section {
                h2 { "Đánh giá nguy cơ sơ bộ" }
                dl {
                    (row(vi.t("f-urgency"), code(vi, "urgency", i.urgency.as_deref())))
                    (row("Khẩn cấp".into(), yes_no(vi, i.emergency)))
                    (row(vi.t("f-conclusion"), code(vi, "finding", i.preliminary_finding.map(|x| x.code()))))
                }
            }
            section {
                h2 { "Biện pháp bảo đảm an toàn tạm thời" }
                dl {
                    (row(vi.t("f-safety-measures"), long(&i.safety_measures)))
                    (row(vi.t("f-date"), date(vi, &i.safety_secured_at.as_ref().map(|t| t.chars().take(10).collect()))))
                    (row("Người thực hiện".into(), html! { bdi { (self.name_of(&i.safety_secured_by)) } }))
                }
            }
            section {
                h2 { "Quyết định tiếp nhận" }
                dl {
                    (row(vi.t("f-decision"), code(vi, "intake-decision", i.decision.map(|d| d.code()))))
                    (row(vi.t("f-reason"), text(&i.decision_reason)))
                    (row(vi.t("f-organisation"), text(&i.referred_to)))
                }
            }
        }
    }

    /// Step 2: the child's living situation and relationships, the specific risk
    /// assessment (problems and needs), evidence; the alleged perpetrator only when chosen.
    fn mau2(&self, vi: &Locale) -> Markup {
        let f = self.f;
        let s = &f.safety;
        html! {
            section {
                h2 { "Mối quan hệ của trẻ với các thành viên trong gia đình" }
                table {
                    thead { tr { th { (vi.t("f-name")) } th { (vi.t("f-relationship")) } th { (vi.t("f-lives-with-client")) } } }
                    tbody {
                        @for m in f.client.household.iter().filter(|m| m.retracted.is_none()) {
                            tr { td { bdi { (m.name.clone().unwrap_or_default()) } } td { bdi { (m.relationship.clone().unwrap_or_default()) } } td { (yes_no(vi, m.lives_with_client)) } }
                        }
                    }
                }
            }
            @if self.include {
                section {
                    h2 { "Mối quan hệ của trẻ với đối tượng xâm hại" }
                    dl {
                        (row(vi.t("f-relationship"), text(&s.perpetrator_relationship)))
                        (row(vi.t("f-lives-with-client"), yes_no(vi, s.perpetrator_lives_with_client)))
                        (row("Lệnh bảo vệ".into(), code(vi, "protection-order", s.protection_order.map(|p| p.code()))))
                    }
                }
            }
            @for a in f.assessments.iter().filter(|a| a.retracted.is_none()) {
                section {
                    h2 { "Đánh giá nguy cơ cụ thể" " · " (date(vi, &a.date)) }
                    dl {
                        (row(vi.t("f-conclusion"), code(vi, "finding", a.risk.finding.map(|x| x.code()))))
                        (row("Bước tiếp theo".into(), code(vi, "next-step", a.risk.next_step.map(|x| x.code()))))
                        (row(vi.t("f-due-date"), date(vi, &a.risk.next_step_due)))
                        (row(vi.t("f-summary"), long(&a.summary)))
                        (row(vi.t("f-capability"), long(&a.capability)))
                        (row("Nguồn thông tin".into(), list(&a.sources)))
                    }
                    table {
                        thead { tr { th { "Lĩnh vực" } th { (vi.t("f-needs")) } th { (vi.t("f-strengths")) } } }
                        tbody {
                            @for (domain, d) in &a.domains {
                                tr { td { (vi.code("domain", domain)) } td { (long(&d.needs)) } td { (long(&d.strengths)) } }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Step 3: problems in order of priority, the need, the goal, the measures and
    /// resources, who is responsible; the decision of the commune People's Committee.
    fn mau3(&self, vi: &Locale) -> Markup {
        let f = self.f;
        let mut problems: Vec<_> = f
            .plan
            .problems
            .iter()
            .filter(|p| p.retracted.is_none())
            .collect();
        problems.sort_by_key(|p| p.priority.unwrap_or(i64::MAX));
        let approved = f.approved_plan();
        html! {
            section {
                h2 { "Các vấn đề cần giải quyết, theo thứ tự ưu tiên" }
                table.plan {
                    thead { tr { th { "#" } th { (vi.t("f-description")) } th { (vi.t("f-need")) } th { (vi.t("f-goal")) } th { "Biện pháp can thiệp, trợ giúp" } th { "Nguồn lực" } th { (vi.t("f-responsible")) } th { (vi.t("f-target-date")) } } }
                    tbody {
                        @for (n, p) in problems.iter().enumerate() {
                            @let acts: Vec<_> = p.activities.iter().filter(|a| a.retracted.is_none()).collect();
                            tr {
                                td { (vi.number(n as i64 + 1)) }
                                td { (long(&p.description)) }
                                td { (text(&p.need)) }
                                td { (text(&p.goal)) }
                                td { @for a in &acts { p { bdi { (a.description.clone().unwrap_or_default()) } } } }
                                td { @for a in &acts { p { bdi { (a.resources.clone().unwrap_or_default()) } } } }
                                td { @for a in &acts { p { bdi { (responsible(a)) } } } }
                                td { (date(vi, &p.target_date)) }
                            }
                        }
                    }
                }
            }
            section {
                h2 { "Thông qua kế hoạch" }
                dl {
                    @if let Some(v) = approved {
                        (row("Phiên bản".into(), html! { (vi.number(v.number.unwrap_or(0))) }))
                        (row("Cơ quan thông qua".into(), text(&v.authority)))
                        (row("Số quyết định".into(), text(&v.decision_number)))
                        (row("Ngày quyết định".into(), date(vi, &v.decision_date)))
                    } @else {
                        (row("Phiên bản".into(), html! { "Chưa được thông qua" }))
                    }
                    (row(vi.t("f-family-agreed"), yes_no(vi, f.plan.family_agreement.agreed)))
                }
            }
        }
    }

    /// Step 4: how the plan's activities stand, the visits and what they found, the
    /// referrals to other services.
    fn mau4(&self, vi: &Locale) -> Markup {
        let f = self.f;
        let mut visits: Vec<_> = f.visits.iter().filter(|v| v.retracted.is_none()).collect();
        visits.sort_by(|a, b| a.date.cmp(&b.date));
        html! {
            section {
                h2 { "Tình hình thực hiện các hoạt động" }
                table {
                    thead { tr { th { (vi.t("f-activity")) } th { (vi.t("f-responsible")) } th { (vi.t("f-due-date")) } th { (vi.t("f-status")) } } }
                    tbody {
                        @for p in f.plan.problems.iter().filter(|p| p.retracted.is_none()) {
                            @for a in p.activities.iter().filter(|a| a.retracted.is_none()) {
                                tr {
                                    td { bdi { (a.description.clone().unwrap_or_default()) } }
                                    td { bdi { (responsible(a)) } }
                                    td { (date(vi, &a.due_date)) }
                                    td { (code(vi, "activity", a.status.map(|s| s.code()))) }
                                }
                            }
                        }
                    }
                }
            }
            section {
                h2 { "Theo dõi, giám sát" }
                table {
                    thead { tr { th { (vi.t("f-date")) } th { (vi.t("f-kind")) } th { (vi.t("f-participants")) } th { (vi.t("f-note")) } } }
                    tbody {
                        @for v in &visits {
                            tr {
                                td { (date(vi, &v.date)) }
                                td { (code(vi, "visit", v.kind.as_deref())) }
                                td { (list(&v.participants)) }
                                td { (long(&v.note)) }
                            }
                        }
                    }
                }
            }
            section {
                h2 { "Kết nối với các dịch vụ" }
                table {
                    thead { tr { th { (vi.t("f-date")) } th { (vi.t("f-organisation")) } th { (vi.t("f-service")) } th { (vi.t("f-status")) } th { (vi.t("f-outcome")) } } }
                    tbody {
                        @for r in f.referrals.iter().filter(|r| r.retracted.is_none()) {
                            tr {
                                td { (date(vi, &r.date)) }
                                td { (text(&r.organisation)) }
                                td { (text(&r.service)) }
                                td { (code(vi, "referral", r.status.map(|s| s.code()))) }
                                td { (text(&r.outcome)) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Step 5: the review after the intervention: progress per goal, new risk factors and
    /// supports, the opinions of the child or family and of the specialists, the decision.
    fn mau5(&self, vi: &Locale) -> Markup {
        let f = self.f;
        let goal_of = |id: &Option<String>| {
            f.plan
                .problems
                .iter()
                .find(|p| Some(&p.id) == id.as_ref())
                .and_then(|p| p.goal.clone().or_else(|| Some(p.description.clone())))
                .unwrap_or_default()
        };
        html! {
            @for r in f.reviews.iter().filter(|r| r.retracted.is_none()) {
                section {
                    h2 { "Rà soát, đánh giá" " · " (date(vi, &r.date)) }
                    table {
                        thead { tr { th { (vi.t("f-goal")) } th { (vi.t("f-status")) } th { (vi.t("f-note")) } } }
                        tbody {
                            @for g in &r.progress {
                                tr { td { bdi { (goal_of(&g.problem_id)) } } td { (code(vi, "problem", g.status.as_deref())) } td { (text(&g.note)) } }
                            }
                        }
                    }
                    dl {
                        (row("Yếu tố nguy cơ mới".into(), text(&r.new_risk_factors)))
                        (row("Nguồn hỗ trợ mới".into(), text(&r.new_supports)))
                        (row("Ý kiến của trẻ và gia đình".into(), text(&r.client_opinion)))
                        (row("Ý kiến của các ngành liên quan".into(), text(&r.specialist_opinions)))
                        (row(vi.t("f-conclusion"), code(vi, "finding", r.risk.finding.map(|x| x.code()))))
                        (row(vi.t("f-decision"), code(vi, "decision", r.decision.as_deref())))
                    }
                }
            }
        }
    }

    /// The letter to the family: the case is closed, when and why, that they may come
    /// back, who signs. The contacts it may be sent to are those safe to contact.
    fn closure_letter(&self, l: &'static Locale) -> Markup {
        let f = self.f;
        let closure = decided_closure(f).expect("checked before");
        let decided = closure
            .decided_at
            .as_deref()
            .map(|t| t.chars().take(10).collect::<String>())
            .unwrap_or_default();
        let name = f.client.name.clone().unwrap_or_default();
        let reason = closure
            .reason
            .as_deref()
            .map(|r| l.code("closure-reason", r))
            .unwrap_or_default();
        let contacts: Vec<&Contact> = f
            .client
            .contacts
            .iter()
            .filter(|c| c.retracted.is_none())
            .filter(|c| self.include || c.safe_to_contact != Some(false))
            .collect();
        let body = html! {
            header.form-head { h1 { (l.t("letter-closure-title")) } }
            p { (l.ta("letter-closure-greeting", &[("name", name.as_str().into())])) }
            p {
                (l.ta("letter-closure-body", &[("date", l.date(&decided).into())]))
            }
            @if !reason.is_empty() { p { (l.t("letter-closure-reason")) " " (reason) } }
            @if !closure.outcome.trim().is_empty() { p.note dir="auto" { (closure.outcome) } }
            p { (l.t("letter-closure-again")) }
            section.signatures {
                div { p { (l.t("f-case-manager")) } p.sign { bdi { (self.name_of(&f.case_manager)) } } }
            }
            @if !contacts.is_empty() {
                section.address {
                    h2 { (l.t("letter-closure-to")) }
                    ul { @for c in contacts { li { bdi { (c.value.clone().unwrap_or_default()) } } } }
                }
            }
        };
        self.page(l, &l.t("letter-closure-title"), body)
    }
}

impl Print<'_> {
    /// The letter to the organisation the client is referred to, in its language: the
    /// minimum the service needs (see the module's doc).
    fn referral_letter(&self, l: &'static Locale, r: &fieldcase_core::case::Referral) -> Markup {
        let f = self.f;
        let consent = (r.shares_information == Some(true)
            && r.consent_problem(&f.consents).is_none())
        .then(|| {
            f.consents
                .iter()
                .find(|c| Some(&c.id) == r.consent_id.as_ref())
        })
        .flatten();
        let contacts: Vec<&Contact> = f
            .client
            .contacts
            .iter()
            .filter(|c| c.retracted.is_none() && c.safe_to_contact == Some(true))
            .collect();
        let languages: Vec<String> = f
            .client
            .languages
            .iter()
            .map(|c| super::partner::language_name(c))
            .collect();
        let body = html! {
            header.form-head { h1 { (l.t("letter-referral-title")) } }
            dl {
                (row(l.t("letter-referral-to"), html! { bdi { (r.organisation.clone().unwrap_or_default()) } }))
                (row(l.t("f-service"), text(&r.service)))
                (row(l.t("f-date"), date(l, &r.date)))
                (row(l.t("domain"), code(l, "domain", r.domain.as_deref())))
                (row(l.t("f-reason"), text(&r.reason)))
            }
            p { (l.t("letter-referral-intro")) }
            @if let Some(c) = consent {
                section {
                    h2 { (l.t("partner-client")) }
                    dl {
                        (row(l.t("f-name"), html! { bdi { (f.client.name.clone().unwrap_or_default()) } }))
                        (row(l.t("f-date-of-birth"), date(l, &f.client.date_of_birth)))
                        (row(l.t("f-gender"), code(l, "gender", f.client.gender.as_deref())))
                        (row(l.t("f-languages"), html! { (languages.join(", ")) }))
                        @for c in &contacts { (row(l.code("contact", c.kind.as_deref().unwrap_or("other")), html! { bdi { (c.value.clone().unwrap_or_default()) } })) }
                    }
                    p { (l.ta("letter-referral-consent", &[("date", l.date(c.date.as_deref().unwrap_or_default()).into())])) }
                }
            } @else {
                p { (l.t("partner-not-shared")) }
            }
            p { (l.t("letter-referral-reply")) }
            section.signatures {
                div { p { (l.t("f-case-manager")) } p.sign { bdi { (self.name_of(&f.case_manager)) } } }
            }
        };
        self.page(l, &l.t("letter-referral-title"), body)
    }

    /// The whole case file in `l`: every field holding a value, section by section in the
    /// schema's order, each value as the record shows it.
    fn whole_file(&self, l: &'static Locale, json: &Json) -> Markup {
        let name = self.f.client.name.clone().unwrap_or_default();
        let body = html! {
            header.form-head { h1 { bdi { (name) } } }
            @for field in schema::CASE {
                @if let Some(section) = self.section(l, field, json.get(field.name), field.name) {
                    (section)
                }
            }
        };
        self.page(l, &name, body)
    }

    /// Whether a path stays off paper unless chosen: the safety section (the alleged
    /// perpetrator, the safety plan), the person who reported the case.
    fn left_out(&self, path: &str) -> bool {
        !self.include
            && (path == "safety"
                || path == "intake/reporter_name"
                || path == "intake/reporter_contact")
    }

    /// A top-level field: a section of its own (maps and lists of entries) or a row of the
    /// case's own fields; `None` when it holds nothing to print.
    fn section(
        &self,
        l: &'static Locale,
        field: &'static Field,
        v: Option<&Json>,
        path: &str,
    ) -> Option<Markup> {
        if matches!(field.name, "schema" | "actors") || self.left_out(path) {
            return None;
        }
        let v = v.filter(|v| !empty(v))?;
        let inner = self.value(l, field, v, path)?;
        Some(match field.kind {
            Kind::Map(_) | Kind::Entries(_) | Kind::Dict(_) => html! {
                section { h2 { (l.code("section", field.name)) } (inner) }
            },
            _ => html! { dl { (inner) } },
        })
    }

    /// A field's value at `path`: rows for a map, a block per entry of a list (retracted
    /// ones and contacts not safe to contact left out), a row for a scalar.
    fn value(
        &self,
        l: &'static Locale,
        field: &'static Field,
        v: &Json,
        path: &str,
    ) -> Option<Markup> {
        if self.left_out(path) || empty(v) {
            return None;
        }
        if matches!(
            field.name,
            "id" | "actor"
                | "actors"
                | "user_id"
                | "device_id"
                | "content"
                | "consent_id"
                | "problem_id"
                | "retracted"
                | "schema"
        ) && path.contains('/')
        {
            return None;
        }
        let label = label(l, field.name);
        match (&field.kind, v) {
            (Kind::Map(sub), Json::Object(m)) => {
                let rows: Vec<Markup> = sub
                    .iter()
                    .filter_map(|f| {
                        m.get(f.name)
                            .and_then(|x| self.value(l, f, x, &format!("{path}/{}", f.name)))
                    })
                    .collect();
                (!rows.is_empty()).then(|| html! { dl { @for r in rows { (r) } } })
            }
            (Kind::Entries(sub), Json::Array(items)) => {
                let blocks: Vec<Markup> = items
                    .iter()
                    .filter_map(|e| e.as_object())
                    .filter(|e| e.get("retracted").is_none_or(empty))
                    .filter(|e| {
                        self.include
                            || path != "client/contacts"
                            || e.get("safe_to_contact") != Some(&Json::Bool(false))
                    })
                    .filter_map(|e| {
                        let id = e.get("id").and_then(Json::as_str).unwrap_or_default();
                        let rows: Vec<Markup> = sub
                            .iter()
                            .filter_map(|f| {
                                e.get(f.name).and_then(|x| {
                                    self.value(l, f, x, &format!("{path}/{id}/{}", f.name))
                                })
                            })
                            .collect();
                        (!rows.is_empty())
                            .then(|| html! { div.entry { dl { @for r in rows { (r) } } } })
                    })
                    .collect();
                (!blocks.is_empty()).then(|| {
                    html! {
                        @if path.contains('/') { h3 { (label) } }
                        @for b in blocks { (b) }
                    }
                })
            }
            (Kind::Dict(Kind::Map(sub)), Json::Object(m)) => {
                let blocks: Vec<Markup> = m
                    .iter()
                    .filter_map(|(key, x)| {
                        let Json::Object(inner) = x else { return None };
                        let rows: Vec<Markup> = sub
                            .iter()
                            .filter_map(|f| inner.get(f.name).and_then(|y| self.value(l, f, y, &format!("{path}/{key}/{}", f.name))))
                            .collect();
                        (!rows.is_empty()).then(|| html! { div.entry { h4 { (l.code("domain", key)) } dl { @for r in rows { (r) } } } })
                    })
                    .collect();
                (!blocks.is_empty()).then(|| html! { h3 { (label) } @for b in blocks { (b) } })
            }
            (Kind::Map(_) | Kind::Entries(_) | Kind::Dict(_), _) => None,
            _ => Some(row(label, person_or_value(self, l, field, path, v))),
        }
    }
}

/// A field's name in `l`: its field label, else the word the console has for it (a
/// section, a life domain).
fn label(l: &Locale, name: &str) -> String {
    let word = match name {
        "reporter_name" => "reporter",
        "birth_date_approximate" => "birth-approximate",
        "duration_minutes" => "duration",
        "next_step_done_on" => "next-step-done",
        other => other,
    }
    .replace('_', "-");
    [
        format!("f-{word}"),
        word.clone(),
        format!("section-{word}"),
        format!("domain-{word}"),
    ]
    .into_iter()
    .find(|id| l.has(id))
    .map(|id| l.t(&id))
    .unwrap_or(word)
}

/// A stored value as the record shows it; the fields naming a user show the user's name.
fn person_or_value(cx: &Print<'_>, l: &Locale, field: &Field, path: &str, v: &Json) -> Markup {
    let names_a_user = matches!(
        field.name,
        "created_by"
            | "recorded_by"
            | "requested_by"
            | "decided_by"
            | "reopened_by"
            | "safety_secured_by"
            | "case_manager"
            | "by"
    );
    match v {
        Json::String(u) if names_a_user => html! { bdi { (cx.people.name(u)) } },
        Json::Array(items) if field.name == "assigned" => html! {
            @for (i, u) in items.iter().filter_map(Json::as_str).enumerate() {
                @if i > 0 { ", " } bdi { (cx.people.name(u)) }
            }
        },
        _ => super::record::shown_value(l, path, v),
    }
}

/// A value with nothing to print: null, an empty text, list or map.
fn empty(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(s) => s.trim().is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(m) => m.values().all(empty),
        _ => false,
    }
}

fn row(label: String, value: Markup) -> Markup {
    html! { div.row { dt { (label) } dd { (value) } } }
}

fn text(v: &Option<String>) -> Markup {
    html! { @if let Some(s) = v { bdi { (s) } } }
}

fn long(v: &str) -> Markup {
    html! { span.note dir="auto" { (v) } }
}

fn list(v: &[String]) -> Markup {
    html! { @for (i, x) in v.iter().enumerate() { @if i > 0 { ", " } bdi { (x) } } }
}

fn date(l: &Locale, v: &Option<String>) -> Markup {
    html! { @if let Some(d) = v { time datetime=(d) { (l.date(d)) } } }
}

fn code(l: &Locale, prefix: &str, v: Option<&str>) -> Markup {
    html! { @if let Some(c) = v { (l.code(prefix, c)) } }
}

fn yes_no(l: &Locale, v: Option<bool>) -> Markup {
    html! { @match v { Some(true) => (l.t("yes")), Some(false) => (l.t("no")), None => "" } }
}

/// Who is responsible for an activity: the person, and their organisation.
fn responsible(a: &fieldcase_core::case::Activity) -> String {
    let r = &a.responsible;
    match (&r.name, &r.organisation) {
        (Some(n), Some(o)) => format!("{n} ({o})"),
        (Some(n), None) => n.clone(),
        (None, Some(o)) => o.clone(),
        (None, None) => String::new(),
    }
}
