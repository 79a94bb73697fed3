import pytest

from core.models import Job
from customers.models import Customer, Tag
from tests.factories import CustomerFactory, TagFactory


def test_customer_list_filters_by_tag_and_paginates(web_as, mia):
    vip = TagFactory(slug="vip")
    CustomerFactory(external_id="V1", tags=[vip])
    CustomerFactory(external_id="P1")
    page = web_as(mia).get("/customers/?tag=vip").content.decode()
    # Match the rendered cell, not the bare text: the page's random CSRF token can contain "P1".
    assert ">V1</a>" in page and ">P1</a>" not in page


def test_customer_list_answers_htmx_with_the_table_fragment(web_as, mia):
    CustomerFactory(external_id="V1")
    response = web_as(mia).get("/customers/", HTTP_HX_REQUEST="true")
    assert b"V1" in response.content and b"<html" not in response.content


def test_customer_detail_shows_profile_tags_and_timeline(web_as, mia):
    vip = TagFactory(slug="vip")
    customer = CustomerFactory(external_id="D1", name="张三")
    client = web_as(mia)
    client.post(f"/customers/{customer.pk}/tags/", {"tag": "vip"})
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "张三" in page and "vip" in page and "added" in page
    assert vip.customers.filter(pk=customer.pk).exists()


def test_inline_tag_removal_returns_the_fragment(web_as, mia):
    vip = TagFactory(slug="vip")
    customer = CustomerFactory(tags=[vip])
    response = web_as(mia).post(f"/customers/{customer.pk}/tags/", {"tag": "vip", "op": "remove"},
                                HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"No tags." in response.content
    assert not vip.customers.exists()


def test_export_neutralises_formulas(web_as, mia):
    CustomerFactory(external_id="E1", name="=HYPERLINK(\"http://evil\")")
    body = b"".join(web_as(mia).get("/customers/export/?format=csv").streaming_content).decode()
    assert "'=HYPERLINK" in body


def test_xlsx_export_is_a_workbook(web_as, mia):
    from io import BytesIO

    from openpyxl import load_workbook

    CustomerFactory(external_id="X1", name="+cmd")
    response = web_as(mia).get("/customers/export/?format=xlsx")
    rows = list(load_workbook(BytesIO(response.content)).active.values)
    assert rows[1][0] == "X1" and rows[1][1] == "'+cmd"


def test_bulk_assign_owner_by_a_manager(web_as, mia, alice):
    customers = [CustomerFactory(), CustomerFactory()]
    fields = {"action": "assign_owner", "owner": "alice", "ids": ",".join(str(c.pk) for c in customers)}
    confirm = web_as(mia).post("/customers/bulk/", fields)
    assert "2 customers from 1 manager to alice" in confirm.content.decode()  # asked first …
    assert not Customer.objects.filter(owner=alice).exists()
    web_as(mia).post("/customers/bulk/", {**fields, "confirmed": "1"})  # … done when confirmed
    assert Customer.objects.filter(owner=alice).count() == 2


def test_bulk_action_without_a_selection_changes_nothing(web_as, mia):
    TagFactory(slug="vip")
    CustomerFactory()
    response = web_as(mia).post("/customers/bulk/", {"action": "add_tag", "tag": "vip", "ids": ""}, follow=True)
    assert b"Select at least one customer" in response.content
    assert not Tag.objects.get(slug="vip").customers.exists()


def test_tag_pages_create_rename_delete(web_as, mia):
    client = web_as(mia)
    client.post("/customers/tags/new/", {"slug": "vip", "name": "VIP", "category": "asset"})
    tag = Tag.objects.get(slug="vip")
    CustomerFactory(tags=[tag])
    assert b"1" in client.get("/customers/tags/").content
    client.post(f"/customers/tags/{tag.pk}/edit/", {"slug": "vip", "name": "VIP 客户", "category": "asset"})
    assert Tag.objects.get(pk=tag.pk).name == "VIP 客户"
    confirm = client.get(f"/customers/tags/{tag.pk}/delete/").content.decode()
    assert "1 customer carries this tag" in confirm
    client.post(f"/customers/tags/{tag.pk}/delete/")
    assert not Tag.objects.filter(pk=tag.pk).exists()


def test_tag_merge_shows_what_will_change_before_doing_it(web_as, mia):
    wx, wechat = TagFactory(slug="wx"), TagFactory(slug="wechat")
    CustomerFactory(tags=[wx])
    client = web_as(mia)
    preview = client.post("/customers/tags/merge/", {"sources": [wx.pk], "target": wechat.pk})
    assert b"Merge now" in preview.content and Tag.objects.filter(slug="wx").exists()
    client.post("/customers/tags/merge/", {"sources": [wx.pk], "target": wechat.pk, "confirmed": "1"})
    assert not Tag.objects.filter(slug="wx").exists() and wechat.customers.count() == 1


@pytest.mark.django_db
def test_import_through_the_pages_upload_map_and_status(web_as, mia, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = web_as(mia)
    upload = SimpleUploadedFile("people.csv", b"external_id;name;vip\nU1;Ann;yes\nU2;Ben;no\n")
    mapping_page = client.post("/customers/import/", {"file": upload, "delimiter": ";"}, follow=True)
    assert b"Ann" in mapping_page.content  # the preview
    token = mapping_page.context["token"]
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post("/customers/import/", {
            "token": token, "col_0": "external_id", "col_1": "name", "col_2": "flag", "row_id_prefix": "",
        })
    job = Job.objects.get()
    assert queued["Location"] == f"/customers/import/{job.pk}/"
    assert job.state == "succeeded" and job.result["created"] == 2
    assert b"Created" in client.get(queued["Location"]).content
    assert list(Tag.objects.get(slug="vip").customers.values_list("external_id", flat=True)) == ["U1"]


def test_import_mapping_page_refuses_an_unknown_token(web_as, mia):
    assert web_as(mia).get("/customers/import/?token=deadbeef").status_code == 404


def test_an_invalid_filter_lists_nobody_and_a_bulk_change_of_all_matching_changes_nothing(web_as, mia):
    """A bookmarked link to a tag deleted since: the form says so, and nothing is taken for everyone."""
    vip = TagFactory(slug="vip")
    CustomerFactory(external_id="V1", tags=[vip])
    CustomerFactory(external_id="P1")
    client = web_as(mia)
    page = client.get("/customers/?tag=gone").content.decode()
    assert "gone" in page and ">V1</a>" not in page and ">P1</a>" not in page
    response = client.post("/customers/bulk/", {"action": "add_tag", "tag": "vip", "all_matching": "1",
                                                "query": "tag=gone", "confirmed": "1"}, follow=True)
    assert vip.customers.count() == 1 and "nothing was done" in response.content.decode()
    response = client.get("/customers/export/?tag=gone", follow=True)
    assert "nothing was done" in response.content.decode()
