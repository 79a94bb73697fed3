def test_navigation_marks_only_the_current_page(web_as, mia):
    page = web_as(mia).get("/customers/tags/").content.decode()
    assert page.count('aria-current="page"') == 1
    assert 'href="/customers/tags/" aria-current="page"' in page


def test_account_managers_are_not_offered_manager_pages(web_as, alice):
    page = web_as(alice).get("/customers/").content.decode()
    assert 'href="/customers/tags/"' not in page and 'href="/segments/"' not in page
