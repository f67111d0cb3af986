-- wrk script: batches of 1,000 checks, POST /v1/check/batch.
wrk.method = "POST"
wrk.path = "/v1/check/batch"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local checks = {}
for i = 1, 1000 do
  local who = (i % 2 == 0) and "bob" or "carol"
  checks[i] = string.format('{"principal":"%s","uri":"storage://prod/alice/data/train/part-%d.csv","level":"read"}', who, i)
end
wrk.body = '{"checks":[' .. table.concat(checks, ",") .. ']}'
