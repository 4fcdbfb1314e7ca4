//! Printed forms from the merged record (issue 17, first slice): seed 004's Mẫu 1 to Mẫu 5
//! in Vietnamese and the closure letter in the family's language; what is left out of
//! paper unless the person printing chooses it; every print on the audit trail; and the
//! forms printed to PDF by headless Chromium, their text read back with `pdftotext`.

use std::process::Command;

use fieldcase_core::case::{
    ActivityInput, AssessmentInput, CaseKind, ClosureInput, ContactInput, Finding, InformedHow,
    IntakeInput, PlanDecisionInput, ProblemInput, ResponsibleInput, RiskInput, SafetyInput,
};
use fieldcase_core::{CaseDoc, CaseId, NewCase};
use fieldcase_server::Db;
use fieldcase_tests::console::Console;
use fieldcase_tests::raw::{push, sign_in, Device};
use fieldcase_tests::{TestServer, PASSWORD};

use crate::console_browser::{browser, sign_in as browser_sign_in, Driver};

const CHILD: &str = "Nguyễn Thị Lan";
const REPORTER: &str = "Cô giáo Hoàng Thu";
const PERPETRATOR: &str = "Cha dượng";
const UNSAFE_PHONE: &str = "+84 90 111 2222";
const SAFE_PHONE: &str = "+84 91 333 4444";
const MEASURES: &str = "Đưa trẻ đến ở tạm với bà ngoại";
const DECISION_NUMBER: &str = "QĐ-17/2026";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A child-protection case as the seed's steps fill it: intake with a reporter and an
/// emergency, contacts (one not safe to contact), the alleged perpetrator, an assessment
/// finding abuse, a plan approved by the commune People's Committee, and a closure the
/// supervisor approved after the family was told.
fn child_case(server: &TestServer, anna: &Device, malee: &Device) -> CaseId {
    let id = CaseId::random();
    let mut new = NewCase {
        team: "north".into(),
        case_kind: Some(CaseKind::ChildProtection),
        ..Default::default()
    };
    new.client.name = Some(CHILD.into());
    new.client.date_of_birth = Some("2015-04-02".into());
    new.client.address = Some("Thôn 3, xã Yên Bình".into());
    new.client.languages = Some(vec!["ru".into()]);
    new.intake = Some(IntakeInput {
        date: Some("2026-11-02".into()),
        reporter_name: Some(REPORTER.into()),
        reason: Some("Trẻ đến lớp với vết bầm trên tay".into()),
        emergency: Some(true),
        ..Default::default()
    });
    let a = &anna.author;
    let mut doc = CaseDoc::create(id, anna.actor.clone(), a, new, now_ms()).unwrap();
    doc.secure_safety(a, now_ms(), MEASURES).unwrap();
    for (value, safe) in [(UNSAFE_PHONE, false), (SAFE_PHONE, true)] {
        doc.add_contact(
            a,
            now_ms(),
            ContactInput {
                kind: Some("phone".into()),
                value: Some(value.into()),
                safe_to_contact: Some(safe),
                ..Default::default()
            },
        )
        .unwrap();
    }
    doc.record_safety(
        a,
        now_ms(),
        SafetyInput {
            perpetrator_relationship: Some(PERPETRATOR.into()),
            perpetrator_lives_with_client: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    doc.add_assessment(
        a,
        now_ms(),
        AssessmentInput {
            date: Some("2026-11-05".into()),
            risk: Some(RiskInput {
                finding: Some(Finding::EvidenceOfAbuse),
                ..Default::default()
            }),
            summary: Some("Trẻ kể lại sự việc".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let problem = doc
        .add_problem(
            a,
            now_ms(),
            ProblemInput {
                priority: Some(1),
                description: Some("Trẻ không an toàn ở nhà".into()),
                need: Some("Nơi ở an toàn".into()),
                goal: Some("Trẻ sống an toàn với bà ngoại".into()),
                ..Default::default()
            },
        )
        .unwrap();
    doc.add_activity(
        a,
        now_ms(),
        &problem,
        ActivityInput {
            description: Some("Hỗ trợ tâm lý cho trẻ".into()),
            responsible: Some(ResponsibleInput {
                name: Some("Trạm y tế xã".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .unwrap();
    doc.request_plan_approval(a, now_ms()).unwrap();
    assert_eq!(push(server, &anna.token, &mut doc, &id.to_string()), None);

    // The supervisor approves the plan with the committee's decision.
    let mut doc = CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap()).unwrap();
    doc.set_actor(malee.actor.clone());
    doc.approve_plan_version(
        &malee.author,
        now_ms(),
        PlanDecisionInput {
            authority: Some("Ủy ban nhân dân xã Yên Bình".into()),
            decision_number: Some(DECISION_NUMBER.into()),
            decision_date: Some("2026-11-10".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(push(server, &malee.token, &mut doc, &id.to_string()), None);

    // The worker asks to close, the family told; the supervisor approves.
    let mut doc = CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap()).unwrap();
    doc.set_actor(anna.actor.clone());
    let closure = doc
        .request_closure(
            a,
            now_ms(),
            ClosureInput {
                reason: Some("goals_achieved".into()),
                outcome: Some("Trẻ đã ổn định".into()),
                informed: Some(true),
                informed_on: Some("2026-11-28".into()),
                informed_how: Some(InformedHow::HomeVisit),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(push(server, &anna.token, &mut doc, &id.to_string()), None);
    let mut doc = CaseDoc::load(&server.db.case_document(&id).unwrap().unwrap()).unwrap();
    doc.set_actor(malee.actor.clone());
    doc.approve_closure(&malee.author, now_ms(), &closure, "")
        .unwrap();
    assert_eq!(push(server, &malee.token, &mut doc, &id.to_string()), None);
    id
}

fn prints(server: &TestServer, id: &CaseId) -> Vec<String> {
    server
        .db
        .audit_trail(Some(id), 100)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("printed"))
        .collect()
}

#[test]
fn the_forms_print_each_step_of_the_merged_record_and_leave_out_what_must_not_leave_the_office() {
    let server = TestServer::start();
    let anna = sign_in(&server, "anna", "Anna's phone");
    let malee = sign_in(&server, "malee", "Malee's phone");
    let id = child_case(&server, &anna, &malee);
    let mut c = Console::sign_in(&server.url, "malee", PASSWORD);
    let base = format!("/console/cases/{id}/print");

    let (status, mau1) = c.get(&format!("{base}/mau-1"));
    assert_eq!(status, 200, "{mau1}");
    assert!(mau1.contains("Mẫu 1") && mau1.contains(CHILD) && mau1.contains(MEASURES));
    assert!(!mau1.contains(REPORTER), "the reporter stays in the office");
    let (_, mau1_all) = c.get(&format!("{base}/mau-1?include=restricted"));
    assert!(
        mau1_all.contains(REPORTER),
        "unless the person printing chooses"
    );

    // The seed's conclusion, word for word.
    let (_, mau2) = c.get(&format!("{base}/mau-2"));
    assert!(mau2.contains("Mẫu 2") && mau2.contains("Có bằng chứng về xâm hại xảy ra với trẻ"));
    assert!(!mau2.contains(PERPETRATOR));
    let (_, mau2_all) = c.get(&format!("{base}/mau-2?include=restricted"));
    assert!(mau2_all.contains(PERPETRATOR));

    let (_, mau3) = c.get(&format!("{base}/mau-3"));
    assert!(mau3.contains("Mẫu 3") && mau3.contains(DECISION_NUMBER));
    assert!(mau3.contains("Hỗ trợ tâm lý cho trẻ") && mau3.contains("Trạm y tế xã"));
    for form in ["mau-4", "mau-5"] {
        let (status, page) = c.get(&format!("{base}/{form}"));
        assert_eq!(status, 200, "{form}: {page}");
        assert!(page.contains(CHILD), "{form}");
    }

    // The letter in the family's language (Russian, the client's first language).
    let (status, letter) = c.get(&format!("{base}/closure-letter"));
    assert_eq!(status, 200, "{letter}");
    assert!(letter.contains("Ваш случай закрыт"), "{letter}");
    assert!(letter.contains(SAFE_PHONE) && !letter.contains(UNSAFE_PHONE));
    let (_, letter_vi) = c.get(&format!("{base}/closure-letter?lang=vi"));
    assert!(letter_vi.contains("Thông báo kết thúc hồ sơ"));

    // The whole case file, in any of the six languages, with the same choices.
    let (status, file) = c.get(&format!("{base}/file?lang=uk"));
    assert_eq!(status, 200, "{file}");
    assert!(file.contains("lang=\"uk\""), "in Ukrainian");
    for shown in [
        CHILD,
        MEASURES,
        SAFE_PHONE,
        "Hỗ trợ tâm lý cho trẻ",
        DECISION_NUMBER,
    ] {
        assert!(file.contains(shown), "`{shown}` missing from the case file");
    }
    for hidden in [REPORTER, PERPETRATOR, UNSAFE_PHONE] {
        assert!(
            !file.contains(hidden),
            "`{hidden}` printed without being chosen"
        );
    }
    let (_, file_all) = c.get(&format!("{base}/file?lang=th&include=restricted"));
    for shown in [REPORTER, PERPETRATOR, UNSAFE_PHONE] {
        assert!(file_all.contains(shown), "`{shown}` missing when chosen");
    }

    // Every print is on the record, with the choice to include what is left out.
    let trail = prints(&server, &id);
    assert!(
        trail.contains(&"printed mau-1 (console)".to_string()),
        "{trail:?}"
    );
    assert!(
        trail.contains(&"printed mau-2 with restricted details (console)".to_string()),
        "{trail:?}"
    );
    assert_eq!(trail.len(), 11, "{trail:?}");

    // Bad requests are clear and leave nothing on the record.
    assert_eq!(c.get(&format!("{base}/mau-9")).0, 404);
    assert_eq!(c.get(&format!("{base}/mau-1?include=everything")).0, 400);
    assert_eq!(c.get(&format!("{base}/closure-letter?lang=xx")).0, 400);
    assert_eq!(prints(&server, &id).len(), 11);

    // Another team's worker gets the answer of a case that does not exist, and no print.
    let mut sam = Console::sign_in(&server.url, "sam", PASSWORD);
    assert_eq!(sam.get(&format!("{base}/mau-1")).0, 404);
    assert_eq!(prints(&server, &id).len(), 11);
}

#[test]
fn a_case_not_closed_has_no_closure_letter() {
    let server = TestServer::start();
    let (phone, token, _dir) = server.phone("anna");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some(CHILD.into());
    let id = phone.create_case(new).unwrap();
    phone.sync(&server.url, &token).unwrap();
    let mut c = Console::sign_in(&server.url, "malee", PASSWORD);
    let (status, page) = c.get(&format!("/console/cases/{id}/print/closure-letter"));
    assert_eq!(status, 409, "{page}");
    assert!(prints(&server, &id).is_empty());
}

/// The text of a PDF, read with poppler's `pdftotext` (installed by `scripts/test.sh`).
fn pdf_text(pdf: &[u8], name: &str) -> String {
    let path = crate::console_browser::artifacts().join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext is needed for the print test: apt-get install poppler-utils (scripts/test.sh does this)");
    assert!(out.status.success(), "pdftotext failed on {name}.pdf");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_forms_print_to_a4_pdf_in_a_real_browser() {
    let server = TestServer::start();
    let anna = sign_in(&server, "anna", "Anna's phone");
    let malee = sign_in(&server, "malee", "Malee's phone");
    let id = child_case(&server, &anna, &malee);
    let driver = Driver::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = browser(&driver).await;
        browser_sign_in(&c, &server.url, "malee", PASSWORD).await;
        for (form, expected) in [
            ("mau-1", vec!["Mẫu 1", CHILD, MEASURES]),
            (
                "mau-3",
                vec!["Mẫu 3", DECISION_NUMBER, "Hỗ trợ tâm lý cho trẻ"],
            ),
            ("closure-letter?lang=fa", vec!["پرونده شما بسته شد"]),
            ("file?lang=vi", vec![CHILD, MEASURES, DECISION_NUMBER]),
        ] {
            c.goto(&format!("{}/console/cases/{id}/print/{form}", server.url))
                .await
                .unwrap();
            // Headless Chromium now and then answers "Printing failed", or prints a blank
            // page, under load: the print is asked again (at most three times); what it
            // prints is checked below.
            let name = form.split('?').next().unwrap();
            let mut printed = Err(None);
            for attempt in 0..3 {
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                match c.print(fantoccini::wd::PrintConfiguration::default()).await {
                    Ok(bytes) => {
                        assert!(bytes.starts_with(b"%PDF"), "{form}: not a PDF");
                        let text = pdf_text(&bytes, &format!("print-{name}"));
                        let blank = text.trim().is_empty();
                        printed = Ok(text);
                        if !blank {
                            break;
                        }
                    }
                    Err(e) => printed = Err(Some(e)),
                }
            }
            let text = printed.expect("printed to PDF");
            // pdftotext may break lines anywhere; compare without whitespace.
            let flat: String = text.split_whitespace().collect();
            for e in expected {
                let e: String = e.split_whitespace().collect();
                assert!(
                    flat.contains(&e),
                    "{form}: `{e}` not in the PDF's text:\n{text}"
                );
            }
            assert!(!text.contains(REPORTER), "{form}: the reporter is left out");
        }
        c.close().await.unwrap();
    });
    assert!(prints(&server, &id).len() >= 3);
}

/// A client's own record (issue 18): the whole case as JSON for a supervisor, audited; a
/// worker of the case is refused; someone who cannot see the case gets the missing-case
/// answer.
#[test]
fn a_clients_own_record_is_exported_as_json_by_a_supervisor_and_audited() {
    let server = TestServer::start();
    let anna = sign_in(&server, "anna", "Anna's phone");
    let malee = sign_in(&server, "malee", "Malee's phone");
    let id = child_case(&server, &anna, &malee);
    let mut supervisor = Console::sign_in(&server.url, "malee", PASSWORD);
    let (_, record) = supervisor.get(&format!("/console/cases/{id}"));
    assert!(record.contains(&format!("/console/cases/{id}/export.json")));
    let (status, body) = supervisor.get(&format!("/console/cases/{id}/export.json"));
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(json["id"], id.to_string());
    assert_eq!(json["client"]["name"], CHILD);
    let exported = |s: &TestServer| {
        s.db.audit_trail(Some(&id), 100)
            .unwrap()
            .iter()
            .filter(|e| e.action == "exported as JSON (console)")
            .count()
    };
    assert_eq!(exported(&server), 1);
    let mut worker = Console::sign_in(&server.url, "anna", PASSWORD);
    assert_eq!(
        worker.get(&format!("/console/cases/{id}/export.json")).0,
        403
    );
    let mut stranger = Console::sign_in(&server.url, "sam", PASSWORD);
    assert_eq!(
        stranger.get(&format!("/console/cases/{id}/export.json")).0,
        404
    );
    assert_eq!(exported(&server), 1);
}
