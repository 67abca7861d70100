-- (b1) The wizard's last step, POST /assessments/{id}/step/6 (pain points, budget, obstacles),
-- which saves the step, runs the engine and stores the result: the HTML form submit that
-- completes an assessment. One-shot per assessment, so every request takes a fresh draft
-- (step 5 saved) from ids=FILE. Args: ids=FILE threads=N cookie=SESSION csrf=TOKEN body=FILE.
-- Expect 303 to /assessments/{id}. (A draft that was already complete would also answer 303,
-- which is why ids are never reused and bench/http.sh checks the database afterwards.)
scenario = {
  method = "POST", path = "/assessments/{id}/step/6", expect = 303, ids = true,
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" },
}
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "lib.lua")
