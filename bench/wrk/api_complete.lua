-- (b2) POST /api/v1/assessments/{id}/complete: runs the engine on a stored draft, stores the
-- report and returns it as JSON. One-shot per assessment: each request takes a fresh draft
-- from ids=FILE. Args: ids=FILE threads=N token=TOKEN.  Expect 200 (409 = id reused).
scenario = { method = "POST", path = "/api/v1/assessments/{id}/complete", expect = 200, ids = true }
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "lib.lua")
