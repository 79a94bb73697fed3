"""Issue 20's import findings: encodings, the wizard on files that need mapping, limits, NUL bytes,
duplicate headers, and where uploads are kept."""

import stat
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.importing import ImportFileError, import_customers, read_table
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def write(tmp_path, raw: bytes, name="customers.csv"):
    path = tmp_path / name
    path.write_bytes(raw)
    return path


def test_a_utf8_file_with_one_stray_byte_is_refused_with_its_position_and_names_stay_good(tmp_path):
    CustomerFactory(external_id="C1", name="张三")
    rows = "external_id,name\n" + "".join(f"C{n},张三{n}\n" for n in range(1, 40))
    raw = rows.encode("utf-8").replace(b"C7,", b"C7\xff,")  # one stray byte on line 8
    with pytest.raises(ImportFileError, match=r"UTF-8 text with 1 unreadable byte.*line 8"):
        import_customers(write(tmp_path, raw))
    assert Customer.objects.get(external_id="C1").name == "张三"  # nothing was written, no mojibake


def test_a_gbk_file_is_still_detected_and_an_explicit_encoding_is_obeyed(tmp_path):
    raw = "external_id,name\nG1,张三\nG2,李四\n".encode("gb18030")
    assert import_customers(write(tmp_path, raw)).created == 2
    assert Customer.objects.get(external_id="G1").name == "张三"
    with pytest.raises(ImportFileError, match="not UTF-8 text: byte"):
        import_customers(write(tmp_path, raw), encoding="utf-8")
    latin = "external_id,name\nL1,José\n".encode("latin-1")
    assert import_customers(write(tmp_path, latin, "latin.csv"), encoding="latin-1").created == 1
    assert Customer.objects.get(external_id="L1").name == "José"


def test_a_nul_byte_after_the_first_64_kb_is_refused_with_its_line(tmp_path):
    rows = "external_id,name\n" + "".join(f"N{n},Name {n}\n" for n in range(8000))
    raw = rows.encode() + b"N9999,Bad\x00Name\n"
    with pytest.raises(ImportFileError, match="NUL byte on line 8002"):
        import_customers(write(tmp_path, raw))
    assert not Customer.objects.exists()


def test_a_repeated_header_is_refused_not_renamed(tmp_path):
    with pytest.raises(ImportFileError, match="more than once: “name”"):
        read_table(write(tmp_path, b"external_id,name,name\nA,x,y\n"))


def test_odd_delimiters_are_refused_with_a_message(tmp_path):
    path = write(tmp_path, b"external_id,name\nA,x\n")
    for delimiter in ("ab", '"', "\n", "x"):
        with pytest.raises(ImportFileError, match="one character"):
            read_table(path, delimiter=delimiter)
    assert list(read_table(write(tmp_path, b"external_id\tname\nA\tx\n"), delimiter="\\t").columns) == ["external_id",
                                                                                                        "name"]


def test_a_file_of_100k_columns_is_refused_at_once(tmp_path):
    raw = (",".join(f"c{n}" for n in range(100_000)) + "\n" + ",".join("1" * 100_000) + "\n").encode()
    started = time.perf_counter()
    with pytest.raises(ImportFileError, match="100000 columns; at most 500"):
        read_table(write(tmp_path, raw), preview_rows=10)
    assert time.perf_counter() - started < 10  # it used to take a worker down; a bound, not a benchmark


def upload_page(client, raw: bytes, name="people.csv", **fields):
    return client.post("/customers/import/", {"file": SimpleUploadedFile(name, raw), **fields}, follow=True)


def test_the_wizard_maps_a_file_without_an_external_id_header(web_as, mia):
    client = web_as(mia)
    client.raise_request_exception = False
    page = upload_page(client, "客户号,姓名\nK1,王五\n".encode())
    assert page.status_code == 200 and "王五" in page.content.decode()
    assert page.context["form"].fields["col_0"].initial == "extra"  # for the user to map


def test_the_wizard_refuses_odd_delimiters_and_oversized_files_with_a_message(web_as, mia, settings):
    client = web_as(mia)
    client.raise_request_exception = False
    page = upload_page(client, b"external_id,name\nA,x\n", delimiter='"')
    assert page.status_code == 200 and "one character" in page.content.decode()
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    page = upload_page(client, b"external_id,name\n" + b"A,x\n" * 100)
    assert page.status_code == 200 and "larger than" in page.content.decode()


def test_the_wizard_previews_without_parsing_the_whole_file(web_as, mia):
    """A file whose row 5,000 does not line up still reaches the mapping step (the worker reports it)."""
    client = web_as(mia)
    raw = b"external_id,name\n" + b"".join(b"P%d,Name\n" % n for n in range(5000)) + b"P,too,many,cells\n"
    page = upload_page(client, raw)
    assert page.status_code == 200 and page.context["preview_rows"][0] == ["P0", "Name"]


def test_uploads_are_stored_readable_by_the_service_only(web_as, mia, settings):
    from customers.import_jobs import import_folder

    upload_page(web_as(mia), b"external_id,name\nA,x\n")
    staged = list((import_folder() / "staged").glob("*.csv"))
    assert staged and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in staged)
    from customers.import_jobs import queue_import_of_path

    job = queue_import_of_path(path=staged[0], by=mia)
    assert stat.S_IMODE((import_folder() / f"{job.pk}.csv").stat().st_mode) == 0o600


def test_owners_must_be_active_account_managers(tmp_path, alice, mia):
    from tests.factories import UserFactory

    UserFactory(username="gone", role="account_manager").__class__.objects.filter(username="gone").update(
        is_active=False)
    raw = b"external_id,owner\nO1,alice\nO2,mia\nO3,gone\nO4,nobody\n"
    report = import_customers(write(tmp_path, raw))
    assert report.created == 1 and Customer.objects.get(external_id="O1").owner == alice
    messages = {error["value"]: error["message"] for error in report.errors}
    assert "not an active account manager" in messages["mia"] and "not an active account manager" in messages["gone"]
    assert "Unknown account manager" in messages["nobody"]


def test_uploads_of_failed_jobs_are_purged_but_waiting_ones_kept(settings, tmp_path, mia):
    import os

    from campaigns.analytics.history import history_folder
    from core.models import Job
    from customers.import_jobs import import_folder, purge_stale_uploads

    settings.MEDIA_ROOT = tmp_path
    failed = Job.objects.create(kind="import_customers", state=Job.State.FAILED, created_by=mia, params={})
    waiting = Job.objects.create(kind="import_history", state=Job.State.PENDING, created_by=mia, params={})
    files = [import_folder() / f"{failed.pk}.csv", history_folder() / f"{waiting.pk}.csv",
             history_folder() / f"{Job.objects.create(kind='import_history', state=Job.State.FAILED).pk}.xlsx"]
    two_days_ago = time.time() - 48 * 3600
    for path in files:
        path.write_text("external_id\nX\n")
        os.utime(path, (two_days_ago, two_days_ago))
    assert purge_stale_uploads() == 2
    assert [path.exists() for path in files] == [False, True, False]


def test_an_import_says_what_happened_under_the_files_own_name(web_as, mia, django_capture_on_commit_callbacks):
    """Issue 14: the status page named the staged UUID file and said "Succeeded" with rows rejected."""
    client = web_as(mia)
    page = upload_page(client, b"external_id,name,gender\nU1,Ann,F\nU2,Ben,dragon\n", name="march-leads.csv")
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post("/customers/import/", {"token": page.context["token"], "col_0": "external_id",
                                                    "col_1": "name", "col_2": "gender", "row_id_prefix": ""})
    status = client.get(queued["Location"]).content.decode()
    assert "Import of march-leads.csv" in status and "Finished with 1 rejected row" in status
    assert "march-leads.csv" in client.get("/customers/import/").content.decode()
