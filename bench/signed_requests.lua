-- wrk: send each pre-signed bailian GET once (a nonce may not be used twice).
-- The file (first script argument) has one request per line: nonce, date, authorization.
local signed = {}
local next_one = 0

function init(args)
  for line in io.lines(args[1]) do
    local nonce, date, auth = line:match("([^\t]+)\t([^\t]+)\t(.+)")
    signed[#signed + 1] = { nonce = nonce, date = date, auth = auth }
  end
end

function request()
  next_one = next_one + 1
  local s = signed[next_one]
  if s == nil then
    error("out of pre-signed requests: raise --signed")
  end
  wrk.headers["x-acs-action"] = "GetPromptTemplate"
  wrk.headers["x-acs-version"] = "2023-12-29"
  wrk.headers["x-acs-date"] = s.date
  wrk.headers["x-acs-signature-nonce"] = s.nonce
  wrk.headers["x-acs-content-sha256"] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  wrk.headers["Authorization"] = s.auth
  return wrk.format("GET", nil, wrk.headers)
end
