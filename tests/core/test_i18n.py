def test_pages_speak_chinese_when_the_user_chooses_it(web_as, mia):
    client = web_as(mia)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/customers/"})
    page = client.get("/customers/").content.decode()
    assert "客户" in page and "退出" in page and 'lang="zh-hans"' in page


def test_pages_default_to_english(web_as, mia):
    page = web_as(mia).get("/customers/").content.decode()
    assert "Sign out" in page and 'lang="en"' in page



def test_every_message_has_a_chinese_translation():
    """makemessages then this test: a new string without its zh-Hans translation (or a fuzzy guess)
    fails here, not in front of a Chinese-reading user."""
    import re
    from pathlib import Path

    from django.conf import settings

    text = (Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first is the header
    untranslated = [entry.split("\n")[-3:] for entry in entries
                    if re.search(r'^msgstr(\[0\])? ""\s*\Z', entry.strip(), re.M) and not entry.startswith("#~")]
    fuzzy = [entry.split("\n")[0] for entry in entries if "#, fuzzy" in entry]
    assert not untranslated and not fuzzy, (untranslated[:5], fuzzy[:5])


def test_the_language_can_be_chosen_before_signing_in_and_is_named_in_itself(client, db):
    page = client.get("/login/").content.decode()
    assert "data-language" in page and ">简体中文</option>" in page and ">English</option>" in page
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    page = client.get("/login/").content.decode()
    assert 'lang="zh-hans"' in page and ">简体中文</option>" in page and ">English</option>" in page


def test_a_segments_name_is_a_name_of_a_thing_in_chinese(web_as, mia):
    from segments.services import save_segment
    from tests.factories import TagFactory

    TagFactory(slug="vip")
    save_segment(name="VIP", text="vip", by=mia)
    client = web_as(mia)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/segments/"})
    page = client.get("/segments/").content.decode()
    assert "<th>名称</th>" in page and "<th>姓名</th>" not in page


def test_pages_carry_a_favicon(client, db):
    page = client.get("/login/").content.decode()
    assert 'rel="icon"' in page and "favicon" in page


def test_numbers_are_grouped_by_thousands_in_both_languages(web_as, mia, alice):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(owner=alice, assets=1234567)
    client = web_as(mia)
    assert "1,234,567.00" in client.get(f"/customers/{customer.pk}/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/customers/"})
    assert "1,234,567.00" in client.get(f"/customers/{customer.pk}/").content.decode()
