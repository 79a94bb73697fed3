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
