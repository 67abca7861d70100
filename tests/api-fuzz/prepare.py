"""Prepares a running smedx server for the OpenAPI fuzzer.

Signs up an enterprise account (the HTML sign-up form is the only way to create one: the API has
no sign-up endpoint), exchanges its e-mail and password for a bearer token with
POST /api/v1/tokens, creates through the API a draft assessment and a completed one (so the
fuzzer reaches real records, not only 404s), and writes a schemathesis.toml that feeds those ids
and some scenario ids to the operations taking an `{id}`.

Usage: prepare.py BASE_URL CONFIG_OUT  -- prints the token on stdout.
"""

import json
import re
import sys

import requests

PASSWORD = "fuzzing password 2026"
PROFILE = {
    "name": "Fuzz Co",
    "industry": "C3311",
    "employees": 85,
    "revenue": 32000000,
    "pain_points": "订单多了交期总是延误",
}
ANSWERS = {
    "network": ["shopfloor_control"],
    "information_systems": "multiple",
    "equipment_digital": {"digital": 14, "total": 40},
    "scenarios": {"production_control": 2, "warehouse": 2},
    "obstacles": {"budget": True},
}


def fail(msg: str) -> None:
    print(f"prepare.py: {msg}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    if len(sys.argv) != 3:
        fail("usage: prepare.py BASE_URL CONFIG_OUT")
    base, config_out = sys.argv[1].rstrip("/"), sys.argv[2]
    email = "fuzz@example.cn"

    # 1. Account: the sign-up form (CSRF token from the page, double-submit cookie in the session).
    s = requests.Session()
    page = s.get(f"{base}/signup", timeout=30)
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    if not m:
        fail("no CSRF token on /signup")
    r = s.post(
        f"{base}/signup",
        data={
            "csrf": m.group(1),
            "enterprise": "Fuzz Co",
            "email": email,
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
        allow_redirects=False,
        timeout=30,
    )
    if r.status_code != 303:
        fail(f"sign-up answered {r.status_code}: {r.text[:300]}")

    # 2. Token, via the API.
    r = requests.post(
        f"{base}/api/v1/tokens",
        json={"email": email, "password": PASSWORD, "name": "api-fuzz"},
        timeout=30,
    )
    if r.status_code != 201:
        fail(f"POST /api/v1/tokens answered {r.status_code}: {r.text[:300]}")
    token = r.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}

    # 3. Records to fuzz: a completed assessment and two drafts (one with a profile).
    def call(method: str, path: str, body=None, want=(200, 201)) -> dict:
        r = requests.request(method, f"{base}/api/v1{path}", json=body, headers=auth, timeout=60)
        if r.status_code not in want:
            fail(f"{method} {path} answered {r.status_code}: {r.text[:300]}")
        return r.json()

    done = call("POST", "/assessments", {})["id"]
    call("PUT", f"/assessments/{done}/profile", PROFILE)
    call("PUT", f"/assessments/{done}/answers", ANSWERS)
    call("POST", f"/assessments/{done}/complete")
    draft = call("POST", "/assessments", {"copy_from": done})["id"]
    empty = call("POST", "/assessments", {})["id"]
    scenarios = [s["id"] for s in call("GET", "/scenarios")][:10]

    # 4. schemathesis.toml: known ids for half of the generated `{id}` values.
    ids = [done, draft, empty]
    config = f"""# Written by tests/api-fuzz/prepare.py for one run.
[dictionaries.assessment_ids]
values = {json.dumps(ids)}

[dictionaries.scenario_ids]
values = {json.dumps(scenarios, ensure_ascii=False)}

[[operations]]
include-path-regex = "^/api/v1/assessments/\\\\{{id\\\\}}"
parameters = {{ "path.id" = {{ dictionary = "assessment_ids", probability = 0.5 }} }}

[[operations]]
include-path = "/api/v1/scenarios/{{id}}"
parameters = {{ "path.id" = {{ dictionary = "scenario_ids", probability = 0.5 }} }}
"""
    with open(config_out, "w", encoding="utf-8") as f:
        f.write(config)
    print(token)


if __name__ == "__main__":
    main()
