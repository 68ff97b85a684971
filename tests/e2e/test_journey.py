"""The teacher's whole journey in headless Chromium, from sign-up to the unknown-person email."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import DATASETS

from .conftest import TIMEOUT_MS
from live_media import PEOPLE, UNKNOWN, scene_frames, wait_for, write_video

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "ada@school.example", "correct horse battery"
# The enrolled people (faces94 folders) under class-list names; their first PHOTOS frames are uploaded,
# the live video shows their later frames, so the camera never sees an enrolled image.
STUDENTS = [("Ava Martin", "A01", PEOPLE[0]), ("Ben Okafor", "A02", PEOPLE[1]), ("Chloe Ng", "A03", PEOPLE[2])]
PHOTOS = 8
# Pages the journey reached (name -> URL), for the phone-width and keyboard checks after it.
REACHED: dict[str, str] = {}


def photos_of(person: str, n: int = PHOTOS) -> list[str]:
    """The first n photos of a faces94 person in the frame order live_media uses (name.1.jpg, ...)."""
    def order(path: Path) -> int:
        return int("".join(ch for ch in path.stem.rsplit(".", 1)[-1] if ch.isdigit()) or 0)

    return [str(p) for p in sorted((DATASETS / "faces94" / person).glob("*.jpg"), key=order)[:n]]


def classroom_video(folder: Path) -> Path:
    """10 fps: an empty second, each person for 3 s (one unknown among them), then an empty room until Stop.

    3 s per person leaves room for a slow machine: marking needs 3 agreeing analysed frames.
    """
    people = [STUDENTS[0][2], UNKNOWN, STUDENTS[1][2], STUDENTS[2][2]]
    frames = scene_frames(people, frames_each=30, gap=5, start=PHOTOS)
    empty = frames[-1]
    frames = [empty] * 10 + frames + [empty] * 400  # the teacher stops the session long before the 40 s of empty room end
    return write_video(folder / "room-101.avi", frames, fps=10.0)


def test_first_attendance_from_sign_up_to_unknown_email(browser, live_server, mail_sink, e2e_dir, shot):
    from playwright.sync_api import expect

    classroom_video(e2e_dir / "videos")
    blank = e2e_dir / "empty-wall.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 200, np.uint8))
    # A teacher in Madrid: the browser's zone becomes the account's, and pages show times in it.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                  timezone_id="Europe/Madrid")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    base = live_server.url

    # Sign up: a wrong repeat first, so the error must show next to its field.
    page.goto(f"{base}/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Name").fill("Ada Teacher")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill("something else")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(".field.has-error", has=page.get_by_label("Repeat password"))).to_contain_text("differ")
    shot(page, "01-signup-error")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(".flash-success")).to_contain_text("Welcome, Ada Teacher")
    shot(page, "02-no-courses")

    # Create a course.
    page.get_by_role("link", name="Create your first course").click()
    page.get_by_label("Name").fill("Biology 101")
    page.get_by_role("button", name=re.compile("Create")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Biology 101")
    expect(page.locator("footer")).to_contain_text("times in CET")  # set from the browser on the first page
    shot(page, "03-new-course")

    # Three students, each with photos uploaded through the file input.
    for name, roll, person in STUDENTS:
        page.locator("#students").get_by_role("link", name="Add student").click()
        page.get_by_label("Name").fill(name)
        page.get_by_label("Roll number").fill(roll)
        page.get_by_role("button", name="Add student").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(name)
        extra = [str(blank)] if roll == "A01" else []  # a photo without a face: its reason shows by the field
        page.get_by_label("Photos").set_input_files(photos_of(person) + extra)
        page.get_by_role("button", name="Upload photos").click()
        expect(page.locator(".flash-success")).to_contain_text(f"Added {PHOTOS} face images")
        if extra:
            expect(page.locator(".field.has-error", has=page.get_by_label("Photos"))).to_contain_text(
                "empty-wall.png: rejected")
        expect(page.locator(".faces img")).to_have_count(PHOTOS)
        if roll == "A01":
            shot(page, "04-student-photos")
            REACHED["student"] = page.url
        page.get_by_role("link", name="Biology 101").first.click()
    expect(page.locator("#students tbody tr")).to_have_count(3)
    REACHED["course"] = page.url
    shot(page, "05-course-with-students")

    # Train, watch the progress page, see the result on the course page.
    page.get_by_role("button", name="Train recognizer").click()
    shot(page, "06-training")
    expect(page.locator("#job")).to_have_attribute("data-status", "done")
    expect(page.locator("#job")).to_contain_text("Students: 3")
    expect(page.locator("#job")).to_contain_text("Stranger check")
    shot(page, "07-trained")
    shot(page.locator("#job"), "doc-trained")
    page.get_by_role("link", name="Next: start attendance").click()
    expect(page.locator("#recognizer")).to_contain_text("version in use")

    # Start Attendance on the video file IT placed in CAMERA_VIDEO_DIR.
    panel = page.locator("#attendance")
    page.wait_for_load_state()  # the page script that links field and radio must be running (slow under load)
    panel.locator("select[name=video]").select_option("room-101.avi")
    expect(panel.get_by_role("radio", name="Video file")).to_be_checked()  # picking the file picks its kind
    shot(page, "08-start-attendance")
    shot(page.locator("#attendance"), "doc-start-attendance")  # no faces in it: docs/walkthrough.md
    panel.get_by_role("button", name="Start Attendance").click()
    expect(page.locator(".flash-success")).to_contain_text("Attendance started")
    marked = page.locator("#marked li")
    expect(marked).to_have_count(3, timeout=2 * TIMEOUT_MS)
    for name, roll, _ in STUDENTS:
        expect(page.locator("#marked")).to_contain_text(f"{name} ({roll})")
    expect(page.locator("#count-unknown")).not_to_have_text("0")
    shot(page, "09-live")
    REACHED["live"] = page.url
    page.get_by_role("button", name="Stop").click()
    expect(page.locator(".flash-success")).to_contain_text("Attendance stopped")
    expect(page.locator("#ended")).to_contain_text("This session has ended")
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    shot(page, "10-stopped")

    # The session table: three present; correct one by hand with a reason.
    expect(page.locator("#absent-label")).to_have_text("absent")  # the session is over: nobody is "not seen yet"
    page.get_by_role("link", name="Session table").click()
    rows = page.locator("table.roster tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="present")).to_have_count(3)
    expect(page.locator("#unknown .sentence").first).to_contain_text("% match")  # a sentence, not a raw score
    shot(page, "11-session")
    REACHED["session"] = page.url
    ben = rows.filter(has_text="Ben Okafor")
    ben.get_by_label("Reason for Ben Okafor").fill("left after ten minutes")
    ben.get_by_role("button", name="Mark absent").click()
    expect(page.locator(".flash-success")).to_contain_text("Attendance corrected")
    expect(page.locator("#audit")).to_contain_text("left after ten minutes")
    shot(page, "12-corrected")

    # Export CSV: the browser downloads it; the correction is in it.
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    table = {row["name"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(table) == {name for name, _, _ in STUDENTS}
    assert table["Ava Martin"]["status"] == "present" and table["Ava Martin"]["marked_by"] == "camera"
    assert table["Ben Okafor"]["status"] == "absent" and table["Ben Okafor"]["marked_by"] == "teacher"
    assert table["Chloe Ng"]["status"] == "present"

    # The unknown person's email reached the SMTP server with the snapshot attached.
    def unknown_mail():
        return next((m for m in mail_sink.messages if "unknown person" in m["Subject"]), None)

    assert wait_for(lambda: unknown_mail() is not None, 30), [m["Subject"] for m in mail_sink.messages]
    message = unknown_mail()
    assert message["To"] == EMAIL and "Biology 101" in message["Subject"]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "image/jpeg" and attachment.get_content().startswith(b"\xff\xd8")

    # The teacher sees it went out on the Settings page's outbox, and finds the session in the list.
    page.get_by_role("link", name="Settings").click()
    expect(page.locator("#outbox tr", has_text="unknown person")).to_contain_text("sent")
    shot(page, "13-settings-outbox")
    REACHED["settings"] = page.url
    page.goto(REACHED["session"])
    page.get_by_role("link", name="All sessions").click()
    expect(page.locator("main table")).to_contain_text("ended")
    REACHED["sessions"] = page.url
    context.close()


LATE = ("Dan Ellis", "A04", PEOPLE[3])


def test_review_loop_teaches_the_camera_a_student_it_did_not_know(browser, live_server, e2e_dir, shot):
    """Dan is enrolled after training: the camera calls him unknown; one click marks him and adds the face;
    after retraining the next session recognises him."""
    from playwright.sync_api import expect

    page = signed_in_page(browser, live_server, viewport={"width": 1280, "height": 900})
    name, roll, person = LATE
    frames = scene_frames([person], frames_each=30, gap=20, start=PHOTOS)
    write_video(e2e_dir / "videos" / "room-102.avi", [frames[-1]] * 10 + frames, fps=10.0)
    page.goto(REACHED["course"])
    page.locator("#students").get_by_role("link", name="Add student").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Roll number").fill(roll)
    page.get_by_role("button", name="Add student").click()
    page.get_by_label("Photos").set_input_files(photos_of(person))
    page.get_by_role("button", name="Upload photos").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Added {PHOTOS} face images")
    page.get_by_role("link", name="Biology 101").first.click()

    def attend() -> None:
        panel = page.locator("#attendance")
        page.wait_for_load_state()
        panel.locator("select[name=video]").select_option("room-102.avi")
        expect(panel.get_by_role("radio", name="Video file")).to_be_checked()
        panel.get_by_role("button", name="Start Attendance").click()
        # The video runs out by itself: the live page says so, has no Stop, and leads to the table.
        expect(page.locator("#ended")).to_be_visible(timeout=2 * TIMEOUT_MS)
        expect(page.locator("#ended")).to_contain_text("This session has ended")
        expect(page.get_by_role("button", name="Stop")).to_have_count(0)
        expect(page.locator("#table-link")).to_have_class(re.compile("btn-primary"))

    attend()
    expect(page.locator("#count-unknown")).to_have_text("1")
    expect(page.locator("#marked")).not_to_contain_text(name)
    shot(page, "14-ended-by-itself")
    shot(page.locator("#ended"), "doc-session-ended")

    page.get_by_role("link", name="Review faces").first.click()
    item = page.locator(".review-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Unknown face")
    expect(item.locator(".sentence")).to_have_text(re.compile(r"looks most like .+, \d+% match \(\d+% needed\)"))
    REACHED["review"] = page.url
    shot(page, "15-review")
    page.evaluate("document.querySelectorAll('.review-item img').forEach(i => i.style.visibility = 'hidden')")
    shot(item, "doc-review")  # the face hidden: no face images in docs/
    item.get_by_label("Someone else").select_option(label=f"{name} ({roll})")
    item.get_by_role("button", name="This is them").click()
    expect(page.locator(".flash-success")).to_contain_text(
        f"{name} is marked present; the face was added to their training photos.")
    expect(page.locator("#review-empty")).to_be_visible()
    page.get_by_role("link", name="Session table").click()
    dan = page.locator("table.roster tbody tr").filter(has_text=name)
    expect(dan).to_contain_text("present")
    expect(dan).to_contain_text("teacher")
    expect(page.locator("#audit")).to_contain_text(f"review: unknown face #")

    page.goto(REACHED["course"])
    expect(page.locator("#review-added")).to_contain_text("1 photo added from reviews since the last training")
    shot(page.locator("#recognizer"), "doc-review-added")
    page.get_by_role("button", name="Retrain").click()
    expect(page.locator("#job")).to_have_attribute("data-status", "done")
    expect(page.locator("#job")).to_contain_text("Students: 4, images: 33")  # 3 x 8 + Dan's 8 + the reviewed face
    page.get_by_role("link", name="Next: start attendance").click()
    expect(page.locator("#review-added")).to_have_count(0)

    attend()  # the next session: the camera knows Dan now
    expect(page.locator("#marked")).to_contain_text(f"{name} ({roll})")
    shot(page, "16-recognised-next-session")
    page.context.close()


def test_a_trial_session_is_excluded_then_deleted(browser, live_server, shot):
    from playwright.sync_api import expect

    page = signed_in_page(browser, live_server, viewport={"width": 1280, "height": 900})
    page.goto(REACHED["course"])
    page.get_by_role("link", name="All sessions").first.click()
    page.locator("main table tbody tr").first.get_by_role("link").first.click()
    page.get_by_role("button", name="Exclude from statistics").click()
    expect(page.locator("#excluded-note")).to_contain_text("Excluded from statistics")
    shot(page.locator("#manage-session"), "doc-manage-session")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete session").click()
    expect(page.locator(".flash-success")).to_contain_text("Deleted session #")
    page.context.close()


def signed_in_page(browser, live_server, **context_args):
    """A page of a new browser context logged in as the journey's teacher (skip if the journey never got there)."""
    if "session" not in REACHED:
        pytest.skip("needs the pages the journey creates (run the whole module)")
    context = browser.new_context(**context_args)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{live_server.url}/auth/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return page


def test_pages_fit_a_phone(browser, live_server, shot):
    from playwright.sync_api import expect

    page = signed_in_page(browser, live_server, viewport={"width": 390, "height": 844}, is_mobile=True,
                          has_touch=True, device_scale_factor=1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your courses")
    pages = {"courses": page.url, **REACHED}
    overflowing = {}
    for name, url in pages.items():
        page.goto(url)
        shot(page, f"phone-{name}")
        # Wider than the screen means sideways scrolling of the whole page (tables scroll inside .table-wrap).
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            overflowing[name] = width
    assert not overflowing, f"pages wider than a 390px phone: {overflowing}"
    page.context.close()


def test_keyboard_reaches_the_main_actions_with_visible_focus(browser, live_server):
    page = signed_in_page(browser, live_server, viewport={"width": 1280, "height": 900})
    page.goto(REACHED["course"])
    reached, invisible = [], []
    for _ in range(60):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => {
            const el = document.activeElement, style = getComputedStyle(el);
            const ring = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
            return {text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim(),
                    tag: el.tagName + (el.type ? '[' + el.type + ']' : ''), ring: ring || style.boxShadow !== 'none',
                    style: style.outlineStyle + ' ' + style.outlineWidth};
        }""")
        reached.append(info["text"])
        if not info["ring"] and info["tag"] != "BODY":  # BODY: focus went past the page's last control
            invisible.append(f"{info['tag']} {info['text']!r} (outline {info['style']})")
    assert reached[0] == "Skip to content", reached[:3]
    for action in ("Start Attendance", "Retrain", "Add student", "Ava Martin", "Log out"):
        assert action in reached, f"Tab never reaches {action!r}; reached {reached}"
    assert not invisible, f"focus is not visible on: {invisible}"
    page.context.close()


def test_correcting_a_mark_works_without_javascript(browser, live_server):
    from playwright.sync_api import expect

    page = signed_in_page(browser, live_server, java_script_enabled=False)
    page.goto(REACHED["session"])
    chloe = page.locator("table.roster tbody tr").filter(has_text="Chloe Ng")
    chloe.get_by_label("Reason for Chloe Ng").fill("checked the register by hand")
    chloe.get_by_role("button", name="Mark absent").click()
    expect(page.locator(".flash-success")).to_contain_text("Attendance corrected")
    expect(page.locator("#audit")).to_contain_text("checked the register by hand")
    page.goto(REACHED["live"])  # the live page lists who is present (Ava: the other two were corrected) without its script
    expect(page.locator("#marked")).to_contain_text("Ava Martin (A01)")
    expect(page.locator("#marked")).not_to_contain_text("Chloe Ng")
    page.context.close()
