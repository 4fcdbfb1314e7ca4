"""Supervision on the record and a duplicate closed (schema revision 4) through the
generated Python: a worker records her own review of the handling of the case offline, a
supervisor's phone records a case conference and closes a second file of the same client
as its duplicate, and both reach the worker's phone; a worker's phone may not write a
supervisor's review."""

import pytest

from conftest import run


def test_supervision_and_a_duplicate_travel_between_phones(fc, phone, server):
    anna, session = phone("anna")
    case = anna.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Фёдорова Анна")))
    twin = anna.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Fedorova Anna")))
    own = anna.add_supervision(case, fc.SupervisionInput(
        kind=fc.SupervisionKind.SELF_REVIEW(), date="2026-12-01",
        learning="Спросить мнение ребёнка раньше"))
    with pytest.raises(fc.FieldcaseError.Unauthorized):
        anna.add_supervision(case, fc.SupervisionInput(
            kind=fc.SupervisionKind.SUPERVISOR_REVIEW(), date="2026-12-01"))
    with pytest.raises(fc.FieldcaseError.Unauthorized):
        anna.close_as_duplicate(twin, case, "")
    assert run(anna.sync(server.url, session.token)).errors == []

    malee, malee_session = phone("malee")
    assert run(malee.sync(server.url, malee_session.token)).errors == []
    malee.add_supervision(case, fc.SupervisionInput(
        kind=fc.SupervisionKind.CASE_CONFERENCE(), date="2026-12-02",
        participants=["Школа № 3", "Поликлиника"], decisions="Направить к психологу"))
    closure = malee.close_as_duplicate(twin, case, "один человек")
    assert run(malee.sync(server.url, malee_session.token)).errors == []

    assert run(anna.sync(server.url, session.token)).errors == []
    file = anna.get_case(case)
    kinds = sorted(str(s.kind) for s in file.supervision)
    assert kinds == ["case_conference", "self_review"]
    assert any(s.id == own and s.learning == "Спросить мнение ребёнка раньше" for s in file.supervision)
    closed = anna.get_case(twin)
    assert closed.stage == fc.Stage.CLOSED()
    c = [c for c in closed.closures if c.id == closure][0]
    assert (c.reason, c.duplicate_of) == ("duplicate", case)
