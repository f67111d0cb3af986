-- wrk script: durable grants, POST /v1/grant, each on a URI of its own.
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local counter = 0
local thread_id = 0
setup = function(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end
request = function()
  counter = counter + 1
  local body = string.format('{"uri":"storage://prod/alice/load/%d/%d","principal":"bob","level":"read"}', tid or 0, counter)
  return wrk.format("POST", "/v1/grant", nil, body)
end
