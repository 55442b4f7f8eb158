"""The users and account pages, and signing out, in a real browser against a real ``lanner server``."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.slow

PERSON = ("pat", "pat password 123")


def test_an_admin_adds_a_person_who_makes_and_revokes_a_token_but_cannot_manage_users(studio, page, browser):
    url = studio["url"]
    page.goto(f"{url}/users")
    page.locator(".user-row[data-username='admin']").wait_for(timeout=60_000)
    page.fill("input[name='username']", PERSON[0])
    page.fill("input[name='password']", "too short")
    page.click("#create-user")
    page.locator("#users-error").wait_for(timeout=10_000)
    assert "at least 10 characters" in page.locator("#users-error").inner_text()
    page.fill("input[name='username']", PERSON[0])
    page.fill("input[name='password']", PERSON[1])
    page.click("#create-user")
    row = page.locator(f".user-row[data-username='{PERSON[0]}']")
    row.wait_for(timeout=10_000)
    row.locator("input[name='namespace']").fill("acme")
    row.locator("select[name='role']").select_option("viewer")
    row.get_by_role("button", name="Grant").click()
    row.locator(".membership-chip[data-namespace='acme']").wait_for(timeout=10_000)
    assert "acme: viewer" in row.inner_text()

    # The new person signs in through the sign-in page's form, in a browser of their own.
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        theirs = context.new_page()
        theirs.goto(f"{url}/login")
        theirs.fill("#username-field", PERSON[0])
        theirs.fill("#password-field", PERSON[1])
        theirs.click("#sign-in-submit")
        theirs.wait_for_url(re.compile(r"/flows/?$"), timeout=30_000)
        theirs.goto(f"{url}/account")
        theirs.get_by_role("heading", name=f"Account {PERSON[0]}").wait_for(timeout=60_000)
        assert "acme: viewer" in theirs.locator(".membership-chip").first.inner_text()
        assert theirs.locator("a[href='/users']").count() == 0  # not offered to people who are not administrators
        theirs.fill("input[name='name']", "laptop")
        theirs.click("#create-token")
        theirs.locator("#new-token").wait_for(timeout=10_000)
        token = theirs.locator("#new-token").inner_text().strip()
        assert token.startswith("lnr_")
        token_row = theirs.locator(".token-row[data-name='laptop']")
        token_row.wait_for(timeout=10_000)
        assert token not in token_row.inner_text()  # the list shows its first characters only

        me = httpx.get(f"{url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert me.status_code == 200 and me.json()["username"] == PERSON[0]

        token_row.locator(".revoke-token").click()
        token_row.locator(".revoke-token").wait_for(state="detached", timeout=10_000)
        refused = httpx.get(f"{url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert refused.status_code == 401

        theirs.goto(f"{url}/account")  # shown once: a reload does not bring the token back
        theirs.locator(".token-row[data-name='laptop']").wait_for(timeout=60_000)
        theirs.locator("#new-token").wait_for(state="detached", timeout=30_000)
        assert token not in theirs.content()

        theirs.goto(f"{url}/users")
        theirs.locator("#users-refused").wait_for(timeout=60_000)
        assert "only administrators" in theirs.locator("#users-refused").inner_text()
        assert theirs.locator(".user-row").count() == 0
        assert "last sign-in" not in theirs.inner_text("body")
    finally:
        context.close()


def test_signing_out_ends_the_session(studio, page):
    page.goto(f"{studio['url']}/flows")
    page.locator("tr.flow-row").first.wait_for(timeout=60_000)
    page.click("#sign-out")
    page.wait_for_url(re.compile(r"/login/?$"), timeout=30_000)
    page.goto(f"{studio['url']}/flows")
    page.wait_for_url(re.compile(r"/login/?\?next=(/|%2F)flows"), timeout=30_000)
    page.locator("#sign-in-submit").wait_for(timeout=30_000)
