"""Duplicate detection at intake (issue 19), through the generated Python: before a new
case is saved, the phone proposes the cases it holds whose client may be the same person,
offline, with a band and the reasons as codes (never text holding client data)."""

import pytest

from conftest import run

def test_intake_proposes_the_client_written_another_way(fc, phone):
    anna, _ = phone("anna")

    def new_case(name, dob=None):
        return fc.NewCase(team="north", client=fc.ClientInput(name=name, date_of_birth=dob))

    lan = anna.create_case(new_case("Nguyễn Thị Lan", "1990-05-01"))
    fedorova = anna.create_case(new_case("Фёдорова Анна", "1988-03-01"))
    anna.create_case(new_case("Фёдорова Мария", "1988-03-01"))
    anna.add_contact(fedorova, fc.ContactInput(kind="phone", value="+380 50 123 4567"))

    # Written without diacritics, in Latin letters.
    found = anna.possible_matches(new_case("Nguyen Thi Lan", "1990-05-01"))
    assert [(m.case_id, m.client_name, m.band) for m in found] == [
        (lan, "Nguyễn Thị Lan", fc.MatchBand.LIKELY)]
    assert found[0].reasons == [fc.MatchReason.SAME_NAME(transliterated=False),
                                fc.MatchReason.SAME_DATE_OF_BIRTH()]
    assert found[0].score == 90

    # Transliterated from Cyrillic; the sister with the same family name and date of
    # birth is not proposed.
    found = anna.possible_matches(new_case("Fedorova Anna", "1988-03-01"))
    assert [(m.case_id, m.client_name, m.band) for m in found] == [
        (fedorova, "Фёдорова Анна", fc.MatchBand.LIKELY)]
    assert found[0].reasons == [fc.MatchReason.SAME_NAME(transliterated=True),
                                fc.MatchReason.SAME_DATE_OF_BIRTH()]

    # A typo and an approximate year: still proposed, as possible.
    found = anna.possible_matches(fc.NewCase(team="north", client=fc.ClientInput(
        name="Fedorva Anna", date_of_birth="1986", birth_date_approximate=True)))
    assert [(m.case_id, m.band) for m in found] == [(fedorova, fc.MatchBand.POSSIBLE)]
    assert found[0].reasons == [
        fc.MatchReason.NAME_DIFFERS(letters=1, transliterated=True),
        fc.MatchReason.DATE_OF_BIRTH_WITHIN_WINDOW(years=2)]

    assert anna.possible_matches(new_case("Trần Văn Hùng", "1990-05-01")) == []


def test_the_server_names_only_matches_the_user_may_see(fc, server, phone):
    """Across the agency (the server's check when a case arrives): Bảo, who is not
    assigned Anna's case, learns only the team; Malee, their supervisor, gets it named."""
    anna, anna_s = phone("anna")
    bao, bao_s = phone("bao")
    malee, malee_s = phone("malee")

    def new_case(store, name):
        return store.create_case(fc.NewCase(team="north", client=fc.ClientInput(
            name=name, date_of_birth="1988-03-01", gender="female")))

    fedorova = new_case(anna, "Фёдорова Анна")
    assert run(anna.sync(server.url, anna_s.token)).errors == []
    again = new_case(bao, "Fedorova Anna")
    assert run(bao.sync(server.url, bao_s.token)).errors == []

    found = run(bao.agency_matches(server.url, bao_s.token, again))
    assert found.case_id == again
    assert found.matches == []
    assert found.elsewhere == [fc.MatchElsewhere(team="north")]

    found = run(malee.agency_matches(server.url, malee_s.token, again))
    assert [(m.case_id, m.client_name, m.band, m.status) for m in found.matches] == [
        (fedorova, "Фёдорова Анна", fc.MatchBand.LIKELY, fc.MatchStatus.OPEN)]
    assert fc.MatchReason.SAME_DATE_OF_BIRTH() in found.matches[0].reasons
    assert found.elsewhere == []

    # A case Bảo may not see answers as one that does not exist (the server's 404).
    with pytest.raises(fc.FieldcaseError.Network):
        run(bao.agency_matches(server.url, bao_s.token, fedorova))
