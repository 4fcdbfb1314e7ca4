"""Attachments (issue 17) through the generated Python: a signature drawn on the screen and
a photo the camera wrote to a file are attached offline, uploaded by the next sync, and
fetched by a colleague's phone when opened; a file that is none of the kinds an attachment
may be is refused with a typed error."""

import pytest

from conftest import run

PNG = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]) + b"IHDR"


def test_a_signature_and_a_photo_travel_to_a_colleague(fc, phone, server, tmp_path):
    anna, session = phone("anna")
    case = anna.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Nguyễn Thị Lan")))
    consent = anna.record_consent(case, fc.ConsentInput(
        topic="information_sharing", given_by="Nguyễn Thị Hoa", granted=True, date="2026-12-01"))

    signature = PNG + "nét chữ ký ".encode() * 50
    signed = anna.attach_bytes(case, signature, fc.AttachmentInput(
        kind=fc.AttachmentKind.SIGNATURE(), about=f"consents/{consent}"))
    assert signed.media_type == "image/png"
    assert signed.kind == fc.AttachmentKind.SIGNATURE()
    assert signed.about == f"consents/{consent}"

    photo_file = tmp_path / "IMG_0001.jpg"
    photo = b"%PDF-1.7\n" + "Giấy khai sinh ".encode() * 40000  # a scan saved as PDF
    photo_file.write_bytes(photo)
    scan = run(anna.attach_file(case, str(photo_file), fc.AttachmentInput(
        kind=fc.AttachmentKind.DOCUMENT(), caption="Giấy khai sinh")))
    # What it is comes from its bytes, not its name.
    assert scan.media_type == "application/pdf"
    assert scan.size == len(photo)
    assert anna.attachment_state(case, scan.id) == fc.AttachmentState.TO_UPLOAD

    report = run(anna.sync(server.url, session.token))
    assert report.errors == []
    assert report.attachments_uploaded == 2
    assert anna.attachment_state(case, scan.id) == fc.AttachmentState.UPLOADED

    server.post(f"/v1/cases/{case}/assignment", session_of(phone, "malee"),
                {"workers": ["anna", "bao"]})
    bao, bao_session = phone("bao")
    run(bao.sync(server.url, bao_session.token))
    assert bao.attachment_state(case, scan.id) == fc.AttachmentState.NOT_HERE
    with pytest.raises(fc.FieldcaseError.NotFound):
        bao.attachment_bytes(case, scan.id)
    assert run(bao.fetch_attachments_of(server.url, bao_session.token, case)) == 2
    assert bao.attachment_bytes(case, scan.id) == photo
    out = tmp_path / "opened.pdf"
    bao.save_attachment_to(case, signed.id, str(out))
    assert out.read_bytes() == signature


def session_of(phone, user):
    return phone(user)[1].token


def test_a_file_of_no_allowed_kind_is_refused(fc, phone):
    anna, _ = phone("anna")
    case = anna.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Фёдорова Анна")))
    with pytest.raises(fc.FieldcaseError.InvalidInput) as refused:
        anna.attach_bytes(case, b"#!/bin/sh\necho hi\n", fc.AttachmentInput())
    assert "none of the kinds" in str(refused.value)
    assert anna.get_case(case).attachments == []
