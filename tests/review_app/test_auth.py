"""Logging in and out, CSRF, roles, masking and escaping on the real pages (Flask
test client, demo-like store on SQLite and PostgreSQL)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text

from tests.review_app.conftest import csrf_of, logged_in, login, post, store_query


def test_a_failed_login_says_so_and_opens_no_session(app: Flask) -> None:
    client = app.test_client()
    answer = login(client, "steward1", "demo-wrong")
    assert answer.status_code == 401
    assert "登录失败" in answer.get_data(as_text=True)
    assert "_user_id" not in client.get_cookie("session").value if client.get_cookie(
        "session") else True
    assert client.get("/tasks").status_code == 302  # still asked to log in
    assert login(client, "ghost").status_code == 401
    assert login(client, "steward1").status_code == 302
    assert client.get("/tasks").status_code == 200


def test_csrf_is_required(app: Flask) -> None:
    client = app.test_client()
    client.get("/login")
    refused = client.post("/login", data={"username": "steward1", "password": "demo-steward1"})
    assert refused.status_code == 400
    assert client.get("/tasks").status_code == 302
    client = logged_in(app, "steward1")
    before = store_query(app, "SELECT count(*) AS n FROM review_task WHERE locked_by IS NOT NULL")
    assert client.post("/tasks/next").status_code == 400
    assert client.post("/tasks/next", data={"csrf_token": "forged"}).status_code == 400
    after = store_query(app, "SELECT count(*) AS n FROM review_task WHERE locked_by IS NOT NULL")
    assert after["n"].iloc[0] == before["n"].iloc[0]  # nothing claimed
    assert client.post("/logout").status_code == 400  # logout is a form too


def test_next_is_followed_only_on_this_site(app: Flask) -> None:
    for target, expected in (("/tasks?sort=age", "/tasks?sort=age"),
                             ("https://evil.example/x", "/tasks"),
                             ("//evil.example/x", "/tasks"),
                             ("/\\evil.example", "/tasks")):
        client = app.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        answer = client.post("/login", query_string={"next": target}, data={
            "username": "steward1", "password": "demo-steward1", "csrf_token": token})
        assert answer.status_code == 302
        assert answer.headers["Location"] == expected, target


def test_login_starts_a_fresh_session(app: Flask) -> None:
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    assert login(client, "steward1").status_code == 302
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"].startswith(
            str(store_query(app, "SELECT id FROM app_user WHERE username = 'steward1'")
                ["id"].iloc[0]) + ":")


def test_logout_and_disabled_or_reset_accounts_end_sessions(app: Flask) -> None:
    client = logged_in(app, "steward1")
    assert post(client, "/logout").status_code == 302
    assert client.get("/tasks").status_code == 302
    steward = logged_in(app, "steward2")
    admin = logged_in(app, "admin1")
    assert post(admin, "/admin/users/steward2/disable", page="/admin/users").status_code == 303
    assert steward.get("/tasks").status_code == 302  # the session ended
    assert login(app.test_client(), "steward2").status_code == 401
    assert post(admin, "/admin/users/steward2/enable", page="/admin/users").status_code == 303
    steward = logged_in(app, "steward2")
    post(admin, "/admin/users/steward2/password", {"password": "demo-steward2"},
         page="/admin/users")
    assert steward.get("/tasks").status_code == 302  # a new password ends old sessions


def test_roles(app: Flask) -> None:
    viewer = logged_in(app, "viewer1")
    steward = logged_in(app, "steward1")
    admin = logged_in(app, "admin1")
    task = int(store_query(app, "SELECT min(id) AS t FROM review_task WHERE status = 'open'")
               ["t"].iloc[0])
    assert viewer.get("/tasks").status_code == 200
    page = viewer.get(f"/tasks/{task}").get_data(as_text=True)
    assert 'data-action="claim"' not in page and 'data-action="merge"' not in page
    assert post(viewer, f"/tasks/{task}/claim").status_code == 403
    assert post(viewer, "/tasks/next").status_code == 403
    assert viewer.get("/admin/users").status_code == 403
    assert steward.get("/admin/users").status_code == 403
    assert post(steward, f"/tasks/{task}/approve", {"request_id": "1"}).status_code == 403
    assert admin.get("/admin/users").status_code == 200
    made = post(admin, "/admin/users", {"username": "viewer2", "role": "viewer",
                                        "password": "demo-viewer2"}, page="/admin/users")
    assert made.status_code == 303
    assert login(app.test_client(), "viewer2").status_code == 302
    assert store_query(app, "SELECT count(*) AS n FROM review_task WHERE locked_by = 'viewer1'"
                       )["n"].iloc[0] == 0


def test_a_viewer_sees_masked_ids(app: Flask) -> None:
    ids = store_query(app, (
        "SELECT t.id, s.id_number, s.mobile FROM review_task t JOIN task_member m ON "
        "m.task_id = t.id JOIN source_record s ON s.id = m.record_id WHERE t.status = 'open' "
        "AND s.id_type = 'RESIDENT_ID' AND length(s.id_number) = 18 ORDER BY t.id"))
    task, id_number = int(ids["id"].iloc[0]), str(ids["id_number"].iloc[0])
    def page(name: str) -> str:  # the values, without the diff marks between characters
        html = logged_in(app, name).get(f"/tasks/{task}").get_data(as_text=True)
        return html.replace('<mark class="diff">', "").replace("</mark>", "")

    viewer, steward = page("viewer1"), page("steward1")
    assert id_number in steward
    assert id_number not in viewer
    assert id_number[:3] + "*" * 11 + id_number[-4:] in viewer


def test_names_from_sources_render_as_text(app: Flask) -> None:
    from review_app.db import get_engine

    task = store_query(app, "SELECT min(m.record_id) AS r, min(t.id) AS t FROM review_task t "
                            "JOIN task_member m ON m.task_id = t.id WHERE t.status = 'open' "
                            "GROUP BY t.id ORDER BY t.id")
    record, task_id = int(task["r"].iloc[0]), int(task["t"].iloc[0])
    with app.app_context(), get_engine().begin() as conn:  # a hostile source record
        conn.execute(text("UPDATE source_record SET name = :n, address = :a WHERE id = :r"),
                     {"n": "<script>alert(1)</script>", "a": "<img src=x onerror=alert(1)>",
                      "r": record})
    client = logged_in(app, "steward1")
    post(client, f"/tasks/{task_id}/comment", {"comment": "<b onmouseover=alert(1)>备注</b>"})
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "<b onmouseover" not in page
    text_only = page.replace('<mark class="diff">', "").replace("</mark>", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text_only  # shown, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text_only
    response = client.get(f"/tasks/{task_id}")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script>" not in page.replace(
        '<script src="/static/app.js"></script>', "")  # no inline script at all


def test_login_is_rate_limited(app: Flask) -> None:
    client = app.test_client()
    codes = [login(client, "steward1", "demo-wrong").status_code for _ in range(11)]
    assert codes[:10] == [401] * 10
    assert codes[10] == 429


def test_the_login_page_sends_a_logged_in_user_to_the_queue(app: Flask) -> None:
    client = logged_in(app, "viewer1")
    answer = client.get("/login")
    assert answer.status_code == 302 and answer.headers["Location"] == "/tasks"
