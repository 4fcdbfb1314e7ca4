"""The case process as the seeds describe it, through the generated Python against a real
server: an intake screened out and closed without a plan; a child case whose assessment
lacks information gets an investigation with its due date, overdue offline once the day
has passed; an emergency that may not move on until safety is secured; a case transferred
and closed with the family told."""

import pytest

from conftest import run


def synced(store, session, server):
    report = run(store.sync(server.url, session.token))
    assert report.errors == [], report.errors
    return report


def told(fc, on, how):
    return fc.InformedInput(informed=True, informed_on=on, informed_how=how)


def test_a_screened_out_intake_is_closed_without_a_plan(fc, server, phone):
    anna, anna_s = phone("anna")
    malee, malee_s = phone("malee")
    case = anna.create_case(fc.NewCase(
        team="north", case_kind=fc.CaseKind.FAMILY_IN_DIFFICULTY(),
        client=fc.ClientInput(name="خانواده رضایی", kind="family"),
        intake=fc.IntakeInput(reason="پدر خانواده بیکار شده است",
                              criteria=fc.CriteriaInput(multiple_problems=False,
                                                        basic_needs_met=True,
                                                        cannot_access_alone=False))))
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        anna.decide_intake(case, fc.IntakeDecisionInput(decision=fc.IntakeDecision.SCREENED_OUT()))
    closure = anna.decide_intake(case, fc.IntakeDecisionInput(
        decision=fc.IntakeDecision.SCREENED_OUT(),
        reason="فقط یک مشکل؛ خانواده خودش می‌تواند مراجعه کند"))
    assert closure is not None
    summary = anna.list_cases(fc.CaseFilter(sort=fc.SortBy.LAST_CHANGE))[0]
    assert summary.closure_requested and summary.stage == fc.Stage.INTAKE()
    synced(anna, anna_s, server)
    synced(malee, malee_s, server)
    # The supervisor wants to know the family was told before the case ends.
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        malee.approve_closure(case, closure, "")
    anna.record_informed(case, closure, told(fc, "2026-11-30", fc.InformedHow.PHONE()))
    synced(anna, anna_s, server)
    synced(malee, malee_s, server)
    malee.approve_closure(case, closure, "موافقم")
    synced(malee, malee_s, server)
    synced(anna, anna_s, server)
    f = anna.get_case(case)
    assert f.stage == fc.Stage.CLOSED()
    assert f.plan.problems == [] and f.assessments == []
    assert f.intake.decision == fc.IntakeDecision.SCREENED_OUT()
    c = f.closures[0]
    assert (c.reason, c.stage_at_request, c.informed_how) == (
        "screened_out", fc.Stage.INTAKE(), fc.InformedHow.PHONE())
    assert c.decided_by == malee_s.user_id


def test_not_enough_information_asks_for_an_investigation_overdue_offline(fc, server, phone):
    bao, bao_s = phone("bao")
    case = bao.create_case(fc.NewCase(
        team="north", case_kind=fc.CaseKind.CHILD_PROTECTION(),
        client=fc.ClientInput(name="Nguyễn Thị Lan"),
        intake=fc.IntakeInput(reason="Trẻ em có hoàn cảnh đặc biệt: mồ côi cha, mẹ đi làm xa")))
    bao.decide_intake(case, fc.IntakeDecisionInput(decision=fc.IntakeDecision.ACCEPTED()))
    insufficient = fc.RiskInput(finding=fc.Finding.INSUFFICIENT_INFORMATION(),
                                conclusion="Chưa xác minh được với nhà trường")
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        bao.add_assessment(case, fc.AssessmentInput(risk=insufficient))
    insufficient.next_step_due = "2026-12-05"
    assessment = bao.add_assessment(case, fc.AssessmentInput(date="2026-12-01",
                                                             risk=insufficient))
    risk = bao.get_case(case).assessments[0].risk
    assert risk.next_step == fc.NextStep.INVESTIGATE_FURTHER()
    synced(bao, bao_s, server)
    # Offline from here: the phone computes what is due and overdue itself.
    assert bao.overdue("2026-12-05") == []
    [item] = bao.overdue("2026-12-06")
    assert (item.kind, item.when, item.case_id) == (fc.AgendaKind.INVESTIGATION,
                                                    "2026-12-05", case)
    assert item.path == f"assessments/{assessment}"
    assert [i.kind for i in bao.agenda("2026-12-01", "2026-12-31")] == [
        fc.AgendaKind.INVESTIGATION]
    assert bao.agenda("2026-12-06", "2026-12-31") == []
    s = bao.list_cases(fc.CaseFilter(finding=fc.Finding.INSUFFICIENT_INFORMATION(),
                                     sort=fc.SortBy.LAST_CHANGE))
    assert [x.id for x in s] == [case] and s[0].next_step == fc.NextStep.INVESTIGATE_FURTHER()
    bao.complete_next_step(case, f"assessments/{assessment}", "2026-12-04")
    assert bao.overdue("2026-12-06") == []
    synced(bao, bao_s, server)


def test_an_emergency_moves_on_only_after_safety_is_secured(fc, server, phone):
    anna, anna_s = phone("anna")
    case = anna.create_case(fc.NewCase(
        team="north", case_kind=fc.CaseKind.CHILD_PROTECTION(), restricted=True,
        client=fc.ClientInput(name="สมศรี ใจดี"),
        intake=fc.IntakeInput(reason="ครูรายงานว่าเด็กมีรอยฟกช้ำ", emergency=True,
                              urgency="emergency")))
    emergencies = fc.CaseFilter(emergency=True, sort=fc.SortBy.LAST_CHANGE)
    assert [s.id for s in anna.list_cases(emergencies)] == [case]
    for move in (lambda: anna.change_stage(case, fc.Stage.ASSESSMENT()),
                 lambda: anna.decide_intake(case, fc.IntakeDecisionInput(
                     decision=fc.IntakeDecision.ACCEPTED()))):
        with pytest.raises(fc.FieldcaseError.InvalidTransition):
            move()
    synced(anna, anna_s, server)
    anna.secure_safety(case, "ย้ายเด็กไปอยู่กับยายชั่วคราว")
    assert anna.list_cases(emergencies) == []
    anna.decide_intake(case, fc.IntakeDecisionInput(decision=fc.IntakeDecision.ACCEPTED()))
    synced(anna, anna_s, server)
    malee, malee_s = phone("malee")
    synced(malee, malee_s, server)
    f = malee.get_case(case)
    assert f.stage == fc.Stage.ASSESSMENT()
    assert f.intake.emergency is True, "history keeps the flag"
    assert f.intake.safety_secured_by == anna_s.user_id
    assert f.intake.safety_measures == "ย้ายเด็กไปอยู่กับยายชั่วคราว"
    assert malee.list_cases(emergencies) == []


def test_a_transferred_case_is_closed_with_the_family_told(fc, server, phone):
    bao, bao_s = phone("bao")
    malee, malee_s = phone("malee")
    case = bao.create_case(fc.NewCase(
        team="north", case_kind=fc.CaseKind.VETERAN(),
        client=fc.ClientInput(name="Смирнов Игорь")))
    bao.decide_intake(case, fc.IntakeDecisionInput(decision=fc.IntakeDecision.ACCEPTED()))
    # A veteran is not assessed for abuse.
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        bao.add_assessment(case, fc.AssessmentInput(
            risk=fc.RiskInput(finding=fc.Finding.NO_EVIDENCE_OF_ABUSE())))
    bao.add_assessment(case, fc.AssessmentInput(
        risk=fc.RiskInput(emergency=False, conclusion="Нуждается в реабилитации")))
    closure = bao.request_closure(case, fc.ClosureInput(
        reason="transferred", outcome="Передан в областной центр реабилитации ветеранов",
        informed=True, informed_on="2026-12-01", informed_how=fc.InformedHow.IN_PERSON()))
    synced(bao, bao_s, server)
    synced(malee, malee_s, server)
    malee.approve_closure(case, closure, "Согласовано")
    synced(malee, malee_s, server)
    synced(bao, bao_s, server)
    f = bao.get_case(case)
    assert f.stage == fc.Stage.CLOSED()
    c = f.closures[0]
    assert (c.reason, c.stage_at_request, c.informed, c.informed_on) == (
        "transferred", fc.Stage.ASSESSMENT(), True, "2026-12-01")


def test_two_workers_change_an_approved_plan_offline_and_the_draft_holds_both(fc, server, phone):
    anna, anna_s = phone("anna")
    bao, bao_s = phone("bao")
    malee, malee_s = phone("malee")
    case = anna.create_case(fc.NewCase(
        team="north", case_kind=fc.CaseKind.FAMILY_IN_DIFFICULTY(),
        client=fc.ClientInput(name="Фёдорова Анна Петровна")))
    anna.decide_intake(case, fc.IntakeDecisionInput(decision=fc.IntakeDecision.ACCEPTED()))
    anna.change_stage(case, fc.Stage.PLANNING())
    problem = anna.add_problem(case, fc.ProblemInput(priority=1, domain="housing",
                                                     goal="Жильё до весны"))
    anna.request_plan_approval(case)
    synced(anna, anna_s, server)
    server.post(f"/v1/cases/{case}/assignment", malee_s.token, {"workers": ["anna", "bao"]})
    synced(malee, malee_s, server)
    malee.approve_plan_version(case, fc.PlanDecisionInput(
        comment="Согласовано", authority="Комиссия по делам несовершеннолетних",
        decision_number="7-р", decision_date="2026-11-30"))
    synced(malee, malee_s, server)
    synced(anna, anna_s, server)
    synced(bao, bao_s, server)
    anna.change_stage(case, fc.Stage.IMPLEMENTATION())
    approved = anna.get_case(case).plan.versions[0]
    assert (approved.number, approved.decision_number) == (1, "7-р")

    # Apart, offline: Anna changes the goal, Bao adds an activity.
    anna.update_problem(case, problem, fc.ProblemInput(goal="Жильё до зимы"))
    activity = bao.add_activity(case, problem, fc.ActivityInput(description="Заявление в ЦСЗН"))
    for store, session in [(anna, anna_s), (bao, bao_s), (anna, anna_s), (malee, malee_s)]:
        synced(store, session, server)

    for store in (anna, bao, malee):
        f = store.get_case(case)
        assert f.plan.versions == [approved], "the approved version is intact"
        status = store.plan_status(case)
        assert (status.approved_version, status.draft) == (1, True)
        changes = {(c.kind, c.path, c.field) for c in store.plan_changes(case)}
        assert changes == {
            (fc.PlanChangeKind.CHANGED, f"plan/problems/{problem}", "goal"),
            (fc.PlanChangeKind.ADDED, f"plan/problems/{problem}/activities/{activity}", None),
        }
    # Work goes on under version 1 while version 2 is asked for and approved.
    assert anna.get_case(case).stage == fc.Stage.IMPLEMENTATION()
    anna.request_plan_approval(case)
    synced(anna, anna_s, server)
    synced(malee, malee_s, server)
    with pytest.raises(fc.FieldcaseError.Unauthorized):
        anna.approve_plan(case, "")
    malee.approve_plan(case, "")
    synced(malee, malee_s, server)
    synced(anna, anna_s, server)
    status = anna.plan_status(case)
    assert (status.approved_version, status.draft) == (2, False)
    assert anna.get_case(case).plan.versions[0] == approved


def test_a_contact_that_is_not_safe_is_never_offered(fc, server, phone):
    anna, anna_s = phone("anna")
    case = anna.create_case(fc.NewCase(
        team="north", case_kind=fc.CaseKind.VIOLENCE_AGAINST_WOMEN(), restricted=True,
        client=fc.ClientInput(name="Lê Thị Hoa")))
    home = anna.add_contact(case, fc.ContactInput(kind="phone", value="+84 90 000 0000",
                                                  label="nhà"))
    aunt = anna.add_contact(case, fc.ContactInput(kind="phone", value="+84 90 111 1111",
                                                  label="dì", safe_to_contact=True))
    assert {c.id for c in anna.reachable_contacts(case)} == {home, aunt}
    anna.record_safety(case, fc.SafetyInput(
        perpetrator_relationship="chồng", perpetrator_lives_with_client=True,
        protection_order=fc.ProtectionOrder.APPLIED_FOR(),
        warning_signs="khi chồng uống rượu", safe_places="nhà tạm lánh của Hội Phụ nữ"))
    # Nobody said the home phone is safe, and the husband lives there: not offered.
    assert [c.id for c in anna.reachable_contacts(case)] == [aunt]
    synced(anna, anna_s, server)
    malee, malee_s = phone("malee")
    synced(malee, malee_s, server)
    f = malee.get_case(case)
    assert f.safety.protection_order == fc.ProtectionOrder.APPLIED_FOR()
    assert [c.id for c in malee.reachable_contacts(case)] == [aunt]


def test_each_kind_of_case_records_the_assessment_items_the_seeds_name(fc, server, phone):
    """Seed 003's legal aid: the consultation ends in the client's question, the steps to take
    and what should come of them, and whether a lawyer takes the case; an item of another
    kind (seed 000's readiness to talk, for violence against women) is refused."""
    anna, anna_s = phone("anna")
    case = anna.create_case(fc.NewCase(
        team="north", case_kind=fc.CaseKind.LEGAL_AID(),
        client=fc.ClientInput(name="Микола Н.")))
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        anna.add_assessment(case, fc.AssessmentInput(ready_to_talk=True))
    anna.add_assessment(case, fc.AssessmentInput(
        legal_question="Розмір щорічної грошової виплати учаснику АТО",
        action_steps="Спершу подати заяву до управління соціального захисту",
        expected_result="Виплата до 5 травня", lawyer_needed=False))
    synced(anna, anna_s, server)
    malee, malee_s = phone("malee")
    synced(malee, malee_s, server)
    a = malee.get_case(case).assessments[0]
    assert a.legal_question == "Розмір щорічної грошової виплати учаснику АТО"
    assert a.lawyer_needed is False and a.ready_to_talk is None
