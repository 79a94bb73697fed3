from segments.models import Segment
from tests.factories import CustomerFactory, TagFactory


def setup_crowd():
    vip, wechat = TagFactory(slug="vip"), TagFactory(slug="wechat")
    CustomerFactory(external_id="A", tags=[vip, wechat])
    CustomerFactory(external_id="B", tags=[vip])


def test_builder_preview_shows_the_count_and_sample(web_as, mia):
    setup_crowd()
    page = web_as(mia).post("/segments/builder/preview/", {"text": "vip AND wechat"}).content.decode()
    assert "data-audience-count>1<" in page and ">A<" in page


def test_builder_preview_marks_the_error_position(web_as, mia):
    setup_crowd()
    page = web_as(mia).post("/segments/builder/preview/", {"text": "vip AND nosuch"}).content.decode()
    assert "Unknown tag: nosuch" in page and "<mark>n</mark>" in page


def test_visual_edits_change_the_text(web_as, mia):
    setup_crowd()
    client = web_as(mia)
    added = client.post("/segments/builder/edit/", {"text": "vip", "path": "", "action": "add", "fragment": "wechat"})
    assert "vip AND wechat</textarea>" in added.content.decode()
    toggled = client.post("/segments/builder/edit/", {"text": "vip AND wechat", "path": "", "action": "toggle"})
    assert "vip OR wechat</textarea>" in toggled.content.decode()
    negated = client.post("/segments/builder/edit/", {"text": "vip AND wechat", "path": "1", "action": "negate"})
    assert "vip AND NOT wechat</textarea>" in negated.content.decode()
    removed = client.post("/segments/builder/edit/", {"text": "vip AND wechat", "path": "0", "action": "remove"})
    assert ">wechat</textarea>" in removed.content.decode()
    stale = client.post("/segments/builder/edit/", {"text": "vip", "path": "4.2", "action": "remove"})
    assert "no longer exists" in stale.content.decode()


def test_saving_from_the_builder_and_opening_the_segment(web_as, mia):
    setup_crowd()
    client = web_as(mia)
    response = client.post("/segments/builder/", {"name": "VIPs", "text": "vip", "kind": "dynamic", "description": ""})
    segment = Segment.objects.get()
    assert response["Location"] == f"/segments/{segment.pk}/"
    detail = client.get(response["Location"]).content.decode()
    assert "VIPs" in detail and ">A<" in detail and ">B<" in detail
    export = b"".join(client.get(f"/segments/{segment.pk}/export.csv").streaming_content).decode()
    assert "A" in export and "B" in export


def test_builder_keeps_the_form_on_a_bad_expression(web_as, mia):
    setup_crowd()
    response = web_as(mia).post("/segments/builder/", {"name": "Bad", "text": "vip AND", "kind": "dynamic"})
    assert response.status_code == 200 and "ends too early" in response.content.decode()
    assert not Segment.objects.exists()


def test_overlap_page_links_each_cell_to_the_builder(web_as, mia):
    setup_crowd()
    page = web_as(mia).get("/segments/overlap/", {"crowd_1": "vip", "crowd_2": "wechat"}).content.decode()
    assert "/segments/builder/?text=vip+AND+NOT+wechat" in page


def test_account_managers_cannot_open_segment_pages(web_as, alice):
    for url in ["/segments/", "/segments/builder/", "/segments/overlap/"]:
        assert web_as(alice).get(url).status_code == 403


def test_builder_reports_a_taken_name_on_the_form(web_as, mia):
    setup_crowd()
    client = web_as(mia)
    client.post("/segments/builder/", {"name": "VIPs", "text": "vip", "kind": "dynamic"})
    response = client.post("/segments/builder/", {"name": "VIPs", "text": "wechat", "kind": "dynamic"})
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert Segment.objects.count() == 1
