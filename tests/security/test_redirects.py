"""Promise 4: every redirect target taken from a request is a same-site path, judged on the final value
by one helper (app/redirects.py) used by login's ?next= and the correction form's next field."""
from __future__ import annotations

import pytest

from app.redirects import is_same_site_path, safe_redirect_target

HOSTILE = [
    "////evil.example/", "//evil.example", "/\\evil.example", "\\\\evil.example", "/\\/evil.example",
    "%2F%2Fevil.example", "/%2F/evil.example", "/%5Cevil.example", "https:evil.example", "https://evil.example/x",
    "javascript:alert(1)", "evil.example", "/\t/evil.example", "/\n/evil.example", " //evil.example",
    "http:/evil.example", "", None,
]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_are_refused(target):
    assert not is_same_site_path(target)
    assert safe_redirect_target(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", ["/courses/", "/courses/3?tab=students", "/reports/sessions/2?show=absent#x"])
def test_same_site_paths_are_kept(target):
    assert safe_redirect_target(target, "/fallback") == target


@pytest.mark.parametrize("target", HOSTILE[:12])
def test_login_never_redirects_off_site(client, auth, target):
    auth.signup()
    auth.logout()
    response = client.post("/auth/login", query_string={"next": target},
                           data={"email": "teacher@example.com", "password": "correct horse"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location and not location.startswith("//") and "\\" not in location


@pytest.mark.parametrize("target", ["////evil.example/", "/\\evil.example", "https:evil.example", "/courses/"])
def test_correction_form_next_is_checked_by_the_same_helper(app, target):
    from reports_helpers import login, make_teacher, seed_course

    client = app.test_client()
    seeded = seed_course(app, make_teacher(app, "ada@example.org"))
    login(client, "ada@example.org")
    s1, student = seeded["sessions"][0], seeded["students"]["R03"]
    response = client.post(f"/reports/sessions/{s1}/students/{student}/mark",
                           data={"mark": "present", "reason": "late bus", "next": target})
    location = response.headers["Location"]
    assert response.status_code == 302
    assert location == target if target == "/courses/" else location.endswith(f"/reports/sessions/{s1}")
