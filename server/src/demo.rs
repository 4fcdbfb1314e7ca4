//! The demo caseload for `fieldcase-server serve --demo`: a team with a supervisor, two
//! workers and an admin, and a dozen cases written in our users' languages, of every kind,
//! at different stages: a child-protection conclusion of each kind (one whose investigation
//! is overdue), emergencies secured and one still open, an intake screened out and closed
//! without a plan, a veteran's case transferred and closed with the client told, and an
//! approved plan changed since, its draft waiting for approval. Passwords are new random ones at every start, printed once.

use automerge::ActorId;
use fieldcase_core::case::*;
use fieldcase_core::{Author, CaseDoc, CaseId, NewCase, Role, Stage};
use serde_json::json;

use crate::db::{CaseAccess, Db};
use crate::error::AppResult;

/// A demo account and its fresh password.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: String,
    pub role: Role,
    pub password: String,
}

const TEAM: &str = "demo-team";

/// What else a demo case shows of the case process.
#[derive(Clone, Copy)]
enum Story {
    None,
    /// The intake is screened out (the reason) and the case closed without a plan.
    ScreenedOut(&'static str),
    /// The case is transferred to another agency (named) and closed, the client told.
    Transferred(&'static str),
}

struct Client {
    name: &'static str,
    latin: Option<&'static str>,
    reason: &'static str,
    kind: CaseKind,
    /// The conclusion of a child-protection assessment.
    finding: Option<Finding>,
    emergency: bool,
    stage: Stage,
    restricted: bool,
    story: Story,
    /// The immediate safety measures of an emergency; `None` leaves it open (the
    /// dashboard shows it until they are recorded).
    safety: Option<&'static str>,
}

const CLIENTS: &[Client] = &[
    Client {
        name: "สมศรี ใจดี",
        latin: Some("Somsri Jaidee"),
        reason: "ครูรายงานว่าเด็กขาดเรียนบ่อยและมีรอยฟกช้ำ",
        kind: CaseKind::ChildProtection,
        finding: Some(Finding::EvidenceOfAbuse),
        emergency: true,
        stage: Stage::Assessment,
        restricted: true,
        story: Story::None,
        safety: Some("ย้ายเด็กไปอยู่กับยายชั่วคราว"),
    },
    Client {
        name: "ครอบครัวแก้วมณี",
        latin: None,
        reason: "ครอบครัวต้องการความช่วยเหลือด้านที่อยู่อาศัยหลังน้ำท่วม",
        kind: CaseKind::FamilyInDifficulty,
        finding: None,
        emergency: false,
        stage: Stage::Implementation,
        restricted: false,
        story: Story::None,
        safety: None,
    },
    Client {
        name: "زهرا احمدی",
        latin: Some("Zahra Ahmadi"),
        reason: "همسایه گزارش داد که زن و کودکانش در خطر خشونت خانگی هستند",
        kind: CaseKind::ViolenceAgainstWomen,
        finding: None,
        emergency: true,
        stage: Stage::Planning,
        restricted: true,
        story: Story::None,
        safety: Some("انتقال به خانه امن"),
    },
    Client {
        name: "خانواده رضایی",
        latin: None,
        reason: "پدر خانواده بیکار شده و اجاره خانه پرداخت نشده است",
        kind: CaseKind::FamilyInDifficulty,
        finding: None,
        emergency: false,
        stage: Stage::Intake,
        restricted: false,
        story: Story::ScreenedOut("فقط یک مشکل؛ خانواده خودش می‌تواند به اداره کار مراجعه کند"),
        safety: None,
    },
    Client {
        name: "Фёдорова Анна Петровна",
        latin: Some("Fedorova Anna"),
        reason: "Семья в трудной жизненной ситуации: мать одна воспитывает троих детей",
        kind: CaseKind::FamilyInDifficulty,
        finding: None,
        emergency: false,
        stage: Stage::Monitoring,
        restricted: false,
        story: Story::None,
        safety: None,
    },
    Client {
        name: "Смирнов Игорь",
        latin: None,
        reason: "Ветеран, нуждается в реабилитации и жилье",
        kind: CaseKind::Veteran,
        finding: None,
        emergency: false,
        stage: Stage::Implementation,
        restricted: false,
        story: Story::Transferred("Областной центр реабилитации ветеранов"),
        safety: None,
    },
    Client {
        name: "Олександр Коваленко",
        latin: Some("Oleksandr Kovalenko"),
        reason: "Внутрішньо переміщена особа, потребує житла та роботи",
        kind: CaseKind::InternallyDisplaced,
        finding: None,
        emergency: false,
        stage: Stage::Implementation,
        restricted: false,
        story: Story::None,
        safety: None,
    },
    Client {
        name: "Марія Шевченко",
        latin: None,
        reason: "Дитина з інвалідністю потребує підтримки та навчання вдома",
        kind: CaseKind::Disability,
        finding: None,
        emergency: false,
        stage: Stage::Assessment,
        restricted: false,
        story: Story::None,
        safety: None,
    },
    Client {
        name: "Nguyễn Thị Lan",
        latin: Some("Nguyen Thi Lan"),
        reason: "Trẻ em có hoàn cảnh đặc biệt: mồ côi cha, mẹ đi làm xa",
        kind: CaseKind::ChildProtection,
        finding: Some(Finding::InsufficientInformation),
        emergency: false,
        stage: Stage::Assessment,
        restricted: false,
        story: Story::None,
        safety: None,
    },
    Client {
        name: "Trần Văn Hùng",
        latin: None,
        reason: "Người khuyết tật cần hỗ trợ sinh kế theo Thông tư 01/2015",
        kind: CaseKind::Disability,
        finding: None,
        emergency: false,
        stage: Stage::Monitoring,
        restricted: false,
        story: Story::None,
        safety: None,
    },
    Client {
        name: "Lê Thị Hoa",
        latin: None,
        reason: "Nạn nhân bạo lực gia đình, cần nơi tạm lánh an toàn",
        kind: CaseKind::ViolenceAgainstWomen,
        finding: None,
        emergency: true,
        stage: Stage::Implementation,
        restricted: true,
        story: Story::None,
        safety: Some("Đã đưa đến nhà tạm lánh của Hội Phụ nữ xã"),
    },
    Client {
        name: "Phạm Minh Tuấn",
        latin: None,
        reason: "Trẻ lang thang, cần đưa về gia đình và đi học lại",
        kind: CaseKind::ChildProtection,
        finding: Some(Finding::OtherFamilyProblems),
        emergency: true,
        stage: Stage::Intake,
        restricted: false,
        story: Story::None,
        safety: None,
    },
];

fn password() -> String {
    let (t, _) = crate::auth::new_token();
    format!("demo-{}", &t[..16])
}

/// Creates (or refreshes) the demo accounts and, on first run, the demo cases.
pub fn seed(db: &dyn Db, iterations: u32) -> AppResult<Vec<DemoAccount>> {
    if !db.teams()?.iter().any(|t| t.name == TEAM) {
        db.add_team(TEAM)?;
    }
    let plan = [
        ("supervisor", "Supervisor Malee", Role::Supervisor),
        ("worker1", "Anna Petrenko", Role::Worker),
        ("worker2", "Lê Văn Bảo", Role::Worker),
        ("admin", "Administrator", Role::Admin),
    ];
    let mut accounts = Vec::new();
    for (username, name, role) in plan {
        let pw = password();
        match db.user_by_username(username)? {
            Some(_) => db.set_password(username, &pw, iterations)?,
            None => {
                let team = if role == Role::Admin {
                    None
                } else {
                    Some(TEAM)
                };
                db.add_user(username, name, role, team, &pw, iterations)?;
            }
        }
        accounts.push(DemoAccount {
            username: username.into(),
            role,
            password: pw,
        });
    }
    if db.cases()?.is_empty() {
        seed_cases(db)?;
    }
    Ok(accounts)
}

fn seed_cases(db: &dyn Db) -> AppResult<()> {
    let sup = db.user_by_username("supervisor")?.expect("seeded");
    let workers = [
        db.user_by_username("worker1")?.expect("seeded"),
        db.user_by_username("worker2")?.expect("seeded"),
    ];
    let mut authors = Vec::new();
    for w in workers.iter().chain([&sup]) {
        let actor = ActorId::random();
        let device = db.register_device(w, None, "demo data", &actor.to_hex_string())?;
        authors.push((Author::new(&w.id, &w.display_name, w.role, &device), actor));
    }
    let (supervisor, supervisor_actor) = authors[2].clone();
    let now = chrono::Utc::now().timestamp_millis();
    let day = 86_400_000i64;
    let date = |days: i64| {
        (chrono::Utc::now() + chrono::Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    };
    for (i, c) in CLIENTS.iter().enumerate() {
        let (author, actor) = &authors[i % 2];
        let t = now - (30 - i as i64) * day;
        let mut new = NewCase {
            team: TEAM.into(),
            restricted: c.restricted,
            case_kind: Some(c.kind),
            ..Default::default()
        };
        new.client = ClientInput {
            name: Some(c.name.into()),
            name_latin: c.latin.map(Into::into),
            kind: Some(
                if c.name.contains("ครอบครัว") || c.name.contains("خانواده")
                {
                    "family"
                } else {
                    "person"
                }
                .into(),
            ),
            ..Default::default()
        };
        new.intake = Some(IntakeInput {
            date: Some(date(-30 + i as i64)),
            source: Some(["school", "neighbour", "health", "self"][i % 4].into()),
            reason: Some(c.reason.into()),
            preliminary_finding: c.finding,
            emergency: Some(c.emergency),
            ..Default::default()
        });
        let mut doc = CaseDoc::create(CaseId::random(), actor.clone(), author, new, t)?;
        let a = author;
        if let (true, Some(measures)) = (c.emergency, c.safety) {
            doc.secure_safety(a, t + 500, measures)?;
        }
        if let Story::ScreenedOut(why) = c.story {
            let closure = doc
                .decide_intake(
                    a,
                    t + 1000,
                    IntakeDecisionInput {
                        decision: Some(IntakeDecision::ScreenedOut),
                        reason: Some(why.into()),
                        referred_to: None,
                    },
                )?
                .expect("screening out asks for closure");
            close(
                &mut doc,
                (a, actor),
                (&supervisor, &supervisor_actor),
                &closure,
                t,
                &date(-20),
            )?;
        }
        if c.stage > Stage::Intake {
            doc.decide_intake(
                a,
                t + 1000,
                IntakeDecisionInput {
                    decision: Some(IntakeDecision::Accepted),
                    ..Default::default()
                },
            )?;
            doc.add_assessment(
                a,
                t + 2000,
                AssessmentInput {
                    date: Some(date(-25 + i as i64)),
                    risk: Some(RiskInput {
                        finding: c.finding,
                        // Further investigation, due before today: overdue on the phone.
                        next_step_due: (c.finding == Some(Finding::InsufficientInformation))
                            .then(|| date(-3)),
                        // Safety was secured at intake.
                        emergency: Some(false),
                        conclusion: Some(c.reason.into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )?;
            doc.add_visit(
                a,
                t + 3000,
                VisitInput {
                    date: Some(date(-24 + i as i64)),
                    kind: Some("home".into()),
                    note: Some(c.reason.into()),
                    ..Default::default()
                },
            )?;
        }
        if c.stage > Stage::Assessment {
            doc.change_stage(a, t + 4000, Stage::Planning)?;
            let p = doc.add_problem(
                a,
                t + 5000,
                ProblemInput {
                    priority: Some(1),
                    domain: Some("safety".into()),
                    goal: Some(c.reason.into()),
                    ..Default::default()
                },
            )?;
            doc.add_activity(
                a,
                t + 6000,
                &p,
                ActivityInput {
                    description: Some(c.reason.into()),
                    due_date: Some(date(i as i64 - 3)),
                    ..Default::default()
                },
            )?;
            doc.set_next_review(a, t + 7000, &date(i as i64 * 3 - 10))?;
        }
        if c.stage > Stage::Planning {
            doc.request_plan_approval(a, t + 8000)?;
            // The supervisor's decision under the supervisor's own device.
            doc.set_actor(supervisor_actor.clone());
            doc.approve_plan(&supervisor, t + 9000, "")?;
            doc.set_actor(actor.clone());
            doc.change_stage(a, t + 10_000, Stage::Implementation)?;
            doc.add_appointment(
                a,
                t + 11_000,
                AppointmentInput {
                    at: Some(format!("{}T09:00:00Z", date(i as i64 % 5 + 1))),
                    purpose: Some(c.reason.chars().take(40).collect()),
                    attendance_needs: Some("transport".into()),
                    ..Default::default()
                },
            )?;
        }
        if i == 6 {
            // The approved plan changed since: a draft waits for approval, the approved
            // version stays in force.
            let problem = doc.read()?.plan.problems[0].id.clone();
            doc.update_problem(
                a,
                t + 11_500,
                &problem,
                ProblemInput {
                    goal: Some("Житло та робота до весни".into()),
                    ..Default::default()
                },
            )?;
            doc.request_plan_approval(a, t + 11_600)?;
        }
        if c.stage > Stage::Implementation {
            doc.change_stage(a, t + 12_000, Stage::Monitoring)?;
        }
        if c.stage > Stage::Monitoring {
            doc.change_stage(a, t + 13_000, Stage::Review)?;
        }
        if let Story::Transferred(to) = c.story {
            // The transfer shares the family's file: they agreed to it first.
            let consent = doc.record_consent(
                a,
                t + 13_400,
                ConsentInput {
                    topic: Some("referral".into()),
                    scope: Some(to.into()),
                    granted: Some(true),
                    date: Some(date(-7)),
                    ..Default::default()
                },
            )?;
            doc.add_referral(
                a,
                t + 13_500,
                ReferralInput {
                    date: Some(date(-6)),
                    organisation: Some(to.into()),
                    status: Some(ReferralStatus::Accepted),
                    consent_id: Some(consent),
                    ..Default::default()
                },
            )?;
            let closure = doc.request_closure(
                a,
                t + 14_000,
                ClosureInput {
                    reason: Some("transferred".into()),
                    outcome: Some(format!("Передан: {to}")),
                    ..Default::default()
                },
            )?;
            close(
                &mut doc,
                (a, actor),
                (&supervisor, &supervisor_actor),
                &closure,
                t + 14_000,
                &date(-5),
            )?;
        }
        if i == 4 {
            // The second worker is also on this case, and the two disagreed on the address.
            let (b, b_actor) = &authors[1];
            doc.set_actor(supervisor_actor.clone());
            doc.assign(
                &supervisor,
                t + 14_000,
                &[a.user_id.clone(), b.user_id.clone()],
                None,
            )?;
            doc.set_actor(actor.clone());
            let mut other = CaseDoc::load(&doc.automerge().save())?;
            other.set_actor(b_actor.clone());
            doc.set_field(
                a,
                t + 15_000,
                "client/address",
                &json!("ул. Ленина, 5, кв. 12"),
            )?;
            other.set_field(
                b,
                t + 15_500,
                "client/address",
                &json!("ул. Ленина, 5, кв. 21"),
            )?;
            doc.merge(&mut other)?;
        }
        let access = CaseAccess::read(doc.id()?, doc.automerge())?;
        db.put_case(&access, &doc.automerge().save_nocompress(), &doc.heads(), t)?;
    }
    Ok(())
}

/// The worker records that the family was told (in person, on `told_on`), and the
/// supervisor approves the closure request under the supervisor's own device.
fn close(
    doc: &mut CaseDoc,
    (worker, worker_actor): (&Author, &ActorId),
    (supervisor, supervisor_actor): (&Author, &ActorId),
    closure: &str,
    t: i64,
    told_on: &str,
) -> AppResult<()> {
    doc.record_informed(
        worker,
        t + 1500,
        closure,
        InformedInput {
            informed: Some(true),
            informed_on: Some(told_on.into()),
            informed_how: Some(InformedHow::InPerson),
            informed_note: None,
        },
    )?;
    doc.set_actor(supervisor_actor.clone());
    doc.approve_closure(supervisor, t + 2500, closure, "")?;
    doc.set_actor(worker_actor.clone());
    Ok(())
}
