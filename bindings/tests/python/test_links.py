"""Links between cases (issue 19), through the generated Python: a household member points
to the member's own case and a sibling's case is linked, holding only the case id and the
relation's code; bad input is refused with the field named; a link to a case the worker may
not see is refused by the server and kept on the phone; the server tells the cases
related to a case, both ways."""

import pytest

from conftest import run


def test_cases_link_to_each_other_by_id_and_relation(fc, server, phone):
    anna, anna_s = phone("anna")

    def new_case(name):
        return anna.create_case(fc.NewCase(team="north", client=fc.ClientInput(name=name)))

    child = new_case("Олександр Коваленко")
    sister = new_case("Марія Коваленко")
    mother = new_case("Олена Коваленко")
    # All made offline, linked before any of them reached the server: one sync takes
    # them all (the linking case goes again once the others are there).
    member = anna.add_household_member(child, fc.HouseholdMemberInput(
        name="Олена Коваленко", relationship="mother"))
    assert anna.link_case(child, member, mother, "parent") == member
    sibling = anna.link_case(child, None, sister, "sibling")

    household = anna.get_case(child).client.household
    assert [(m.id, m.case_id, m.case_relation) for m in household] == [
        (member, mother, "parent"), (sibling, sister, "sibling")]
    assert household[1].name is None

    with pytest.raises(fc.FieldcaseError.InvalidInput) as e:
        anna.link_case(child, None, "not a case", "sibling")
    assert "case_id" in str(e.value)
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        anna.link_case(child, None, sister, "sibling")
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        anna.link_case(child, None, child, "sibling")
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        anna.link_case(child, None, mother, "cousin")

    report = run(anna.sync(server.url, anna_s.token))
    assert report.errors == []
    malee, malee_s = phone("malee")
    assert run(malee.sync(server.url, malee_s.token)).new_cases == 3
    assert [m.case_id for m in malee.get_case(child).client.household] == [mother, sister]

    # Seen from the mother's case too, through the server.
    found = run(anna.related_cases(server.url, anna_s.token, mother))
    assert found.case_id == mother
    assert [(r.case_id, r.client_name, r.relation, r.case_relation) for r in found.related] == [
        (child, "Олександр Коваленко", fc.Relation.LISTS_THIS_CLIENT, "parent")]
    assert found.elsewhere == []

    # A case of Bảo's, which Anna may not see: refused, kept on the phone.
    bao, bao_s = phone("bao")
    theirs = bao.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Bảo's client")))
    assert run(bao.sync(server.url, bao_s.token)).errors == []
    anna.link_case(child, None, theirs, "relative")
    report = run(anna.sync(server.url, anna_s.token))
    assert len(report.errors) == 1
    assert "a link points only to a case its writer may see" in report.errors[0].reason
    assert report.errors[0].refusal == fc.RefusalKind.LINK
    assert theirs in [m.case_id for m in anna.get_case(child).client.household]
