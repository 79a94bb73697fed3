def test_navigation_marks_only_the_current_page(web_as, mia):
    page = web_as(mia).get("/customers/tags/").content.decode()
    assert page.count('aria-current="page"') == 1
    assert 'href="/customers/tags/" aria-current="page"' in page


def test_account_managers_are_not_offered_manager_pages(web_as, alice):
    page = web_as(alice).get("/customers/").content.decode()
    assert 'href="/customers/tags/"' not in page and 'href="/segments/"' not in page


def test_every_registered_navigation_entry_resolves():
    """Entries are registered by each app's ready(); a typo in a URL name fails here, not on a page."""
    from django.urls import reverse

    from accounts.navigation import entries

    names = [entry.url_name for entry in entries()]
    assert {"customers:list", "segments:list", "campaigns:list", "campaigns:my_tasks", "campaigns:reports"} <= set(names)
    for name in names:
        assert reverse(name).startswith("/")


def test_alice_sees_her_due_tasks_as_a_badge(web_as, alice):
    from django.test import RequestFactory

    from accounts.navigation import navigation

    request = RequestFactory().get("/")
    request.user = alice
    entry = next(item for item in navigation(request)["navigation"] if item["url"] == "/campaigns/my-tasks/")
    assert entry["badge"] == 0


def test_a_page_the_role_does_not_open_says_so_with_a_way_back(web_as, alice):
    client = web_as(alice)
    page = client.get("/segments/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 403
    assert "Your role does not give access to this page" in page.content.decode() and 'href="/"' in page.content.decode()
    assert "您的角色" in client.get("/segments/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
