"""The partner directory (issue 16) through the generated Python: an HSDS 3.0 data package
written by hand (as another system would) is imported with the server's command line; a
phone gets it by sync and finds services offline, in five scripts, by life domain, area,
language and age. The phone has no call that edits it."""

import csv
import urllib.parse
import urllib.request
import json

import pytest

from conftest import run


def write_package(folder):
    """A small HSDS 3.0 tabular package: two organisations, five services, two locations,
    a taxonomy whose terms map to life domains (our attribute rows), names in English."""
    folder.mkdir()
    tables = {
        "organization": (["id", "name", "description"], [
            ["o-vn", "Bệnh viện Nhi Trung ương", "Children's hospital"],
            ["o-ua", "Центр правової допомоги", "Legal aid centre"],
        ]),
        "service": (["id", "organization_id", "name", "status", "minimum_age", "maximum_age"], [
            ["s-clinic", "o-vn", "Khám bệnh cho trẻ em", "active", "0", "16"],
            ["s-counsel", "o-vn", "Tư vấn tâm lý", "temporarily closed", "", ""],
            ["s-legal", "o-ua", "Безоплатна правова допомога", "active", "18", ""],
            ["s-thai", "o-ua", "บ้านพักฉุกเฉิน", "active", "", ""],
            ["s-gone", "o-ua", "مشاوره حقوقی", "inactive", "", ""],
        ]),
        "location": (["id", "location_type", "organization_id", "name"], [
            ["l-hn", "physical", "o-vn", "Hà Nội"],
            ["l-kyiv", "physical", "o-ua", "Київ"],
        ]),
        "address": (["id", "location_id", "address_1", "city", "state_province", "postal_code",
                     "country", "address_type"], [
            ["a-hn", "l-hn", "18/879 La Thành", "Hà Nội", "Hà Nội", "100000", "VN", "physical"],
            ["a-kyiv", "l-kyiv", "вул. Хрещатик 1", "Київ", "Київ", "01001", "UA", "physical"],
        ]),
        "service_at_location": (["id", "service_id", "location_id"], [
            ["sal-1", "s-clinic", "l-hn"], ["sal-2", "s-counsel", "l-hn"],
            ["sal-3", "s-legal", "l-kyiv"], ["sal-4", "s-thai", "l-kyiv"],
        ]),
        "phone": (["id", "service_id", "number"], [["p-1", "s-clinic", "+84 24 6273 8965"]]),
        "language": (["id", "service_id", "location_id", "code"], [
            ["lang-1", "", "l-hn", "vi"], ["lang-2", "s-legal", "", "uk"],
            ["lang-3", "s-legal", "", "ru"],
        ]),
        "taxonomy": (["id", "name", "description", "uri"], [
            ["t-local", "Local services", "", ""],
            ["t-domains", "life domains", "", "urn:fieldcase:taxonomy:life-domain"],
            ["t-names", "names", "", "urn:fieldcase:taxonomy:name"],
        ]),
        "taxonomy_term": (["id", "code", "name", "description", "taxonomy_id", "language"], [
            ["term-health", "health", "Health care", "", "t-local", ""],
            ["term-legal", "legal", "Legal help", "", "t-local", ""],
            ["d-physical", "physical_health", "physical_health", "", "t-domains", ""],
            ["d-legal", "legal_status", "legal_status", "", "t-domains", ""],
            ["n-en", "name-en", "name-en", "", "t-names", "en"],
        ]),
        "attribute": (["id", "link_id", "taxonomy_term_id", "link_entity", "value"], [
            ["at-1", "s-clinic", "term-health", "service", ""],
            ["at-2", "s-legal", "term-legal", "service", ""],
            ["at-3", "term-health", "d-physical", "taxonomy_term", ""],
            ["at-4", "term-legal", "d-legal", "taxonomy_term", ""],
            ["at-5", "s-clinic", "n-en", "service", "Children's clinic"],
        ]),
    }
    resources = []
    for table, (header, rows) in tables.items():
        with open(folder / f"{table}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
        resources.append({"name": table, "path": f"{table}.csv"})
    (folder / "datapackage.json").write_text(json.dumps({"resources": resources}))


def test_a_phone_finds_services_offline(fc, server, phone, tmp_path):
    write_package(tmp_path / "package")
    server.admin("directory", "import", str(tmp_path / "package"))

    anna, session = phone("anna")
    assert anna.directory_version() == 0
    assert anna.directory_search(fc.DirectoryFilter()) == []
    report = run(anna.sync(server.url, session.token))
    assert report.directory_updated and report.directory_version == 1
    again = run(anna.sync(server.url, session.token))
    assert not again.directory_updated and again.directory_version == 1

    server.stop()  # offline from here on
    server.stop = lambda: None

    def names(**kw):
        return [h.name for h in anna.directory_search(fc.DirectoryFilter(**kw))]

    # Without diacritics, in any case, by a part of a Thai word, by another language's name.
    assert names(query="kham benh") == ["Khám bệnh cho trẻ em"]
    assert names(query="ПРАВОВА") == ["Безоплатна правова допомога"]
    assert names(query="ฉุกเฉิน") == ["บ้านพักฉุกเฉิน"]
    assert names(query="children's clinic", display_language="en") == ["Children's clinic"]
    # Inactive services only when asked for.
    assert names(query="مشاوره") == []
    assert names(query="مشاوره", include_inactive=True) == ["مشاوره حقوقی"]

    assert names(domain="physical_health") == ["Khám bệnh cho trẻ em"]
    assert names(area="ha noi") == ["Khám bệnh cho trẻ em", "Tư vấn tâm lý"]
    assert names(language="uk") == ["Безоплатна правова допомога"]
    assert names(age=10, area="київ") == ["บ้านพักฉุกเฉิน"]

    hit = anna.directory_search(fc.DirectoryFilter(query="tu van"))[0]
    assert hit.status == fc.ServiceStatus.TEMPORARILY_CLOSED()
    assert hit.organization_name == "Bệnh viện Nhi Trung ương"

    entry = anna.directory_entry("s-clinic")
    assert entry.domains == ["physical_health"]
    assert [p.number for p in entry.service.phones] == ["+84 24 6273 8965"]
    assert entry.locations[0].addresses[0].city == "Hà Nội"
    with pytest.raises(fc.FieldcaseError.NotFound):
        anna.directory_entry("no-such-service")
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        anna.directory_search(fc.DirectoryFilter(domain="cooking"))

    # The phone has no call that edits the directory.
    assert not [n for n in dir(anna) if "directory" in n and n.startswith(("set", "edit", "put"))]


def test_a_phone_refers_to_a_directory_service_offline_with_consent(fc, server, phone, tmp_path):
    """Issue 16's referral: offline, a worker refers to a service found in the directory;
    without a consent that covers sharing the client's information it is refused, the
    names come from the directory, a free-text referral is linked later, and the steps of
    the loop reach the server with who and when."""
    write_package(tmp_path / "package")
    server.admin("directory", "import", str(tmp_path / "package"))
    anna, session = phone("anna")
    run(anna.sync(server.url, session.token))
    case = anna.create_case(fc.NewCase(team="north",
                                       client=fc.ClientInput(name="Коваленко Олена")))

    legal = anna.directory_search(fc.DirectoryFilter(query="правова"))[0]
    with pytest.raises(fc.FieldcaseError.InvalidInput) as no_consent:
        anna.add_referral(case, fc.ReferralInput(service_id=legal.service_id,
                                                 reason="розлучення"))
    assert "consent" in str(no_consent.value)
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        anna.add_referral(case, fc.ReferralInput(service_id="no-such-service",
                                                 shares_information=False))
    consent = anna.record_consent(case, fc.ConsentInput(
        topic="referral", given_by="Олена", granted=True, date="2026-11-20"))
    referral = anna.add_referral(case, fc.ReferralInput(
        service_id=legal.service_id, location_id="l-kyiv", reason="розлучення",
        consent_id=consent))
    told = anna.add_referral(case, fc.ReferralInput(organisation="BV Nhi",
                                                    shares_information=False))
    anna.link_referral(case, told, fc.ReferralLinkInput(service_id="s-clinic"))

    anna.set_referral_status(case, referral, fc.ReferralStatus.RECEIVED(), None, None)
    anna.set_referral_status(case, referral, fc.ReferralStatus.ACCEPTED(), None, None)
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        anna.set_referral_status(case, referral, fc.ReferralStatus.SENT(), None, None)

    f = anna.get_case(case)
    r = [x for x in f.referrals if x.id == referral][0]
    assert (r.organisation, r.service) == ("Центр правової допомоги",
                                           "Безоплатна правова допомога")
    assert [s.status for s in r.steps] == [fc.ReferralStatus.SENT(),
                                           fc.ReferralStatus.RECEIVED(),
                                           fc.ReferralStatus.ACCEPTED()]
    assert {s.recorded_by for s in r.steps} == {session.user_id}
    linked = [x for x in f.referrals if x.id == told][0]
    assert (linked.service_id, linked.organisation) == ("s-clinic", "BV Nhi")

    report = run(anna.sync(server.url, session.token))
    assert report.errors == [], report.errors
    malee, malee_s = phone("malee")
    run(malee.sync(server.url, malee_s.token))
    seen = [x for x in malee.get_case(case).referrals if x.id == referral][0]
    assert seen.status == fc.ReferralStatus.ACCEPTED() and len(seen.steps) == 3

    # Online, Anna asks the server for a link the partner answers through, in Ukrainian.
    link = run(anna.make_partner_link(server.url, session.token, case, referral, "uk"))
    assert link.url.startswith(server.url + "/p/") and link.expires_at > 0
    with urllib.request.urlopen(link.url) as page:
        text = page.read().decode()
    assert 'lang="uk"' in text and "Коваленко Олена" in text
    answer = urllib.parse.urlencode({"status": "service_started",
                                     "feedback": "перша консультація 3 грудня"}).encode()
    with urllib.request.urlopen(urllib.request.Request(link.url, data=answer)) as done:
        assert done.status == 200 and "Вашу відповідь записано" in done.read().decode()
    run(anna.sync(server.url, session.token))
    r = [x for x in anna.get_case(case).referrals if x.id == referral][0]
    assert r.status == fc.ReferralStatus.SERVICE_STARTED()
    assert r.feedback == "перша консультація 3 грудня"
    assert r.steps[-1].recorded_by != session.user_id, "the partner's own step"
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        run(anna.make_partner_link(server.url, session.token, case, "../x", "uk"))
