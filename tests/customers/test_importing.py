"""The import engine on real and deliberately broken files."""

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings
from django.db.models import Count

from customers.importing import ImportFileError, import_customers, read_table
from customers.models import Customer, CustomerTag, Tag
from tests.factories import BranchFactory, CustomerFactory, UserFactory

BANK_FILE = Path(settings.BASE_DIR) / "data" / "bank-marketing" / "bank-full.csv"
CATEGORICAL = ["job", "marital", "education", "default", "housing", "loan", "contact", "poutcome"]


def write(tmp_path, text: str, name="customers.csv", encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.django_db
def test_bank_marketing_file_imports_with_tag_counts_equal_to_the_files_value_counts():
    report = import_customers(BANK_FILE, mapping="bank-marketing")
    assert (report.created, report.rejected) == (45_211, 0)
    assert Customer.objects.count() == 45_211

    expected = pd.read_csv(BANK_FILE, sep=";", dtype=str)
    counts = dict(Tag.objects.annotate(n=Count("customer_links")).values_list("slug", "n"))
    for column in CATEGORICAL:
        for value, n in expected[column].value_counts().items():
            slug = re.sub(r"[^a-z0-9]+", "-", f"{column}-{value}".lower()).strip("-")
            assert counts[slug] == n, slug
    assert counts["housing-yes"] == 25_130

    first = Customer.objects.get(external_id="bank-1")
    assert first.assets == 2143 and first.age is not None and first.extra["y"] == "no"
    assert Customer.objects.get(external_id="bank-45211").external_id == "bank-45211"

    links_before = CustomerTag.objects.count()
    again = import_customers(BANK_FILE, mapping="bank-marketing")
    assert (again.created, again.updated, again.unchanged, again.tag_links_added) == (0, 0, 45_211, 0)
    assert CustomerTag.objects.count() == links_before


@pytest.mark.django_db
def test_default_mapping_maps_fields_tags_and_extra(tmp_path):
    BranchFactory(code="SZ01")
    UserFactory(username="alice", role="account_manager")
    path = write(tmp_path, "external_id,name,branch,owner,assets,risk_level,lifecycle_stage,tags,wechat_id\n"
                           "C1,张三,SZ01,alice,1500000.50,3,mature,vip|wechat,wx_1\n")
    report = import_customers(path)
    assert report.created == 1 and report.rejected == 0
    customer = Customer.objects.get(external_id="C1")
    assert (customer.name, customer.branch.code, customer.owner.username) == ("张三", "SZ01", "alice")
    assert (customer.assets, customer.risk_level, customer.lifecycle_stage) == (1500000.50, 3, "mature")
    assert sorted(customer.tags.values_list("slug", flat=True)) == ["vip", "wechat"]
    assert customer.extra == {"wechat_id": "wx_1"}


@pytest.mark.django_db
def test_a_changed_row_is_updated_and_an_unchanged_row_left_alone(tmp_path):
    import_customers(write(tmp_path, "external_id,name,assets\nC1,Ann,10\nC2,Ben,20\n"))
    touched_at = Customer.objects.get(external_id="C2").updated_at
    report = import_customers(write(tmp_path, "external_id,name,assets\nC1,Ann,11\nC2,Ben,20\n"))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert Customer.objects.get(external_id="C1").assets == 11
    assert Customer.objects.get(external_id="C2").updated_at == touched_at


@pytest.mark.django_db
def test_bad_rows_are_rejected_whole_and_reported_while_good_rows_import(tmp_path):
    path = write(tmp_path, (
        "external_id,name,assets,risk_level,email,birth_date\n"
        "C1,Good,100,2,a@b.cn,1980-02-03\n"
        "C2,Bad assets,abc,2,,\n"
        "C3,Bad risk,5,9,,\n"
        "C4,=HYPERLINK(\"http://evil\"),5,1,,\n"
        "C5,Bad mail,5,1,not-an-email,\n"
        "C6,Bad date,5,1,,31/31/1999\n"
        ",No id,5,1,,\n"
        "C7,Dup one,5,1,,\n"
        "C7,Dup two,5,1,,\n"
    ))
    report = import_customers(path)
    assert report.created == 1
    assert report.rejected == 8
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["C1"]
    by_row = {(error["row"], error["column"]) for error in report.errors}
    assert {(2, "assets"), (3, "risk_level"), (4, "name"), (5, "email"), (6, "birth_date"),
            (7, "external_id"), (8, "external_id"), (9, "external_id")} <= by_row
    assert all(error["message"] for error in report.errors)


@pytest.mark.django_db
def test_a_file_level_problem_imports_nothing(tmp_path):
    with pytest.raises(ImportFileError, match="external_id"):
        import_customers(write(tmp_path, "name,assets\nAnn,10\n"), mapping={"columns": {"name": "name"}})
    with pytest.raises(ImportFileError, match="neither UTF-8 nor GBK|binary"):
        import_customers(_binary_file(tmp_path))
    with pytest.raises(ImportFileError, match="empty"):
        import_customers(write(tmp_path, ""))
    with pytest.raises(ImportFileError, match="line up|rows"):
        import_customers(write(tmp_path, "external_id,name\nC1,Ann,extra,cells\n"))
    with pytest.raises(ImportFileError, match="unknown target"):
        import_customers(write(tmp_path, "external_id,name\nC1,Ann\n"), mapping={"columns": {"name": "nickname"}})
    assert Customer.objects.count() == 0


def _binary_file(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\x00\x01\x02\xff\xfe" * 100)
    return path


@pytest.mark.django_db
def test_gbk_csv_with_semicolons_is_read(tmp_path):
    path = write(tmp_path, "external_id;name;gender\nG1;李四;男\n", encoding="gbk")
    report = import_customers(path)
    assert report.created == 1
    customer = Customer.objects.get(external_id="G1")
    assert (customer.name, customer.gender) == ("李四", "M")


@pytest.mark.django_db
def test_xlsx_files_import_like_csv(tmp_path):
    path = tmp_path / "customers.xlsx"
    pd.DataFrame({"external_id": ["X1", "X2"], "name": ["Ann", "Ben"], "vip": ["yes", "no"]}).to_excel(path, index=False)
    report = import_customers(path, mapping={"columns": {"external_id": "external_id", "name": "name", "vip": "flag"}})
    assert report.created == 2
    assert list(Tag.objects.get(slug="vip").customers.values_list("external_id", flat=True)) == ["X1"]


@pytest.mark.django_db
def test_import_adds_tags_but_never_removes_manual_ones(tmp_path):
    manual = Tag.objects.create(slug="called-back", name="called back")
    CustomerFactory(external_id="C1", tags=[manual])
    import_customers(write(tmp_path, "external_id,tags\nC1,vip\n"))
    assert sorted(Customer.objects.get(external_id="C1").tags.values_list("slug", flat=True)) == ["called-back", "vip"]


@pytest.mark.django_db
def test_unknown_branch_or_owner_rejects_the_row(tmp_path):
    report = import_customers(write(tmp_path, "external_id,branch,owner\nC1,NOPE,\nC2,,ghost\n"))
    assert report.rejected == 2 and report.created == 0
    assert {error["message"] for error in report.errors} == {"Unknown branch code.", "Unknown account manager username."}


def test_staged_uploads_older_than_a_day_are_purged(settings, tmp_path):
    import os
    import time

    from customers.import_jobs import import_folder, purge_stale_uploads

    settings.MEDIA_ROOT = tmp_path
    staged = import_folder() / "staged"
    staged.mkdir(parents=True, exist_ok=True)
    old, fresh = staged / "old.csv", staged / "fresh.csv"
    old.write_text("x"), fresh.write_text("y")
    two_days_ago = time.time() - 48 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    assert purge_stale_uploads() == 1
    assert not old.exists() and fresh.exists()


def test_an_unexpected_error_marks_the_job_failed_and_writes_nothing(mia, tmp_path, monkeypatch):
    from core.models import Job
    from customers import import_jobs

    path = write(tmp_path, "external_id,name\nC1,Ann\n")
    job = import_jobs.queue_import_of_path(path=path, by=mia)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(import_jobs, "import_customers", broken)
    with pytest.raises(RuntimeError):
        import_jobs.run_import(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "unexpected error" in job.errors[0]["message"]
    assert not Customer.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("today", [date(2026, 1, 15), date(2026, 7, 1), date(2026, 12, 31), date(2028, 2, 29)])
def test_an_age_column_gives_that_age_on_the_day_of_the_import(tmp_path, today):
    import_customers(write(tmp_path, "external_id,age\nA1,30\nA2,0\n"), today=today,
                     mapping={"columns": {"external_id": "external_id", "age": "age"}})
    for external_id, age in [("A1", 30), ("A2", 0)]:
        born = Customer.objects.get(external_id=external_id).birth_date
        assert today.year - born.year - ((today.month, today.day) < (born.month, born.day)) == age


@pytest.mark.django_db
def test_a_file_in_neither_utf8_nor_gbk_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="neither UTF-8 nor GBK"):
        import_customers(write(tmp_path, "external_id,name\nC1,Café Müller\n", encoding="latin-1"))
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_tags_with_underscores_are_accepted_the_same_way_everywhere(tmp_path, api_as, mia):
    """Issue 14: the README's own `app_user` was valid in expressions but rejected by imports."""
    from segments.services import preview

    report = import_customers(write(tmp_path, "external_id,tags\nU1,app_user|vip\n"))
    assert report.rejected == 0 and Tag.objects.filter(slug="app_user").exists()
    assert api_as(mia).post("/api/v1/tags/", {"slug": "wechat_follower", "name": "WeChat"}, format="json"
                            ).status_code == 201
    assert preview(text="app_user AND vip")["count"] == 1


@pytest.mark.django_db
def test_a_large_import_refreshes_the_planner_statistics_on_postgresql(tmp_path, settings):
    """Issue 21: an index patch planned on stale statistics sequentially scanned 18M links."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no ANALYZE-driven planner to speak of here")
    settings.IMPORT_ANALYZE_MIN_ROWS = 3
    with CaptureQueriesContext(connection) as queries:
        import_customers(write(tmp_path, "external_id,tags\nA1,vip\nA2,vip\n"))
    assert any(query["sql"].startswith('ANALYZE "customers_customer"') for query in queries.captured_queries)
    settings.IMPORT_ANALYZE_MIN_ROWS = 100
    with CaptureQueriesContext(connection) as queries:
        import_customers(write(tmp_path, "external_id,tags\nA3,vip\n", name="small.csv"))
    assert not any(query["sql"].startswith("ANALYZE") and "customers_customer" in query["sql"] and
                   "import_rows" not in query["sql"] for query in queries.captured_queries)


def test_the_command_writes_its_error_report_formula_safe(db, tmp_path):
    """`--errors` crashed once the errors carried their file line (csv.DictWriter refused the new key)."""
    from django.core.management import call_command

    source = tmp_path / "people.csv"
    source.write_text("external_id,email\nX1,=HYPERLINK(1)\n", encoding="utf-8")
    report = tmp_path / "errors.csv"
    call_command("import_customers", str(source), errors=str(report))
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "Row,Line,Column,Value,Message"
    assert lines[1].startswith("1,2,email,'=HYPERLINK(1)")


def test_a_whole_file_reads_cell_for_cell_as_a_preview_of_it_does(tmp_path):
    """Whole files go through Arrow's reader, previews through pandas': the same text either way —
    quoted delimiters, quotes and newlines, spaces kept, blank cells, CJK, a short row padded blank."""
    path = write(tmp_path, 'external_id;name;note\r\nC1;"Zhang; ""San""";"two\nlines"\r\nC2;  李四 ;\r\n\r\nC3;Wang\r\n')
    whole, preview = read_table(path), read_table(path, preview_rows=10)
    assert whole.to_dict("records") == preview.to_dict("records") == [
        {"external_id": "C1", "name": 'Zhang; "San"', "note": "two\nlines"},
        {"external_id": "C2", "name": "  李四 ", "note": ""},
        {"external_id": "C3", "name": "Wang", "note": ""}]
    assert list(whole.dtypes) == list(preview.dtypes)
