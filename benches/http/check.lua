-- wrk script: single checks, POST /v1/check, keep-alive (docs/benchmarks.md, "Service").
wrk.method = "POST"
wrk.path = "/v1/check"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"principal":"bob","uri":"storage://prod/alice/data/train/part-1.csv","level":"read"}'
