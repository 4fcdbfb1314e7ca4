//! Reports over a period in the console: the period chosen in a form (a wrong one refused
//! in words), each report a chart drawn on the server as SVG with its table, and all of
//! them as one XLSX workbook that opens as one (its sheets and counts read back).

use std::io::Read;

use fieldcase_core::case::IntakeInput;
use fieldcase_core::NewCase;
use fieldcase_tests::console::Console;
use fieldcase_tests::{TestServer, PASSWORD};

#[test]
fn a_period_is_reported_as_charts_with_their_tables_and_as_a_workbook() {
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    use fieldcase_core::case::CaseKind;
    for (day, gender, kind, vulnerabilities) in [
        (
            "2026-09-10",
            "female",
            Some(CaseKind::ViolenceAgainstWomen),
            vec!["domestic_violence", "disability"],
        ),
        (
            "2026-10-01",
            "male",
            Some(CaseKind::ChildProtection),
            vec!["child_at_risk"],
        ),
        ("2026-10-15", "female", None, vec!["domestic_violence"]),
    ] {
        let mut new = NewCase {
            team: "north".into(),
            case_kind: kind,
            ..Default::default()
        };
        new.client.name = Some(format!("Client {day}"));
        new.client.gender = Some(gender.into());
        new.client.vulnerabilities = Some(vulnerabilities.into_iter().map(String::from).collect());
        new.intake = Some(IntakeInput {
            date: Some(day.into()),
            ..Default::default()
        });
        let id = anna.create_case(new).unwrap();
        // Assessed 4 and 10 days after opening (the third not yet).
        let assessed = match day {
            "2026-09-10" => Some("2026-09-14"),
            "2026-10-01" => Some("2026-10-11"),
            _ => None,
        };
        if let Some(date) = assessed {
            anna.update(&id, |c, me, now| {
                c.add_assessment(
                    me,
                    now,
                    fieldcase_core::case::AssessmentInput {
                        date: Some(date.into()),
                        ..Default::default()
                    },
                )
            })
            .unwrap();
        }
    }
    assert!(anna.sync(&server.url, &token).unwrap().errors.is_empty());

    let mut console = Console::sign_in(&server.url, "malee", PASSWORD);
    let (status, page) = console.get("/console/reports?from=2026-09-01&to=2026-11-30");
    assert_eq!(status, 200);
    let period = &page[page.find("id=\"period\"").expect("the period's reports")..];
    assert!(period.contains("value=\"2026-09-01\"") && period.contains("value=\"2026-11-30\""));
    // A chart per report, each with its table; the months: 1, 2, 0 opened.
    assert_eq!(period.matches("<svg").count(), 11, "eleven charts");
    // By kind of case, by risk conclusion (none concluded yet), by vulnerability (a client
    // with two counted under each).
    let count_of = |part: &str, label: &str| -> String {
        let row = &part[part
            .find(&format!("<bdi>{label}</bdi></th>"))
            .unwrap_or_else(|| panic!("{label}: {part}"))..];
        let first = row.find("<td class=\"num\">").unwrap() + "<td class=\"num\">".len();
        row[first..first + row[first..].find('<').unwrap()].to_string()
    };
    let part = |id: &str| -> &str {
        let start = period.find(&format!("id=\"period-{id}\"")).unwrap();
        let rest = &period[start..];
        let end = rest[1..].find("id=\"period-").map_or(rest.len(), |e| e + 1);
        &rest[..end]
    };
    assert_eq!(count_of(part("case-kind"), "Violence against women"), "1");
    assert_eq!(count_of(part("case-kind"), "Child protection"), "1");
    assert_eq!(count_of(part("case-kind"), "—"), "1");
    assert_eq!(count_of(part("conclusion"), "No conclusion yet"), "3");
    assert_eq!(count_of(part("vulnerability"), "Domestic violence"), "2");
    assert_eq!(count_of(part("vulnerability"), "Disability"), "1");
    assert_eq!(count_of(part("vulnerability"), "Child at risk"), "1");
    // Days from opening to the first assessment: two cases, median 10 (the upper middle),
    // longest 10; no plan approved yet.
    let steps = part("time-to-steps");
    let row = &steps[steps.find("<bdi>First assessment</bdi></th>").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    let cells: Vec<&str> = row
        .split("<td class=\"num\">")
        .skip(1)
        .map(|c| &c[..c.find('<').unwrap()])
        .collect();
    assert_eq!(cells, ["2", "10", "10"], "{row}");
    assert_eq!(count_of(steps, "First approved plan"), "0");
    let months = &period[period.find("id=\"period-months\"").unwrap()
        ..period.find("id=\"period-gender\"").unwrap()];
    assert!(months.contains("role=\"img\"") && months.contains("<title"));
    for (month, opened) in [("Sep 2026", 1), ("Oct 2026", 2), ("Nov 2026", 0)] {
        let row = &months[months
            .find(&format!("<th scope=\"row\"><bdi>{month}</bdi></th>"))
            .unwrap_or_else(|| panic!("{month}"))..];
        let first = row.find("<td class=\"num\">").unwrap() + "<td class=\"num\">".len();
        assert_eq!(
            &row[first..first + row[first..].find('<').unwrap()],
            opened.to_string(),
            "{month}"
        );
    }
    // No names: counts only.
    assert!(
        !period.contains("Client 2026"),
        "no client names in reports"
    );

    // A wrong period: refused in words, not a page of zeros.
    for q in [
        "from=2026-11-30&to=2026-09-01",
        "from=someday&to=2026-09-01",
        "from=1990-01-01&to=2026-09-01",
    ] {
        let (status, page) = console.get(&format!("/console/reports?{q}"));
        assert_eq!(status, 400, "{q}");
        assert!(!page.contains("id=\"period\""), "{q}");
    }

    // The workbook: an XLSX whose sheets are the reports, with the same counts.
    let (status, bytes) =
        console.get_bytes("/console/reports/period.xlsx?from=2026-09-01&to=2026-11-30");
    assert_eq!(status, 200);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an XLSX is a zip");
    let mut workbook = String::new();
    zip.by_name("xl/workbook.xml")
        .unwrap()
        .read_to_string(&mut workbook)
        .unwrap();
    for sheet in [
        "months",
        "gender",
        "age",
        "area",
        "stage",
        "case-kind",
        "conclusion",
        "vulnerability",
        "referrals",
        "time-to-steps",
        "time-to-close",
    ] {
        assert!(
            workbook.contains(&format!("name=\"{sheet}\"")),
            "{sheet}: {workbook}"
        );
    }
    let mut first = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut first)
        .unwrap();
    // Rows 4 to 6 hold September to November; column B the cases opened.
    for (cell, n) in [("B4", 1), ("B5", 2), ("B6", 0)] {
        assert!(
            first.contains(&format!("<c r=\"{cell}\"><v>{n}</v></c>")),
            "{cell}: {first}"
        );
    }
    // A worker of another team counts only what they may see: none of these cases, on
    // the page or in the workbook, exactly as if they did not exist.
    let mut sam = Console::sign_in(&server.url, "sam", PASSWORD);
    let (status, page) = sam.get("/console/reports?from=2026-09-01&to=2026-11-30");
    assert_eq!(status, 200);
    let months = &page
        [page.find("id=\"period-months\"").unwrap()..page.find("id=\"period-gender\"").unwrap()];
    assert!(
        !months.contains("<td class=\"num\">1<") && !months.contains("<td class=\"num\">2<"),
        "{months}"
    );
    let (_, bytes) = sam.get_bytes("/console/reports/period.xlsx?from=2026-09-01&to=2026-11-30");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut first = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut first)
        .unwrap();
    for cell in ["B4", "B5", "B6"] {
        assert!(
            first.contains(&format!("<c r=\"{cell}\"><v>0</v></c>")),
            "{cell}: {first}"
        );
    }
    // A wrong period is refused there too.
    assert_eq!(
        console
            .get_bytes("/console/reports/period.xlsx?from=x&to=y")
            .0,
        400
    );
}

/// Issue 16's report: referrals per organisation and service, a directory service counted
/// once whatever names were written with it, with the organisation's reasons for declining
/// and the median days to the answer and to delivery from the steps of the loop; the CSV
/// carries no client names.
#[test]
fn referral_outcomes_are_reported_per_directory_service_with_their_days() {
    use fieldcase_core::case::{ConsentInput, ReferralInput, ReferralStatus};
    let server = TestServer::start();
    let (anna, token, _a) = server.phone("anna");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Trần Thị Hoa".into());
    let id = anna.create_case(new).unwrap();
    let days_ago = |n: i64| {
        (chrono::Utc::now().date_naive() - chrono::Days::new(n as u64))
            .format("%Y-%m-%d")
            .to_string()
    };
    anna.update(&id, |c, me, now| {
        let consent = c.record_consent(
            me,
            now,
            ConsentInput {
                topic: Some("referral".into()),
                granted: Some(true),
                date: Some(days_ago(10)),
                ..Default::default()
            },
        )?;
        // The same hospital twice under two spellings, linked to one directory service.
        for (org, sent, end) in [
            ("BV Nhi", 4, ReferralStatus::Delivered),
            ("Bệnh viện Nhi", 2, ReferralStatus::DeclinedByOrganisation),
        ] {
            let r = c.add_referral(
                me,
                now,
                ReferralInput {
                    date: Some(days_ago(sent)),
                    organisation: Some(org.into()),
                    service_id: Some("svc-children-hospital".into()),
                    consent_id: Some(consent.clone()),
                    ..Default::default()
                },
            )?;
            if end == ReferralStatus::Delivered {
                c.set_referral_status(me, now, &r, ReferralStatus::Accepted, None, None)?;
            }
            c.set_referral_status(me, now, &r, end, Some("hết giường"), None)?;
        }
        c.add_referral(
            me,
            now,
            ReferralInput {
                organisation: Some("Hội Phụ nữ".into()),
                shares_information: Some(false),
                ..Default::default()
            },
        )
    })
    .unwrap();
    assert!(anna.sync(&server.url, &token).unwrap().errors.is_empty());

    let mut console = Console::sign_in(&server.url, "malee", PASSWORD);
    let (status, csv) = console.get("/console/reports/referrals.csv");
    assert_eq!(status, 200);
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "organisation",
            "service",
            "directory_service",
            "sent",
            "accepted",
            "declined_by_organisation",
            "declined_by_client",
            "unavailable",
            "delivered",
            "median_days_to_answer",
            "median_days_to_deliver"
        ]
    );
    let hospital = rows
        .iter()
        .find(|r| r[2] == "svc-children-hospital")
        .expect("one row for the directory's service");
    // Two sent, one accepted and delivered four days after sending, one declined two days
    // after with its reason: median days to answer of 2 and 4 is the lower middle, 2.
    assert_eq!(&hospital[3..], ["2", "1", "1", "0", "0", "1", "2", "4"]);
    let women = rows
        .iter()
        .find(|r| r[0] == "Hội Phụ nữ")
        .expect("free text");
    assert_eq!(&women[3..], ["1", "0", "0", "0", "0", "0", "", ""]);
    assert!(!csv.contains("Trần Thị Hoa"), "no client names");
    assert!(!csv.contains("hết giường"), "free text stays on the page");
    let (status, page) = console.get("/console/reports");
    assert_eq!(status, 200);
    assert!(page.contains("Referral outcomes by organisation and service"));
    assert!(page.contains("hết giường"), "the reasons, on the page");
}

/// The service gaps and unmet needs over the partner directory (issue 16): a declined or
/// unavailable referral naming a directory service counts under the directory's names and
/// taxonomy terms, whatever was typed; each life domain says how many active services of
/// the directory serve it, so a need no service answers shows as zero.
#[test]
fn gaps_and_needs_are_reported_over_the_directory() {
    use fieldcase_core::case::{AssessmentInput, DomainInput, ReferralInput, ReferralStatus};
    use fieldcase_core::directory::{sample, DirectoryFilter, DirectoryIndex};
    use fieldcase_server::Db;
    let server = TestServer::start();
    let directory = sample::generate(40);
    server
        .db
        .put_directory(&directory, 0, "admin", 1, usize::MAX)
        .unwrap();
    let index = DirectoryIndex::new(directory);
    let hospital = index.entry("svc-000002").expect("a sample service");
    let (anna, token, _a) = server.phone("anna");
    let mut new = NewCase {
        team: "north".into(),
        ..Default::default()
    };
    new.client.name = Some("Trần Thị Hoa".into());
    let id = anna.create_case(new).unwrap();
    anna.update(&id, |c, me, now| {
        let mut domains = std::collections::BTreeMap::new();
        domains.insert(
            "physical_health".to_string(),
            DomainInput {
                needs: Some("khám tim".into()),
                ..Default::default()
            },
        );
        c.add_assessment(
            me,
            now,
            AssessmentInput {
                date: Some("2026-11-20".into()),
                domains: Some(domains),
                ..Default::default()
            },
        )?;
        c.add_referral(
            me,
            now,
            ReferralInput {
                organisation: Some("BV Nhi".into()),
                service_id: Some("svc-000002".into()),
                domain: Some("physical_health".into()),
                status: Some(ReferralStatus::Unavailable),
                shares_information: Some(false),
                ..Default::default()
            },
        )
    })
    .unwrap();
    assert!(anna.sync(&server.url, &token).unwrap().errors.is_empty());
    let mut console = Console::sign_in(&server.url, "malee", PASSWORD);

    let (status, gaps) = console.get("/console/reports/gaps.csv");
    assert_eq!(status, 200);
    let row = gaps
        .lines()
        .find(|l| l.contains("svc-000002"))
        .unwrap_or_else(|| panic!("the directory's service: {gaps}"));
    assert!(row.contains(&hospital.organization.name), "{row}");
    assert!(
        !row.contains("BV Nhi"),
        "the directory's name, not the typed one"
    );
    for term in &hospital.terms {
        assert!(row.contains(&term.name), "{row}");
    }

    let (_, needs) = console.get("/console/reports/needs.csv");
    assert!(needs.starts_with(
        "domain,cases_with_need,without_plan,referral_declined_or_unavailable,active_directory_services"
    ));
    for domain in fieldcase_core::schema::LIFE_DOMAINS {
        let active = index
            .search(&DirectoryFilter {
                domain: Some(domain.to_string()),
                ..Default::default()
            })
            .unwrap()
            .iter()
            .filter(|h| h.status.takes_referrals())
            .count();
        let row = needs
            .lines()
            .find(|l| l.starts_with(&format!("{domain},")))
            .unwrap();
        assert!(row.ends_with(&format!(",{active}")), "{domain}: {row}");
    }
    let health = needs
        .lines()
        .find(|l| l.starts_with("physical_health,"))
        .unwrap();
    assert!(health.starts_with("physical_health,1,1,1,"), "{health}");
    assert!(
        needs.lines().skip(1).any(|l| l.ends_with(",0")),
        "some domain has no service in the sample: {needs}"
    );
}
