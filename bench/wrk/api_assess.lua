-- (b3) POST /api/v1/assess: the stateless full diagnosis (profile + answers in, report out;
-- no database access at all). Args: body=FILE (JSON {"profile":…,"answers":…}).  Expect 200.
scenario = {
  method = "POST", path = "/api/v1/assess", expect = 200,
  headers = { ["Content-Type"] = "application/json" },
}
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "lib.lua")
