"""The churn model against the published fit: the CDNOW sample imported the way a user would (customers,
a product, transactions through the import commands), scored with `compute_scores --as-of 1997-09-30`,
read back through the API — Fader, Hardie & Lee (2005): r 0.243, α 4.414, a 0.793, b 2.426, LL −9582.4."""

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.factories import UserFactory

SAMPLE = Path(settings.BASE_DIR).parent / "shared" / "data" / "cdnow" / "CDNOW_sample.txt"
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.mark.skipif(not SAMPLE.exists(), reason="../shared/data/cdnow is not beside the checkout")
def test_compute_scores_reproduces_the_published_bg_nbd_fit(db, tmp_path, client):
    rows = [line.split() for line in SAMPLE.read_text().splitlines() if line.strip()]
    customers = sorted({int(row[1]) for row in rows})
    _write(tmp_path / "customers.csv", ["external_id", "name"], [[f"cdnow-{c}", f"CDNOW {c}"] for c in customers])
    _write(tmp_path / "products.csv", ["code", "name", "type"], [["CD", "Compact discs", "other"]])
    _write(tmp_path / "transactions.csv",
           ["external_id", "customer_external_id", "product_code", "kind", "amount", "occurred_at"],
           [[f"cdnow-{number}", f"cdnow-{int(row[1])}", "CD", "buy", row[4],
             f"{row[2][:4]}-{row[2][4:6]}-{row[2][6:]}"] for number, row in enumerate(rows, start=1)])
    call_command("import_customers", str(tmp_path / "customers.csv"), stdout=StringIO())
    call_command("import_activity", str(tmp_path / "products.csv"), "--kind", "products", stdout=StringIO())
    out = StringIO()
    call_command("import_activity", str(tmp_path / "transactions.csv"), "--kind", "transactions", stdout=out)
    assert "6,919" in out.getvalue() or "6919" in out.getvalue(), out.getvalue()

    out = StringIO()
    call_command("compute_scores", "--as-of", "1997-09-30", stdout=out)
    assert "2357" in out.getvalue().replace(",", "")

    client.force_login(UserFactory(role="account_manager"))
    model = client.get("/api/v1/scores/churn/model/").json()
    for name, published in PUBLISHED.items():
        assert model[name] == pytest.approx(published, rel=0.01), (name, model)
    assert model["log_likelihood"] == pytest.approx(-9582.4, abs=0.5)
    assert model["customers"] == 2357 and model["as_of"] == "1997-09-30"


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
