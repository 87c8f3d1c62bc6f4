-- Shared assertions for the specs.
local errors = require "openai_admin.errors"

local M = {}

-- Calls fn and expects an invalid_argument error whose text contains every fragment (plain
-- find); returns the error.
function M.invalid_argument(fn, ...)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(errors.is(err, "invalid_argument"), "not an invalid_argument error: " .. tostring(err))
  local s = tostring(err)
  for i = 1, select("#", ...) do
    local frag = select(i, ...)
    assert(s:find(frag, 1, true), "'" .. frag .. "' not in: " .. s)
  end
  return err
end

return M
