"""Issue 14: in 简体中文 the main pages of both roles show no English word outside data, codes and
brand names, and no page breaks its Content-Security-Policy (the console stays free of violations)."""

import re

import pytest

from campaigns.workspace.services import log_outcome
from segments.services import save_segment
from tests.factories import BranchFactory, CampaignFactory, CustomerFactory, TagFactory, TaskFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Words that stay as they are in Chinese: the brand, units and formats, keys, codes of the data.
ALLOWED = {"LoopCRM", "ROI", "CSV", "XLSX", "JSON", "API", "Enter", "YYYY", "MM", "DD", "HH", "AND", "OR", "NOT",
           "IN", "BETWEEN", "IS", "NULL", "KEEP", "GROW", "STOP", "SMS", "WeChat", "App", "Token", "Bearer", "URL", "ID",
           "UTF", "GBK", "English"}
# The expression language's field names are code, typed as they are whatever the page's language.
ALLOWED |= {part for name in __import__("segments.fields", fromlist=["FIELDS"]).FIELDS for part in name.split("_")}
CHROME = "h1, h2, h3, th, label, legend, button, nav a, .kpi-label, .muted, summary, dt"  # not data cells or options


def english_words(page) -> set[str]:
    texts = page.eval_on_selector_all(CHROME, "nodes => nodes.map(node => node.innerText)")
    words = set()
    for text in texts:
        words |= {word for word in re.findall(r"[A-Za-z]{3,}", text)}
    return words


def open_in_chinese(page, url, username, password):
    page.goto(f"{url}/login/")
    page.select_option("select[name=language]", "zh-hans")
    page.wait_for_load_state()
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda address: "/login/" not in address)
    page.wait_for_load_state("networkidle")


def test_main_pages_in_chinese_have_no_english_and_no_csp_violation(live_server, browser, screenshot):
    branch = BranchFactory(code="SZ01")
    mia = UserFactory(username="mia", password="zh-pw-1", role="marketing_manager")
    alice = UserFactory(username="alice", password="zh-pw-2", role="account_manager", branch=branch)
    vip = TagFactory(slug="vip")
    customers = [CustomerFactory(external_id=f"C{n}", name=f"王{n}", owner=alice, branch=branch, tags=[vip])
                 for n in range(4)]
    segment = save_segment(name="贵宾", text="vip", by=mia)
    campaign = CampaignFactory(name="唤醒", owner=mia, status="running", segment=segment, script="您好")
    tasks = [TaskFactory(campaign=campaign, customer=customer, assignee=alice) for customer in customers]
    log_outcome(task=tasks[0], by=alice, version=1, contact_result="reached", response="declined",
                failure_reason="price")
    problems, violations = {}, []
    pages = {
        "mia": ["/", "/customers/", f"/customers/{customers[0].pk}/", "/customers/tags/", "/customers/import/",
                "/segments/", "/segments/builder/", f"/segments/{segment.pk}/", "/campaigns/",
                f"/campaigns/{campaign.pk}/", "/campaigns/reports/", "/campaigns/reports/weekly/",
                "/customers/bulk/changes/", "/api/docs/"],
        "alice": ["/campaigns/my-tasks/", f"/campaigns/my-tasks/work/?task={tasks[1].pk}", "/customers/"],
    }
    for username, password in (("mia", "zh-pw-1"), ("alice", "zh-pw-2")):
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.on("console", lambda message, page=page: violations.append((page.url, message.text))
                if "Content Security Policy" in message.text else None)
        open_in_chinese(page, live_server.url, username, password)
        for path in pages[username]:
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            if path == "/api/docs/":
                continue  # Swagger UI is English by design; only its CSP is checked
            found = english_words(page) - ALLOWED
            if found:
                problems[path] = sorted(found)
        screenshot_name = "30-zh-manager-home" if username == "mia" else "31-zh-work-view"
        page.goto(f"{live_server.url}{pages[username][0] if username == 'mia' else pages[username][1]}")
        page.screenshot(path=str(__import__("tests.browser.conftest", fromlist=["SCREENSHOTS"]).SCREENSHOTS
                                 / f"{screenshot_name}.png"), full_page=True)
        context.close()
    assert not violations, violations
    assert not problems, sorted(problems.items())
