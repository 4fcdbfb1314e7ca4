"""Every typed edit of the case file through the generated Python, over one case's whole
life against a real server: intake, assessment, a plan the supervisor first returns and
then approves on her own phone, referral, visit, appointment, review, a closure returned
and then approved, reopening, retraction, assignment and restriction, export and import,
logout. The Rust tests check the rules of the core; this checks that each call crosses
the boundary with every field of its record and each refusal with its own variant."""

import pytest

from conftest import open_store, run


def test_a_case_file_from_intake_to_reopening(fc, server, phone, tmp_path):
    anna, anna_s = phone("anna")
    malee, malee_s = phone("malee")
    _, bao_s = phone("bao")

    def sync(store, session):
        report = run(store.sync(server.url, session.token))
        assert report.errors == [], report.errors
        return report

    # Intake, on the phone during the home visit.
    case = anna.create_case(fc.NewCase(team="north", priority="high",
                                       case_kind=fc.CaseKind.FAMILY_IN_DIFFICULTY(),
                                       client=fc.ClientInput(name="Фёдорова Анна",
                                                             kind="family")))
    anna.update_client(case, fc.ClientInput(gender="female", languages=["ru", "uk"],
                                            address="Харків, вул. Сумська 1",
                                            date_of_birth="1988-03-01",
                                            birth_date_approximate=True))
    anna.add_contact(case, fc.ContactInput(kind="phone", value="+380 50 000 0000",
                                           safe_to_contact=False,
                                           note="чоловік читає повідомлення"))
    anna.add_household_member(case, fc.HouseholdMemberInput(
        name="Марко", relationship="son", date_of_birth="2015-06-01",
        lives_with_client=True))
    anna.record_intake(case, fc.IntakeInput(
        date="2026-11-02", source="school", reason="Син пропускає школу.",
        urgency="urgent", criteria=fc.CriteriaInput(multiple_problems=True,
                                                    basic_needs_met=False,
                                                    cannot_access_alone=True),
        safety_measures="Зустрічі поза домом.", referring_organisation="Школа №5"))
    consent = anna.record_consent(case, fc.ConsentInput(
        topic="information_sharing", scope="school", given_by="Анна", granted=True,
        date="2026-11-02"))
    photo = anna.record_consent(case, fc.ConsentInput(topic="photo", granted=True,
                                                      date="2026-11-02"))
    anna.withdraw_consent(case, photo, "2026-11-03", "changed her mind")

    # Assessment and plan.
    anna.change_stage(case, fc.Stage.ASSESSMENT())
    anna.add_assessment(case, fc.AssessmentInput(
        date="2026-11-03",
        domains={"education": fc.DomainInput(rating=2, needs="супровід до школи",
                                             strengths="любить малювати")},
        risk=fc.RiskInput(emergency=False, conclusion="спостерігати"),
        sources=["school"]))
    anna.change_stage(case, fc.Stage.PLANNING())
    problem = anna.add_problem(case, fc.ProblemInput(priority=1, domain="education",
                                                     description="Пропуски школи",
                                                     goal="4 дні на тиждень"))
    anna.update_problem(case, problem, fc.ProblemInput(target_date="2027-02-01",
                                                       status="in_progress"))
    activity = anna.add_activity(case, problem, fc.ActivityInput(
        description="Зустріч із вчителькою",
        responsible=fc.ResponsibleInput(kind="partner", organisation="Школа №5"),
        due_date="2026-11-20", frequency="weekly"))
    anna.set_activity_status(case, problem, activity, fc.ActivityStatus.IN_PROGRESS())
    anna.set_next_review(case, "2027-01-15")
    anna.record_family_agreement(case, fc.AgreementInput(agreed=True, date="2026-11-04",
                                                         by="Анна"))
    anna.request_plan_approval(case)
    for decide in (anna.approve_plan, anna.return_plan):
        with pytest.raises(fc.FieldcaseError.Unauthorized):
            decide(case, "a worker decides nothing")
    with pytest.raises(fc.FieldcaseError.InvalidTransition):
        anna.change_stage(case, fc.Stage.IMPLEMENTATION())

    f = anna.get_case(case)
    assert (f.priority, f.client.kind, f.client.gender) == ("high", "family", "female")
    assert f.client.languages == ["ru", "uk"] and f.client.birth_date_approximate
    assert f.client.contacts[0].safe_to_contact is False
    assert f.client.household[0].name == "Марко" and f.client.household[0].lives_with_client
    assert f.intake.criteria.cannot_access_alone and f.intake.source == "school"
    assert f.case_kind == fc.CaseKind.FAMILY_IN_DIFFICULTY()
    assert f.intake.referring_organisation == "Школа №5" and f.intake.preliminary_risk is None
    withdrawn = [c for c in f.consents if c.id == photo][0]
    assert (withdrawn.withdrawn_on, withdrawn.withdrawn_reason) == ("2026-11-03",
                                                                    "changed her mind")
    assert f.assessments[0].domains["education"].rating == 2
    assert f.assessments[0].risk.conclusion == "спостерігати"
    p = f.plan.problems[0]
    assert (p.target_date, p.status, p.goal) == ("2027-02-01", "in_progress",
                                                 "4 дні на тиждень")
    assert p.activities[0].status == fc.ActivityStatus.IN_PROGRESS()
    assert p.activities[0].responsible.organisation == "Школа №5"
    assert f.plan.next_review == "2027-01-15" and f.plan.family_agreement.agreed
    assert f.plan.approval.status == fc.ApprovalStatus.REQUESTED()

    # The supervisor returns the plan from her phone, then approves the second request.
    sync(anna, anna_s)
    assert sync(malee, malee_s).new_cases == 1
    malee.return_plan(case, "Додайте психолога")
    sync(malee, malee_s)
    sync(anna, anna_s)
    approval = anna.get_case(case).plan.approval
    assert (approval.status, approval.comment) == (fc.ApprovalStatus.RETURNED(),
                                                   "Додайте психолога")
    anna.request_plan_approval(case)
    sync(anna, anna_s)
    sync(malee, malee_s)
    malee.approve_plan(case, "Добре")
    sync(malee, malee_s)
    sync(anna, anna_s)
    assert anna.get_case(case).plan.approval.decided_by == malee_s.user_id
    anna.change_stage(case, fc.Stage.IMPLEMENTATION())

    # The work: a referral declined, a visit with a follow-up, a missed appointment.
    referral = anna.add_referral(case, fc.ReferralInput(
        organisation="Центр допомоги", service="психолог", reason="тривожність",
        consent_id=consent))
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        anna.set_referral_status(case, referral, fc.ReferralStatus.DECLINED(), "черга повна",
                                 None)
    anna.set_referral_status(case, referral, fc.ReferralStatus.DECLINED_BY_ORGANISATION(),
                             "черга повна", None)
    visit = anna.add_visit(case, fc.VisitInput(date="2026-11-10", kind="home",
                                               participants=["Анна", "Марко"],
                                               duration_minutes=45,
                                               note="Марко ходив до школи тричі."))
    anna.add_follow_up(case, visit, fc.FollowUpInput(text="подзвонити вчительці",
                                                     due_date="2026-11-12"))
    appointment = anna.add_appointment(case, fc.AppointmentInput(
        at="2026-11-15T10:00:00Z", place="поліклініка", purpose="огляд",
        attendance_needs="проїзний"))
    anna.set_appointment_status(case, appointment, fc.AppointmentStatus.MISSED())
    f = anna.get_case(case)
    r = f.referrals[0]
    assert (r.status, r.status_reason, r.consent_id) == (fc.ReferralStatus.DECLINED_BY_ORGANISATION(),
                                                         "черга повна", consent)
    v = f.visits[0]
    assert (v.duration_minutes, v.participants) == (45, ["Анна", "Марко"])
    assert v.follow_ups[0].text == "подзвонити вчительці"
    a = f.appointments[0]
    assert (a.status, a.attendance_needs) == (fc.AppointmentStatus.MISSED(), "проїзний")

    # Review, then a closure returned and a second one approved; reopening keeps both.
    anna.change_stage(case, fc.Stage.MONITORING())
    anna.change_stage(case, fc.Stage.REVIEW())
    anna.add_review(case, fc.ReviewInput(
        date="2027-01-15",
        progress=[fc.ProgressInput(problem_id=problem, status="achieved", note="ходить")],
        risk=fc.RiskInput(conclusion="ризики знизились"), satisfaction=4,
        decision="close", client_opinion="Анна задоволена", new_supports="бабуся поруч"))
    closure = anna.request_closure(case, fc.ClosureInput(reason="goals_achieved",
                                                         outcome="Марко ходить до школи"))
    with pytest.raises(fc.FieldcaseError.Unauthorized):
        anna.approve_closure(case, closure, "")
    sync(anna, anna_s)
    sync(malee, malee_s)
    malee.return_closure(case, closure, "Ще місяць спостереження")
    sync(malee, malee_s)
    sync(anna, anna_s)
    f = anna.get_case(case)
    assert f.stage == fc.Stage.REVIEW()
    assert f.closures[0].status == fc.ClosureStatus.RETURNED()
    assert f.reviews[0].progress[0].status == "achieved" and f.reviews[0].satisfaction == 4
    second = anna.request_closure(case, fc.ClosureInput(
        reason="goals_achieved", outcome="Стабільно", informed=True,
        informed_on="2027-01-20", informed_how=fc.InformedHow.HOME_VISIT()))
    sync(anna, anna_s)
    sync(malee, malee_s)
    malee.approve_closure(case, second, "Добре")
    sync(malee, malee_s)
    sync(anna, anna_s)
    assert anna.get_case(case).stage == fc.Stage.CLOSED()
    anna.reopen(case, "нове повідомлення зі школи")
    f = anna.get_case(case)
    assert f.stage == fc.Stage.INTAKE() and len(f.closures) == 2
    assert f.closures[1].reopen_reason == "нове повідомлення зі школи"

    # A visit recorded on the wrong case is retracted, never deleted.
    anna.retract(case, f"visits/{visit}", "wrong family")
    assert anna.get_case(case).visits[0].retracted.reason == "wrong family"

    # Assignment and restriction are the supervisor's.
    with pytest.raises(fc.FieldcaseError.Unauthorized):
        anna.assign(case, [anna_s.user_id], None)
    anna.set_restricted(case, True)
    with pytest.raises(fc.FieldcaseError.Unauthorized):
        anna.set_restricted(case, False)
    sync(anna, anna_s)
    sync(malee, malee_s)
    malee.assign(case, [anna_s.user_id, bao_s.user_id], bao_s.user_id)
    sync(malee, malee_s)
    sync(anna, anna_s)
    f = anna.get_case(case)
    assert sorted(f.assigned) == sorted([anna_s.user_id, bao_s.user_id])
    assert (f.case_manager, str(f.sensitivity)) == (bao_s.user_id, "restricted")
    assert anna.get_case(case) == malee.get_case(case)

    # The whole case moves between stores as Automerge bytes.
    other = open_store(fc, tmp_path / "other.sqlite", bytes([9] * 32))
    assert other.import_case(anna.export_case(case)) == case
    assert other.get_case(case) == anna.get_case(case)

    # Wrong credentials and an ended session are refused as such.
    with pytest.raises(fc.FieldcaseError.Unauthorized):
        run(other.login(server.url, "anna", "not her password", "other phone"))
    run(anna.logout(server.url, anna_s.token))
    with pytest.raises(fc.FieldcaseError.Unauthorized):
        run(anna.sync(server.url, anna_s.token))
    with pytest.raises(fc.FieldcaseError.NotSignedIn):
        anna.add_visit(case, fc.VisitInput(kind="phone", note="after logout"))
    assert len(anna.get_case(case).visits) == 1, "the store still holds the case"
