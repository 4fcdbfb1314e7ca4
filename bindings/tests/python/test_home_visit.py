"""The home-visit story through the generated Python, against a real server: a worker
opens a case offline and syncs; the supervisor assigns a second worker; both edit the case
apart; after both sync, every phone holds the same case and the conflict names both."""

import json

from conftest import run


def test_two_workers_edit_apart_and_the_server_merges_everything(fc, server, phone):
    anna, anna_session = phone("anna")
    intake = fc.IntakeInput(reason="Trẻ nghỉ học nhiều ngày.", urgency="urgent",
                            preliminary_finding=fc.Finding.INSUFFICIENT_INFORMATION())
    case = anna.create_case(fc.NewCase(team="north",
                                       case_kind=fc.CaseKind.CHILD_PROTECTION(),
                                       client=fc.ClientInput(name="Nguyễn Thị Lan"),
                                       intake=intake))
    report = run(anna.sync(server.url, anna_session.token))
    assert (report.sent, report.errors) == (1, []), [str(e) for e in report.errors]

    _, malee_session = phone("malee")
    answer = server.post(f"/v1/cases/{case}/assignment", malee_session.token,
                         {"workers": ["anna", "bao"]})
    assert len(answer["assigned"]) == 2

    bao, bao_session = phone("bao")
    assert run(bao.sync(server.url, bao_session.token)).new_cases == 1
    assert run(anna.sync(server.url, anna_session.token)).received == 1

    # Apart: different fields, the same scalar field, each a visit.
    anna.add_assessment(case, fc.AssessmentInput(
        risk=fc.RiskInput(finding=fc.Finding.INSUFFICIENT_INFORMATION(),
                          next_step_due="2026-12-10", conclusion="theo dõi")))
    problem = anna.add_problem(case, fc.ProblemInput(description="Nghỉ học", goal="Đi học 4 ngày/tuần"))
    anna.add_activity(case, problem, fc.ActivityInput(description="Gặp giáo viên"))
    bao.record_consent(case, fc.ConsentInput(topic="information_sharing", granted=True))
    anna.set_field(case, "client/address", json.dumps("12 Lê Lợi"))
    bao.set_field(case, "client/address", json.dumps("21 Lê Lợi"))
    anna.add_visit(case, fc.VisitInput(kind="home", note="Anna: đã gặp mẹ"))
    bao.add_visit(case, fc.VisitInput(kind="home", note="Bảo: đã gặp cô giáo"))

    for store, session in [(anna, anna_session), (bao, bao_session), (anna, anna_session)]:
        report = run(store.sync(server.url, session.token))
        assert report.errors == []

    a, b = anna.get_case(case), bao.get_case(case)
    assert a == b
    assert json.loads(anna.case_json(case)) == json.loads(bao.case_json(case))
    assert sorted(v.note for v in a.visits) == ["Anna: đã gặp mẹ", "Bảo: đã gặp cô giáo"]
    assert len(a.assessments) == 1 and len(a.consents) == 1
    assert a.plan.problems[0].activities[0].description == "Gặp giáo viên"
    conflicts = anna.conflicts(case)
    assert [c.path for c in conflicts] == ["client/address"]
    authors = sorted(v.by.user_id for v in conflicts[0].values)
    assert authors == sorted([anna_session.user_id, bao_session.user_id])
    assert sorted(json.loads(v.value) for v in conflicts[0].values) == ["12 Lê Lợi", "21 Lê Lợi"]
    assert anna.list_cases(fc.CaseFilter(with_conflicts=True, sort=fc.SortBy.LAST_CHANGE))[0].id == case
    assert [s.id for s in bao.search("nguyen thi lan")] == [case]
