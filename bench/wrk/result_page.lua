-- (a) The result page of one completed assessment, as its logged-in owner sees it.
-- Args: id=N cookie=SESSION.  Expect 200 (a 303 would mean "not logged in" or "still a draft").
scenario = { method = "GET", path = "/assessments/{id}", expect = 200 }
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "lib.lua")
