--- Defaulting and validation of VSphereBinding (sources.tanzu.vmware.com/
-- v1alpha1). CONTRACTS §1; the Go version's vspherebinding_defaults.go /
-- vspherebinding_validation.go and knative's tracker.Reference.Validate
-- (upstream.md §6.1), with Knative's paths and messages; unknown fields
-- rejected. Same API as admission.vspheresource:
--
--   local vsb = require("admission.vspherebinding")
--   vsb.default(obj, ctx)                        -- mutates obj in place
--   local errs = vsb.validate(obj, old, ctx)     -- nil or field errors
--   vsb.format(errs)
local common = require("admission.common")
local fe = require("lib.fielderrors")
local k8s = require("lib.k8svalid")

local tbl, str = common.tbl, common.str

local M = {}

local S = common
M.SCHEMA = S.object({
  apiVersion = S.STRING,
  kind = S.STRING,
  metadata = S.ANY,
  status = S.ANY,
  spec = S.object({
    address = S.STRING,
    skipTLSVerify = S.BOOL,
    secretRef = S.object({ name = S.STRING }),
    subject = S.object({
      apiVersion = S.STRING,
      kind = S.STRING,
      namespace = S.STRING,
      name = S.STRING,
      selector = S.object({
        matchLabels = S.map(S.STRING),
        matchExpressions = S.array(S.object({
          key = S.STRING,
          operator = S.STRING,
          values = S.array(S.STRING),
        })),
      }),
    }),
  }),
})

--- Sets the defaults in place and returns obj: spec.subject.namespace <-
-- the binding's namespace when empty. Subresource requests are left alone.
function M.default(obj, ctx)
  if type(ctx) == "table" and str(ctx.subresource) then return obj end
  local subject = tbl(tbl(obj) and tbl(obj.spec) and obj.spec.subject)
  local ns = common.namespace_of(obj, ctx)
  if subject and ns and common.unset(subject.namespace) then subject.namespace = ns end
  return obj
end

-- knative.dev/pkg/tracker Reference.Validate, under spec.subject.
local function validate_subject(subject, c)
  local p = "spec.subject."
  local function check(field, fn)
    local v = subject[field]
    if common.unset(v) then
      c:missing(p .. field)
    elseif type(v) == "string" then
      local msgs = fn(v)
      if #msgs > 0 then c:invalid(table.concat(msgs, ", "), p .. field) end
    end
  end
  check("apiVersion", k8s.is_qualified_name)
  check("kind", k8s.is_c_identifier)
  check("namespace", k8s.is_dns1123_label)

  local selector = tbl(subject.selector)
  local name = subject.name
  local has_name = str(name) ~= nil
  if selector and has_name then
    c:both(p .. "selector", p .. "name")
  elseif selector then
    local err = k8s.selector_error(selector)
    if err then c:invalid(err, p .. "selector") end
  elseif has_name then
    local msgs = k8s.is_dns1123_label(name)
    if #msgs > 0 then c:invalid(table.concat(msgs, ", "), p .. "name") end
  elseif common.absent(subject.selector) and (common.unset(name)) then
    c:neither(p .. "selector", p .. "name")
  end
end

--- Validates obj; returns nil or a list of field errors (lib.fielderrors).
-- Skipped (nil) for DELETE, subresource requests and objects being deleted.
function M.validate(obj, old, ctx) -- luacheck: ignore old
  if common.skip_validation(obj, ctx) then return nil end
  local c = fe.collector()
  common.walk(obj, M.SCHEMA, "", c)
  local spec = tbl(obj.spec) or {}
  local subject = tbl(spec.subject) or {}
  validate_subject(subject, c)
  common.validate_auth(spec, c)
  -- The subject must live in the binding's namespace.
  local sns = subject.namespace
  if str(sns) and sns ~= (common.namespace_of(obj, ctx) or "") then
    c:invalid(sns, "spec.subject.namespace")
  end
  return c:result()
end

M.format = fe.format

return M
