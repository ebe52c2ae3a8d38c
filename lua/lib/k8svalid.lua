--- Kubernetes name and label-selector validation (k8s.io/apimachinery
-- util/validation and metav1.LabelSelectorAsSelector), with the same
-- messages, plus label-selector matching. Every `is_*` function returns a
-- list of messages, empty when the value is valid.
local M = {}

local function regex_error(msg, fmt, ...)
  local ex = { ... }
  if #ex == 0 then return msg .. " (regex used for validation is '" .. fmt .. "')" end
  msg = msg .. " (e.g. "
  for i, e in ipairs(ex) do
    if i > 1 then msg = msg .. " or " end
    msg = msg .. "'" .. e .. "', "
  end
  return msg .. "regex used for validation is '" .. fmt .. "')"
end

local function max_len_error(n) return string.format("must be no more than %d characters", n) end
local EMPTY_ERROR = "must be non-empty"

local DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
local DNS1123_LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
  .. "and must start and end with an alphanumeric character"
local DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT .. "(\\." .. DNS1123_LABEL_FMT .. ")*"
local DNS1123_SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
  .. "'-' or '.', and must start and end with an alphanumeric character"
local QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
local QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', "
  .. "and must start and end with an alphanumeric character"
local LABEL_VALUE_FMT = "(" .. QUALIFIED_NAME_FMT .. ")?"
local LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, "
  .. "'-', '_' or '.', and must start and end with an alphanumeric character"
local C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*"
local C_IDENTIFIER_MSG = "a valid C identifier must start with alphabetic character or '_', "
  .. "followed by a string of alphanumeric characters or '_'"

local function label_like(s)
  return s:match("^[a-z0-9][-a-z0-9]*$") ~= nil and s:match("[a-z0-9]$") ~= nil
end

local function qualified_like(s)
  return s:match("^[A-Za-z0-9][-A-Za-z0-9_.]*$") ~= nil and s:match("[A-Za-z0-9]$") ~= nil
end

--- validation.IsDNS1123Label
function M.is_dns1123_label(s)
  local errs = {}
  if #s > 63 then errs[#errs + 1] = max_len_error(63) end
  if not label_like(s) then
    errs[#errs + 1] = regex_error(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc")
  end
  return errs
end

--- validation.IsDNS1123Subdomain
function M.is_dns1123_subdomain(s)
  local errs = {}
  if #s > 253 then errs[#errs + 1] = max_len_error(253) end
  local ok = s ~= ""
  for part in (s .. "."):gmatch("([^.]*)%.") do
    if not label_like(part) then ok = false end
  end
  if not ok then
    errs[#errs + 1] = regex_error(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com")
  end
  return errs
end

--- validation.IsQualifiedName (label keys, apiVersion of a tracker ref)
function M.is_qualified_name(s)
  local errs = {}
  local parts = {}
  for p in (s .. "/"):gmatch("([^/]*)/") do parts[#parts + 1] = p end
  local name
  if #parts == 1 then
    name = parts[1]
  elseif #parts == 2 then
    local prefix = parts[1]
    name = parts[2]
    if prefix == "" then
      errs[#errs + 1] = "prefix part " .. EMPTY_ERROR
    else
      for _, m in ipairs(M.is_dns1123_subdomain(prefix)) do errs[#errs + 1] = "prefix part " .. m end
    end
  else
    errs[#errs + 1] = "a qualified name " .. regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT,
      "MyName", "my.name", "123-abc") .. " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
    return errs
  end
  if name == "" then
    errs[#errs + 1] = "name part " .. EMPTY_ERROR
  elseif #name > 63 then
    errs[#errs + 1] = "name part " .. max_len_error(63)
  end
  if not qualified_like(name) then
    errs[#errs + 1] = "name part " .. regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT,
      "MyName", "my.name", "123-abc")
  end
  return errs
end

--- validation.IsValidLabelValue
function M.is_label_value(s)
  local errs = {}
  if #s > 63 then errs[#errs + 1] = max_len_error(63) end
  if s ~= "" and not qualified_like(s) then
    errs[#errs + 1] = regex_error(LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
  end
  return errs
end

--- validation.IsCIdentifier
function M.is_c_identifier(s)
  if s:match("^[A-Za-z_][A-Za-z0-9_]*$") then return {} end
  return { regex_error(C_IDENTIFIER_MSG, C_IDENTIFIER_FMT, "my_name", "MY_NAME", "MyName") }
end

local sorted_keys = require("lib.tables").sorted_keys

local function check_key(k)
  local errs = M.is_qualified_name(k)
  if #errs > 0 then return string.format("invalid label key %q: %s", k, table.concat(errs, "; ")) end
end

local function check_value(k, v)
  local errs = M.is_label_value(v)
  if #errs > 0 then
    return string.format("invalid label value: %q: at key: %q: %s", v, k, table.concat(errs, "; "))
  end
end

local OPERATORS = { In = true, NotIn = true, Exists = true, DoesNotExist = true }

--- The error metav1.LabelSelectorAsSelector would return for `sel`
-- (a table { matchLabels, matchExpressions }), or nil when it is valid.
-- Absent (nil or non-table) parts count as empty.
function M.selector_error(sel)
  if type(sel) ~= "table" then return nil end
  local ml = type(sel.matchLabels) == "table" and sel.matchLabels or {}
  for _, k in ipairs(sorted_keys(ml)) do
    local v = ml[k]
    if type(k) ~= "string" or type(v) ~= "string" then return "matchLabels must map strings to strings" end
    local e = check_key(k) or check_value(k, v)
    if e then return e end
  end
  local me = type(sel.matchExpressions) == "table" and sel.matchExpressions or {}
  for _, expr in ipairs(me) do
    if type(expr) ~= "table" then return "matchExpressions entries must be objects" end
    local op, key = expr.operator, expr.key
    local values = type(expr.values) == "table" and expr.values or {}
    if not OPERATORS[op] then return string.format("%q is not a valid label selector operator", tostring(op)) end
    local e = check_key(type(key) == "string" and key or "")
    if e then return e end
    if op == "In" or op == "NotIn" then
      if #values == 0 then return "for 'in', 'notin' operators, values set can't be empty" end
    elseif #values > 0 then
      return "values set must be empty for exists and does not exist"
    end
    for _, v in ipairs(values) do
      if type(v) ~= "string" then return "values must be strings" end
      e = check_value(key, v)
      if e then return e end
    end
  end
  return nil
end

--- Whether `labels` (a string map, nil = none) satisfy the label selector
-- `sel` (matchLabels and matchExpressions In/NotIn/Exists/DoesNotExist, all
-- ANDed). An empty selector matches everything, as in Kubernetes; an invalid
-- one (see selector_error) matches nothing.
function M.selector_matches(sel, labels)
  if type(sel) ~= "table" or M.selector_error(sel) then return false end
  labels = type(labels) == "table" and labels or {}
  for k, v in pairs(type(sel.matchLabels) == "table" and sel.matchLabels or {}) do
    if labels[k] ~= v then return false end
  end
  for _, expr in ipairs(type(sel.matchExpressions) == "table" and sel.matchExpressions or {}) do
    local have = labels[expr.key]
    local values = type(expr.values) == "table" and expr.values or {}
    local in_values = false
    for _, v in ipairs(values) do
      if have == v then in_values = true end
    end
    local op = expr.operator
    if op == "In" and not in_values then return false end
    if op == "NotIn" and in_values then return false end -- absent key satisfies NotIn
    if op == "Exists" and have == nil then return false end
    if op == "DoesNotExist" and have ~= nil then return false end
  end
  return true
end

return M
