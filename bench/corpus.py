"""The hostile-input corpus of bench_security.py: requests a probe would send, each with what to expect."""
from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from app import db
from app.models import Course, Student

NAMES = ["Ann\nSmith", "Ann\r\nBcc: x@evil.example", "Tab\there", "Nul\x00", "Bell\x07", "\u2028", "A" * 5000,
         "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "' OR 1=1 --", "😀" * 50, "\u202eevil", "", " "]
URLS = ["http://127.0.0.1/", "http://localhost:5000/", "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/", "http://[::1]/", "http://2130706433/", "http://0x7f000001/", "http://0/",
        "rtsp://224.0.0.1/", "file:///etc/passwd", "gopher://127.0.0.1:25/", "http://", "http://a:b@:99999/",
        "rtsp://no-such-host.invalid/", "x" * 3000]
WEBCAMS = ["²", "١", "-1", "100", "9" * 5000, "0x1", "", " ", "1e3"]
NEXTS = ["////evil.example/", "/\\evil.example", "%2F%2Fevil.example", "https:evil.example", "//evil.example",
         "javascript:alert(1)", "/\t/evil.example"]
INTS = ["0", "99999999999999999999999", "-1", "1.5", "abc", "١"]
QUERY_VALUES = ["", "x", "-1", "0", "99999999999999999999999", "2026-13-45", "../../etc/passwd", "\x00", "%00",
                "a" * 10000]


@dataclass
class Hostile:
    """One request, and how to describe the answer when it is a refusal worth listing."""

    label: str
    method: str
    path: str
    data: Any = None
    query: dict | None = None
    content_type: str | None = None
    headers: dict = field(default_factory=dict)
    follow: bool = True
    refusal: bool = False
    relogin: bool = False
    anonymous: bool = False  # sent by a client that is not logged in (sign-up)
    pattern: str = ""  # where the answer is not a flash: the sentence containing this

    def explain(self, body: str, response: Any) -> str:
        """The message a teacher reads: the flash, a field error, the error page, or the Location."""
        if response.status_code in (301, 302, 303):
            return f"redirect to {response.headers.get('Location')}"
        if self.pattern and (match := re.search(rf"[^<>]*{self.pattern}[^<>]*", body)):
            return html.unescape(match.group(0)).strip()[:260]
        found = re.findall(r'<p class="flash flash-error"[^>]*>(.*?)</p>|<small class="error"[^>]*>(.*?)</small>'
                           r'|<h1>\d{3}</h1>\s*<p>(.*?)</p>', body, re.S)
        texts = [html.unescape(next(t for t in groups if t)) for groups in found]
        text = " / ".join(dict.fromkeys(t.strip() for t in texts)) or body.strip()[:200]
        return re.sub(r"\s+", " ", text)[:260]


def hostile_requests(app) -> Iterator[Hostile]:
    """Anonymous probes, then a logged-in teacher's hostile forms, uploads, ids and query strings."""
    with app.app_context():
        course = Course(teacher_id=1, name="Bio", recognizer_version=None)
        db.session.add(course)
        db.session.commit()
        course_id = course.id
        student = Student(course_id=course_id, name="Sam", roll_number="1")
        db.session.add(student)
        db.session.commit()
        student_id = student.id
        rules = [(r.rule, sorted(r.methods - {"HEAD", "OPTIONS"})) for r in app.url_map.iter_rules()]
    for name in NAMES:
        short = repr(name[:20])
        yield Hostile(f"course name {short}", "POST", "/courses/create", data={"name": name, "features": "pixels"},
                      refusal=name in NAMES[:3] + ["A" * 5000])
        yield Hostile(f"student name {short}", "POST", f"/courses/{course_id}/students/new",
                      data={"name": name, "roll_number": "77"}, refusal=name == NAMES[1])
        yield Hostile(f"roll number {short}", "POST", f"/students/{student_id}/edit",
                      data={"name": "Sam", "roll_number": name})
        yield Hostile(f"sign-up name {short}", "POST", "/auth/signup", anonymous=True, refusal=name == NAMES[1], data={
            "name": name, "email": "new@example.com", "password": "violet tram mango", "confirm": "violet tram mango"})
    yield Hostile("sign-up password 'password1'", "POST", "/auth/signup", refusal=True, anonymous=True, data={
        "name": "N", "email": "p@example.com", "password": "password1", "confirm": "password1"})
    yield Hostile("sign-up password '12345678'", "POST", "/auth/signup", refusal=True, anonymous=True, data={
        "name": "N", "email": "q@example.com", "password": "12345678", "confirm": "12345678"})
    yield Hostile("sign-up with an email that has an account", "POST", "/auth/signup", refusal=True, anonymous=True, data={
        "name": "N", "email": "ada@example.com", "password": "violet tram mango", "confirm": "violet tram mango"})
    for url in URLS:
        yield Hostile(f"camera URL {url[:40]!r}", "POST", "/attendance/start", refusal=url in URLS[:9],
                      data={"course_id": course_id, "source_kind": "url", "url": url})
    for index in WEBCAMS:
        yield Hostile(f"webcam number {index[:12]!r}", "POST", "/attendance/start", refusal=index in ("²", "9" * 5000),
                      data={"course_id": course_id, "source_kind": "webcam", "webcam_index": index})
    for value in ("../../etc/passwd", "/etc/passwd", "\x00", "a" * 5000):
        yield Hostile(f"listed video {value[:16]!r}", "POST", "/attendance/start",
                      data={"course_id": course_id, "source_kind": "video", "video": value})
    for cid in ("99999999999999999999999", "-1", "x", "", "1e9"):
        yield Hostile(f"start course_id={cid[:12]}", "POST", "/attendance/start",
                      data={"course_id": cid, "source_kind": "webcam", "webcam_index": "0"})
    csvs = {"a 200 KB cell": 'name,roll\n"' + "A" * 200_000 + '",1\n', "NUL bytes": "a\x00b,1\n",
            "binary": "\x89PNG\r\n\x1a\n\x00\x00", "3000 rows": "".join(f"S{i},{i}\n" for i in range(3000)),
            "a line break in a name": '"Two\nLines",5\n', "latin-1 bytes": None}
    for label, text in csvs.items():
        payload = text.encode() if text is not None else "Jos\xe9,9\n".encode("latin-1")
        yield Hostile(f"roster CSV with {label}", "POST", f"/courses/{course_id}/students/import",
                      data={"roster": (io.BytesIO(payload), "r.csv")}, content_type="multipart/form-data",
                      refusal=label in ("a 200 KB cell", "a line break in a name", "3000 rows"),
                      pattern="must be on one line" if label == "a line break in a name" else "")
    for video in ((b"\x00" * 100, "lesson.mp4"), (b"x", "../../x.mp4"), (b"x", "a.exe"), (b"", "")):
        yield Hostile(f"attendance upload {video[1]!r}", "POST", "/attendance/start", content_type="multipart/form-data",
                      data={"course_id": course_id, "source_kind": "upload", "video_file": (io.BytesIO(video[0]), video[1])})
    for value in QUERY_VALUES:
        for path in ("/reports/", f"/reports/courses/{course_id}", f"/reports/courses/{course_id}/export.xlsx",
                     f"/reports/students/{student_id}"):
            yield Hostile(f"query {path} {value[:12]!r}", "GET", path,
                          query={"page": value, "start": value, "end": value, "sort": value, "status": value,
                                 "show": value, "q": value})
    yield Hostile("JSON asked of a missing page", "GET", "/courses/424242", headers={"Accept": "application/json"})
    for target in NEXTS:
        yield Hostile(f"login ?next={target!r}", "POST", "/auth/login", query={"next": target}, follow=False,
                      refusal=target == NEXTS[0], relogin=True,
                      data={"email": "ada@example.com", "password": "correct horse"})
    # Last: every route with hostile values in its id slots (GET and POST; deletes and logout included).
    for rule, methods in rules:
        slots = re.findall(r"<(?:(\w+):)?(\w+)>", rule)
        for value in (INTS if slots else [""]):
            path = re.sub(r"<(?:\w+:)?\w+>", value, rule)
            for method in methods:
                yield Hostile(f"{method} {rule} id={value[:12]}", method, path, data={}, follow=False,
                              relogin=True)
