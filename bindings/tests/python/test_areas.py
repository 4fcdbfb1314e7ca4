"""The client's area (schema revision 5) through the generated Python: the agency's areas
reach the phone at sync, the client's area is set from them (a code the phone does not
hold is InvalidInput, before anything is written), and the server keeps it."""

import pytest

from conftest import run


def test_the_clients_area_is_chosen_from_the_areas_a_sync_brought(fc, phone, server):
    server.admin("area", "put", "00004", "Xã Phú Mỹ")
    server.admin("area", "put", "00001", "Xã Tân Phú")
    anna, session = phone("anna")
    assert anna.areas() == []
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        anna.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Lan", area="00004")))
    assert run(anna.sync(server.url, session.token)).errors == []
    areas = anna.areas()
    assert [(a.code, a.name) for a in areas] == [("00001", "Xã Tân Phú"), ("00004", "Xã Phú Mỹ")]

    case = anna.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Nguyễn Thị Lan", area="00004")))
    assert anna.get_case(case).client.area == "00004"
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        anna.update_client(case, fc.ClientInput(area="99999"))
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        anna.set_field(case, "client/area", '"99999"')
    anna.update_client(case, fc.ClientInput(area="00001"))
    assert anna.get_case(case).client.area == "00001"
    assert run(anna.sync(server.url, session.token)).errors == []

    # Renamed on the server: the case keeps the code, the phone the new name.
    server.admin("area", "put", "00001", "Thị trấn Tân Phú")
    assert run(anna.sync(server.url, session.token)).errors == []
    assert [a.name for a in anna.areas() if a.code == "00001"] == ["Thị trấn Tân Phú"]
    assert anna.get_case(case).client.area == "00001"
