def test_pages_speak_chinese_when_the_user_chooses_it(web_as, mia):
    client = web_as(mia)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/customers/"})
    page = client.get("/customers/").content.decode()
    assert "客户" in page and "退出" in page and 'lang="zh-hans"' in page


def test_pages_default_to_english(web_as, mia):
    page = web_as(mia).get("/customers/").content.decode()
    assert "Sign out" in page and 'lang="en"' in page

