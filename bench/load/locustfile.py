"""Load scenario: 100 account managers logging outcomes, 5 marketing managers previewing segments and
editing customers (each edit goes through the change feed's triggers; previews then patch the index).

Runs against a real server (gunicorn) over loopback; run by bench/load/run_load.py, which prepares the
users and their tokens (LOAD_TOKENS) and checks afterwards that every acknowledged outcome is in the
database (LOAD_ACKS collects what the server acknowledged).
"""

import itertools
import json
import os
import random

from locust import HttpUser, between, events, task

TOKENS = json.loads(open(os.environ["LOAD_TOKENS"]).read())
ACKS_PATH = os.environ["LOAD_ACKS"]
ACKS: list[tuple[int, int]] = []
EXPRESSIONS = [
    "housing-yes AND loan-no", "job-management OR job-technician", "contact-cellular AND NOT default-yes",
    "marital-married AND education-tertiary AND assets >= 1000", "poutcome-success OR poutcome-other",
    "(job-blue-collar OR job-services) AND housing-yes AND NOT loan-yes", "age BETWEEN 30 AND 45 AND housing-no",
]
RESULTS = [
    {"contact_result": "reached", "response": "converted", "amount": "5000"},
    {"contact_result": "reached", "response": "interested"},
    {"contact_result": "reached", "response": "declined", "failure_reason": "price"},
    {"contact_result": "unreachable"},
]
_account_managers = itertools.cycle(TOKENS["account_managers"])
_managers = itertools.cycle(TOKENS["managers"])


class AccountManager(HttpUser):
    weight = 100
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.client.headers["Authorization"] = f"Token {next(_account_managers)}"

    @task
    def log_an_outcome(self):
        listing = self.client.get("/api/v1/tasks/?status=open&page_size=10", name="GET /api/v1/tasks/")
        if listing.status_code != 200 or not listing.json()["results"]:
            return
        chosen = random.choice(listing.json()["results"])
        body = {**random.choice(RESULTS), "version": chosen["version"], "note": "load test"}
        with self.client.patch(f"/api/v1/tasks/{chosen['id']}/", json=body, name="PATCH /api/v1/tasks/{id}/",
                               catch_response=True) as response:
            if response.status_code == 200:
                ACKS.append((chosen["id"], response.json()["version"]))
                response.success()
            elif response.status_code == 409:
                response.success()  # another tab of the same manager got there first: told, not lost


class MarketingManager(HttpUser):
    weight = 5
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.client.headers["Authorization"] = f"Token {next(_managers)}"

    @task(4)
    def preview(self):
        self.client.post("/api/v1/segments/preview/", json={"text": random.choice(EXPRESSIONS)},
                         name="POST /api/v1/segments/preview/")

    @task(2)
    def edit_a_customer(self):
        customer = random.choice(TOKENS["customers"])
        self.client.patch(f"/api/v1/customers/{customer}/", json={"assets": f"{random.randint(0, 2_000_000)}.00"},
                          name="PATCH /api/v1/customers/{id}/")

    @task(1)
    def stats(self):
        self.client.get(f"/api/v1/campaigns/{TOKENS['campaign']}/stats/", name="GET /api/v1/campaigns/{id}/stats/")


@events.test_stop.add_listener
def save_acks(environment, **kwargs):
    with open(ACKS_PATH, "w") as handle:
        json.dump(ACKS, handle)
