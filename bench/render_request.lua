-- wrk: POST a render request filling the bench template's 10 variables.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"variables": {"v0": "value number 0", "v1": "value number 1", "v2": "value number 2", "v3": "value number 3", "v4": "value number 4", "v5": "value number 5", "v6": "value number 6", "v7": "value number 7", "v8": "value number 8", "v9": "value number 9"}}'
