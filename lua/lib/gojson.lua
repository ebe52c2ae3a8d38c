--- JSON text exactly as Go's encoding/json.Marshal writes it, for the
-- values the controller puts into the adapter's environment.
--
-- Go escapes '<', '>' and '&' (\u003c ...), U+2028 and U+2029, control
-- characters as \u00XX (except \n, \r, \t), replaces invalid UTF-8 with
-- \ufffd, writes maps with their keys sorted and structs in field order.
-- Being byte-for-byte equal to Go keeps the env values stable (an unchanged
-- spec gives the same strings, so the Deployment is not rewritten) and
-- identical to what the Go controller wrote.
--
--   gojson.string("a<b")                       --> "\"a\\u003cb\""
--   gojson.encode({ extensions = { b = "1", a = "2" } })
--                                              --> {"extensions":{"a":"2","b":"1"}}
--   gojson.struct({ { "maxAge", gojson.string("5m0s") }, { "period", ... } })
local T = require("lib.tables")

local M = {}

local HEX = "0123456789abcdef"

local function hex_byte(b)
  return "\\u00" .. HEX:sub(b // 16 + 1, b // 16 + 1) .. HEX:sub(b % 16 + 1, b % 16 + 1)
end

local ESC = { [0x22] = '\\"', [0x5C] = "\\\\", [0x0A] = "\\n", [0x0D] = "\\r", [0x09] = "\\t",
  [0x3C] = "\\u003c", [0x3E] = "\\u003e", [0x26] = "\\u0026" }

-- Length of the UTF-8 sequence a lead byte starts (0: not a lead byte).
local function seq_len(b)
  if b >= 0xC2 and b <= 0xDF then return 2 end
  if b >= 0xE0 and b <= 0xEF then return 3 end
  if b >= 0xF0 and b <= 0xF4 then return 4 end
  return 0
end

--- A JSON string literal, Go style.
function M.string(s)
  assert(type(s) == "string", "gojson.string: string expected")
  local out, i, n = { '"' }, 1, #s
  local run = 1 -- start of the pending run of bytes copied as they are
  local function flush(upto)
    if upto >= run then out[#out + 1] = s:sub(run, upto) end
  end
  while i <= n do
    local b = s:byte(i)
    if b < 0x80 then
      local e = ESC[b] or (b < 0x20 and hex_byte(b)) or nil
      if e then
        flush(i - 1); out[#out + 1] = e; run = i + 1
      end
      i = i + 1
    else
      local l = seq_len(b)
      local ch = l > 0 and s:sub(i, i + l - 1) or nil
      if ch and #ch == l and utf8.len(ch) == 1 then
        local c = utf8.codepoint(ch)
        if c == 0x2028 or c == 0x2029 then
          flush(i - 1); out[#out + 1] = string.format("\\u%04x", c); run = i + l
        end
        i = i + l
      else
        flush(i - 1); out[#out + 1] = "\\ufffd"; i = i + 1; run = i
      end
    end
  end
  flush(n)
  out[#out + 1] = '"'
  return table.concat(out)
end

-- Object keys in Go's order (lib.tables.sorted_keys: string order); only
-- string keys are JSON.
local function sorted_keys(t)
  for k in pairs(t) do assert(type(k) == "string", "gojson: object keys must be strings") end
  return T.sorted_keys(t)
end

local function is_array(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  if n == 0 then return false end
  for i = 1, n do
    if t[i] == nil then return false end
  end
  return true
end

--- Any value: strings, integers, booleans, `null` (the string-free marker
-- M.null or vsg.null), arrays (tables with keys 1..n, n > 0) and objects
-- (other tables, keys sorted as Go sorts map keys). Empty tables are {}.
function M.encode(v)
  local t = type(v)
  if t == "string" then return M.string(v) end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then
    assert(math.type(v) == "integer", "gojson.encode: only integers are supported")
    return string.format("%d", v)
  end
  if v == nil or v == M.null or t == "userdata" then return "null" end
  assert(t == "table", "gojson.encode: cannot encode a " .. t)
  local parts = {}
  if is_array(v) then
    for i = 1, #v do parts[i] = M.encode(v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  for _, k in ipairs(sorted_keys(v)) do
    parts[#parts + 1] = M.string(k) .. ":" .. M.encode(v[k])
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

--- A Go struct: `fields` is a list of { name, raw JSON text } in field order;
-- a field whose text is nil is left out (omitempty).
function M.struct(fields)
  local parts = {}
  for _, f in ipairs(fields) do
    if f[2] ~= nil then parts[#parts + 1] = M.string(f[1]) .. ":" .. f[2] end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

--- Marker for JSON null in M.encode.
M.null = setmetatable({}, { __name = "gojson.null" })

return M
