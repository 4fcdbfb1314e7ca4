"""The boundary itself: each error arrives as its own variant, objects are freed, one
store serves several threads, text positions count Unicode scalar values."""

import gc
import os
import sqlite3
import threading

import pytest

from conftest import open_store, run


def offline_store(fc, tmp_path, name="phone"):
    return open_store(fc, tmp_path / f"{name}.sqlite", bytes([3] * 32))


def test_errors_map_to_their_variants(fc, tmp_path):
    path = str(tmp_path / "p.sqlite")
    store = open_store(fc, path, bytes([3] * 32))
    with pytest.raises(fc.FieldcaseError.WrongKey):
        open_store(fc, path, bytes([4] * 32))
    with pytest.raises(fc.FieldcaseError.InvalidInput) as e:
        open_store(fc, tmp_path / "q.sqlite", b"short")
    assert e.value.path == "key"
    with pytest.raises(fc.FieldcaseError.NotSignedIn):
        store.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Lan")))
    with pytest.raises(fc.FieldcaseError.NotFound):
        store.get_case("not-a-case-id")
    with pytest.raises(fc.FieldcaseError.Network):
        run(store.login("http://127.0.0.1:9", "anna", "whatever password", "p"))
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a store " * 400)
    with pytest.raises(fc.FieldcaseError.Corrupt):
        open_store(fc, bad, bytes([3] * 32))
    del store
    gc.collect()
    newer = sqlite3.connect(path)
    newer.execute("PRAGMA user_version = 999")
    newer.commit()
    newer.close()
    with pytest.raises(fc.FieldcaseError.VersionConflict) as e:
        open_store(fc, path, bytes([3] * 32))
    assert e.value.found == 999
    # No client data in error text.
    assert "Lan" not in str(e.value)


def test_schema_and_workflow_errors(fc, phone):
    store, _ = phone("anna")
    case = store.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Trần Lan")))
    with pytest.raises(fc.FieldcaseError.InvalidTransition) as e:
        store.change_stage(case, fc.Stage.CLOSED())
    assert e.value.to == fc.Stage.CLOSED()
    with pytest.raises(fc.FieldcaseError.InvalidInput) as e:
        store.set_field(case, "client/gender", '"martian"')
    assert e.value.path.endswith("gender")
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        store.set_field(case, "client/gender", "not json")
    with pytest.raises(fc.FieldcaseError.Unauthorized):
        store.approve_plan(case, "a worker cannot")
    with pytest.raises(fc.FieldcaseError.NotFound):
        store.add_activity(case, "no-such-problem", fc.ActivityInput(description="x"))
    assert "Trần" not in str(e.value)
    store.set_field(case, "client/gender", '"female"')
    assert store.get_case(case).client.gender == "female"


def open_descriptors():
    return len(os.listdir("/proc/self/fd"))


def test_objects_are_freed(fc, tmp_path):
    before = open_descriptors()
    for i in range(40):
        s = open_store(fc, tmp_path / f"s{i}.sqlite", bytes([i + 1] * 32))
        s.device_id()
        del s
    gc.collect()
    assert open_descriptors() <= before + 2, "every store's files were closed"


def test_one_store_serves_many_threads(fc, phone):
    store, _ = phone("anna")
    case = store.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="สมชาย")))
    errors = []

    def worker(n):
        try:
            for k in range(10):
                store.add_visit(case, fc.VisitInput(kind="home", note=f"thread {n} visit {k}"))
                store.list_cases(fc.CaseFilter(sort=fc.SortBy.LAST_CHANGE))
        except Exception as e:  # noqa: BLE001 - recorded and asserted below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    notes = sorted(v.note for v in store.get_case(case).visits)
    assert len(notes) == 80 and len(set(notes)) == 80


def test_text_positions_count_unicode_scalar_values(fc, phone):
    store, _ = phone("anna")
    case = store.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="زهرا")))
    visit = store.add_visit(case, fc.VisitInput(kind="home", note="เยี่ยมบ้าน"))
    path = f"visits/{visit}/note"
    text = "เยี่ยมบ้าน"
    at = text.index("บ้าน")
    store.edit_text(case, path, at, 0, "ครอบครัว ")
    assert store.get_case(case).visits[0].note == "เยี่ยมครอบครัว บ้าน"
    persian = "بازدید از منزل"
    store.edit_text(case, path, 0, len("เยี่ยมครอบครัว บ้าน"), persian)
    store.edit_text(case, path, persian.index("منزل"), len("منزل"), "خانه")
    assert store.get_case(case).visits[0].note == "بازدید از خانه"
    history = store.history(case, path)
    assert len(history) >= 3 and all(h.by.user_id for h in history)


def test_text_positions_outside_the_basic_plane(fc, phone):
    """An emoji is one position for edit_text and two for edit_text_utf16 (Kotlin, Swift,
    Android text fields); a UTF-16 position between its halves is refused."""
    store, _ = phone("anna")
    case = store.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Lan")))
    note = "Mẹ 👩‍👦 và bé"
    visit = store.add_visit(case, fc.VisitInput(kind="home", note=note))
    path = f"visits/{visit}/note"

    def utf16(s):
        return len(s.encode("utf-16-le")) // 2

    at = note.index(" và")
    store.edit_text(case, path, at, 0, " (vui)")
    note = note[:at] + " (vui)" + note[at:]
    assert store.get_case(case).visits[0].note == note
    at16 = utf16(note[:note.index(" và")])
    assert at16 > note.index(" và"), "the emoji counts twice in UTF-16"
    store.edit_text_utf16(case, path, at16, utf16(" và"), " cùng")
    note = note[:note.index(" và")] + " cùng" + note[note.index(" và") + 3:]
    assert store.get_case(case).visits[0].note == note
    inside = utf16("Mẹ ") + 1  # between the halves of 👩
    with pytest.raises(fc.FieldcaseError.InvalidInput) as e:
        store.edit_text_utf16(case, path, inside, 0, "x")
    assert e.value.path == path
    with pytest.raises(fc.FieldcaseError.InvalidInput):
        store.edit_text_utf16(case, path, utf16(note) + 1, 0, "x")
    store.edit_text_utf16(case, path, utf16(note), 0, " 🙂")
    assert store.get_case(case).visits[0].note == note + " 🙂"
