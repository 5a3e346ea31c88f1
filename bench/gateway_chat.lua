-- wrk: POST a small chat completion, as the gateway benchmark sends it to every target.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model": "mock-1", "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 16}'
