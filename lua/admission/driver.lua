-- The admission driver: what every request to the webhook's Lua states
-- runs (the webhook's main chunk is `return require "admission.driver"`).
--
--   defaulting(req, obj)             -> obj, defaulted in place
--   validate(req, obj, old)          -> nil, or the error text that denies
--   bind(req, obj, bindings, ns_labels, mode)
--                                    -> obj with each matching binding
--                                       done (or undone while it is deleted)
--   selftest()                       -> runs the three on the samples of
--                                       admission.samples; raises when one
--                                       does not answer as a valid object
--                                       must be answered
--   filter_max                       -> set by the webhook: what validation
--                                       bounds spec.filter.limits by
--
-- The webhook runs selftest() on every candidate version (the shipped code
-- and each set of ConfigMap overrides) before it takes it into use, so an
-- override that breaks admission is refused with the previous code kept.
local vss = require("admission.vspheresource")
local vsb = require("admission.vspherebinding")
local bind = require("binding.vsphere")

local M = {}

local function mod_of(req)
  local k = type(req.kind) == "table" and req.kind.kind or req.kind
  if k == "VSphereSource" then return vss elseif k == "VSphereBinding" then return vsb end
end

local function ctx_of(req)
  return { namespace = req.namespace, operation = req.operation,
           subresource = req.subResource or "", filter_max = M.filter_max }
end

function M.defaulting(req, obj)
  local m = mod_of(req)
  if m and type(obj) == "table" then m.default(obj, ctx_of(req)) end
  return obj
end

function M.validate(req, obj, old)
  local m = mod_of(req)
  if not m or type(obj) ~= "table" then return nil end
  local errs = m.validate(obj, type(old) == "table" and old or nil, ctx_of(req))
  if errs and #errs > 0 then return m.format(errs) end
  return nil
end

function M.bind(req, obj, bindings, ns_labels, mode)
  if type(obj) ~= "table" or (req.operation ~= "CREATE" and req.operation ~= "UPDATE") then
    return obj
  end
  local md = type(obj.metadata) == "table" and obj.metadata or {}
  if not bind.selection(md.labels, ns_labels, mode) then return obj end
  if not bind.podspec(obj) then return obj end
  local had_md, had_ns = obj.metadata, md.namespace
  obj.metadata = md
  if type(md.namespace) ~= "string" or md.namespace == "" then md.namespace = req.namespace end
  local todo = {}
  for _, b in ipairs(bindings or {}) do
    if bind.subject_matches(b, obj) then todo[#todo + 1] = b end
  end
  md.namespace = had_ns
  obj.metadata = had_md
  for _, b in ipairs(todo) do
    local bmd = type(b.metadata) == "table" and b.metadata or {}
    if type(bmd.deletionTimestamp) == "string" then bind.undo_binding(obj, b)
    else bind.do_binding(obj, b) end
  end
  return obj
end

-- A request for `kind` as the API server sends it (the fields the handlers read).
local function request(kind)
  return { operation = "CREATE", namespace = "ns", kind = { kind = kind } }
end

function M.selftest()
  local samples = require("admission.samples")
  if type(M.defaulting(request("VSphereSource"), samples.source())) ~= "table" then
    error("defaulting returned no object on a sample", 0)
  end
  local denied = M.validate(request("VSphereSource"), samples.source(), nil)
  if denied ~= nil then
    error("validate rejected a valid sample: " .. tostring(denied), 0)
  end
  local obj = M.bind(request("Deployment"), samples.deployment(), samples.bindings(), {}, "exclusion")
  if type(obj) ~= "table" then error("bind returned no object on a sample", 0) end
end

return M
