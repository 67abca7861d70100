#!/usr/bin/env python3
"""Creates draft assessments through the JSON API, each with every earlier wizard step saved.

For one draft: POST /api/v1/assessments, PUT …/profile, PUT …/answers (the state the wizard leaves
after step 5: `step = 5`, profile and answers valid). Completing it is then one request, either
the wizard's last step (POST /assessments/{id}/step/6) or the API (POST …/{id}/complete).

    seed.py BASE_URL TOKEN COUNT OUT_FILE [--profile F] [--answers F] [--workers N]

Writes the ids, one per line, to OUT_FILE. Stops at the first unexpected status and exits 1,
printing the response (a failed seed must not look like a slow benchmark). Standard library
only; keep-alive connections, one per worker thread.
"""

import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("token")
    ap.add_argument("count", type=int)
    ap.add_argument("out")
    here = __file__.rsplit("/", 1)[0]
    ap.add_argument("--profile", default=f"{here}/data/profile.json")
    ap.add_argument("--answers", default=f"{here}/data/answers.json")
    ap.add_argument("--workers", type=int, default=8)
    a = ap.parse_args()

    u = urllib.parse.urlsplit(a.base)
    profile = open(a.profile, "rb").read()
    answers = open(a.answers, "rb").read()
    headers = {
        "Authorization": f"Bearer {a.token}",
        "Content-Type": "application/json",
    }
    ids: list[int] = []
    lock = threading.Lock()
    failure: list[str] = []
    todo = [a.count]

    def take() -> bool:
        with lock:
            if todo[0] <= 0 or failure:
                return False
            todo[0] -= 1
            return True

    def call(conn, method, path, body, want):
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        if r.status != want:
            raise RuntimeError(f"{method} {path}: HTTP {r.status}: {data[:500]!r}")
        return data

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        try:
            while take():
                d = json.loads(call(conn, "POST", "/api/v1/assessments", b"{}", 201))
                i = d["id"]
                call(conn, "PUT", f"/api/v1/assessments/{i}/profile", profile, 200)
                d = json.loads(call(conn, "PUT", f"/api/v1/assessments/{i}/answers", answers, 200))
                if d.get("step") != 5 or d.get("status") != "draft":
                    raise RuntimeError(f"draft {i} is not ready for the last step: {d.get('status')} step {d.get('step')}")
                with lock:
                    ids.append(i)
        except Exception as e:  # noqa: BLE001 - reported and fatal
            with lock:
                failure.append(str(e))
        finally:
            conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(a.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    if failure:
        print(f"seed: FAILED after {len(ids)} drafts: {failure[0]}", file=sys.stderr)
        return 1
    ids.sort()
    with open(a.out, "w") as f:
        f.write("".join(f"{i}\n" for i in ids))
    print(f"seed: {len(ids)} drafts in {dt:.1f} s ({3 * len(ids) / dt:.0f} API requests/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
