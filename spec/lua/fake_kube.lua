--- Spec helper: an in-memory stand-in for the parts of the controller's
-- `vsg` module that need a running vsgate (vsg.kube, vsg.hash.md5,
-- vsg.log, vsg.filter), recording every write, so reconciler specs can
-- assert exact objects and "no writes". Everything else (vsg.null,
-- vsg.isnull, vsg.json, vsg.time, vsg.url) is the real module, vsg.so
-- (spec/lua/helper.lua).
--
--   local fake = require("fake_kube")
--   local vsg = fake.install()          -- package.loaded.vsg = vsg
--   vsg.kube = fake.new({ binding_webhook = true })
--   vsg.kube:seed({ apiVersion = "v1", kind = "ServiceAccount", ... })
--   ... reconcile ...
--   vsg.kube:writes()                   -- { "create Deployment ns/x", ... }
--
-- What it imitates of the API server: uid, resourceVersion (a stale one
-- is a Conflict), generation (bumped when spec changes), creationTimestamp,
-- AlreadyExists/NotFound, the status subresource (update keeps status,
-- update_status keeps everything else), and the defaults the API server
-- adds to Deployments (so specs prove the reconciler's comparison ignores
-- them). With `binding_webhook`, Deployment writes also get what the
-- VSphereBinding webhook injects (VC_* env, volume, mount).
local M = {}

local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end
M.copy = copy

local function equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, x in pairs(a) do
    if not equal(x, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
M.equal = equal

--- Hex MD5 of `s` through md5sum(1) (busted runs in plain Lua).
function M.md5(s)
  local quoted = "'" .. s:gsub("'", "'\\''") .. "'"
  local p = assert(io.popen("printf %s " .. quoted .. " | md5sum"))
  local out = p:read("*a")
  p:close()
  return (out:match("^(%x+)"))
end


local noop = function() end

local real = require("vsg")

--- vsg.null, the real one (JSON null; in a merge patch: delete).
M.null = real.null

--- Installs `vsg` as package.loaded.vsg and returns it: the stand-ins
-- below over the real module.
function M.install()
  local vsg = setmetatable({
    hash = { md5 = M.md5 },
    log = { debug = noop, info = noop, warn = noop, error = noop },
    -- vsg.filter.check (filter/filter_check.c) compiles and dry-runs; here,
    -- compiling is enough to tell a good script from a broken one.
    filter = {
      check = function(data, key)
        local text = data[key or "filter.lua"]
        if type(text) ~= "string" then return nil, 'no key "' .. tostring(key) .. '"' end
        local fn, err = load(text, "=" .. (key or "filter.lua"), "t", {})
        if not fn then return nil, err end
        return true
      end,
    },
  }, { __index = real })
  vsg.kube = M.new()
  package.loaded.vsg = vsg
  return vsg
end

local Kube = {}
Kube.__index = Kube

local function key(api, kind, ns, name)
  return table.concat({ api, kind, ns or "", name }, "|")
end

local function err(code, status, message, reason)
  return { code = code, status = status, message = message, retryable = false, reason = reason or code }
end

--- A fresh, empty fake API server. opts.binding_webhook: see above;
-- opts.forbidden: set of "apiVersion|kind" the controller may not read;
-- opts.unserved: set of "apiVersion|kind" the API server does not serve
-- (404 from discovery, with no Status reason, as vsg.kube reports it).
function M.new(opts)
  opts = opts or {}
  local k = setmetatable({ objects = {}, log = {}, events = {}, sent = {}, uid = 0, rv = 0, opts = opts }, Kube)
  -- vsg.kube functions are called with a dot, as the C module's are;
  -- the helpers (seed, find, writes, edit) with a colon.
  for _, f in ipairs({ "get", "list", "create", "update", "update_status", "patch", "delete", "event" }) do
    local method = Kube[f]
    k[f] = function(...) return method(k, ...) end
  end
  return k
end

function Kube:_next_rv()
  self.rv = self.rv + 1
  return tostring(self.rv)
end

-- The defaults the API server adds to a Deployment, and the binding
-- webhook's injection.
function Kube:_mutate(obj)
  if obj.kind ~= "Deployment" then return end
  local s = obj.spec
  s.revisionHistoryLimit = s.revisionHistoryLimit or 10
  s.progressDeadlineSeconds = s.progressDeadlineSeconds or 600
  local ps = s.template.spec
  ps.restartPolicy = ps.restartPolicy or "Always"
  ps.dnsPolicy = ps.dnsPolicy or "ClusterFirst"
  ps.schedulerName = ps.schedulerName or "default-scheduler"
  ps.terminationGracePeriodSeconds = ps.terminationGracePeriodSeconds or 30
  ps.securityContext = ps.securityContext or {}
  for _, c in ipairs(ps.containers) do
    c.terminationMessagePath = c.terminationMessagePath or "/dev/termination-log"
    c.terminationMessagePolicy = c.terminationMessagePolicy or "File"
    c.imagePullPolicy = c.imagePullPolicy or "IfNotPresent"
    c.resources = c.resources or {}
    local env = {}
    for _, e in ipairs(c.env or {}) do
      e = copy(e)
      if e.value == "" then e.value = nil end
      if e.valueFrom and e.valueFrom.fieldRef then
        e.valueFrom.fieldRef.apiVersion = e.valueFrom.fieldRef.apiVersion or "v1"
      end
      env[#env + 1] = e
    end
    c.env = env
  end
  if self.opts.binding_webhook then
    -- Undo, then do (the Go Do/Undo), keyed on the names it owns.
    local owned = { VC_URL = true, VC_INSECURE = true, VC_USERNAME = true, VC_PASSWORD = true }
    ps.volumes = ps.volumes or {}
    local vols = {}
    for _, v in ipairs(ps.volumes) do
      if v.name ~= "vsphere-binding" then vols[#vols + 1] = v end
    end
    vols[#vols + 1] = { name = "vsphere-binding", secret = { secretName = "vsphere-credentials", defaultMode = 420 } }
    ps.volumes = vols
    for _, c in ipairs(ps.containers) do
      local env = {}
      for _, e in ipairs(c.env or {}) do
        if not owned[e.name] then env[#env + 1] = e end
      end
      env[#env + 1] = { name = "VC_URL", value = "https://vcenter.corp.local" }
      env[#env + 1] = { name = "VC_INSECURE", value = "true" }
      env[#env + 1] = { name = "VC_USERNAME",
        valueFrom = { secretKeyRef = { name = "vsphere-credentials", key = "username" } } }
      env[#env + 1] = { name = "VC_PASSWORD",
        valueFrom = { secretKeyRef = { name = "vsphere-credentials", key = "password" } } }
      c.env = env
      local mounts = {}
      for _, m in ipairs(c.volumeMounts or {}) do
        if m.name ~= "vsphere-binding" then mounts[#mounts + 1] = m end
      end
      mounts[#mounts + 1] = { name = "vsphere-binding", mountPath = "/var/bindings/vsphere", readOnly = true }
      c.volumeMounts = mounts
    end
  end
end

function Kube:_record(verb, obj_or_kind, ns, name)
  local kind = type(obj_or_kind) == "table" and obj_or_kind.kind or obj_or_kind
  if type(obj_or_kind) == "table" then
    ns, name = obj_or_kind.metadata.namespace, obj_or_kind.metadata.name
  end
  self.log[#self.log + 1] = string.format("%s %s %s/%s", verb, kind, ns or "", name)
end

--- Stores `obj` as if it had been created earlier, without recording a
-- write. Returns the stored object.
function Kube:seed(obj)
  obj = copy(obj)
  obj.metadata = obj.metadata or {}
  local m = obj.metadata
  self.uid = self.uid + 1
  m.uid = m.uid or ("uid-" .. self.uid)
  m.resourceVersion = self:_next_rv()
  m.generation = m.generation or 1
  m.creationTimestamp = m.creationTimestamp or "2024-01-01T00:00:00Z"
  self.objects[key(obj.apiVersion, obj.kind, m.namespace, m.name)] = obj
  return obj
end

--- The stored object (not a copy; specs may edit it to play other
-- controllers, e.g. set a Deployment's status).
function Kube:find(api, kind, ns, name)
  return self.objects[key(api, kind, ns, name)]
end

--- The objects sent by create and update, as sent (before defaulting), of
-- `kind`; clears nothing.
function Kube:sent_of(kind)
  local out = {}
  for _, o in ipairs(self.sent) do
    if o.kind == kind then out[#out + 1] = o end
  end
  return out
end

--- The writes recorded so far ("create Deployment ns/name", ...), and clears them.
function Kube:writes()
  local w = self.log
  self.log = {}
  return w
end

function Kube:get(api, kind, ns, name)
  if self.opts.forbidden and self.opts.forbidden[api .. "|" .. kind] then
    return nil, err("Forbidden", 403, string.format('%s "%s" is forbidden', kind, name))
  end
  if self.opts.unserved and self.opts.unserved[api .. "|" .. kind] then
    return nil, err("NotFound", 404, string.format("%s %s is not served", api, kind), "")
  end
  local o = self.objects[key(api, kind, ns, name)]
  if not o then
    return nil, err("NotFound", 404, string.format('%s "%s" not found', kind, name))
  end
  return copy(o)
end

function Kube:list(api, kind, ns)
  local items = {}
  for _, o in pairs(self.objects) do
    if o.apiVersion == api and o.kind == kind and (ns == nil or o.metadata.namespace == ns) then
      items[#items + 1] = copy(o)
    end
  end
  return { items = items }
end

function Kube:create(obj)
  if self.opts.fail_create and self.opts.fail_create[obj.kind] then
    return nil, copy(self.opts.fail_create[obj.kind])
  end
  local m = obj.metadata
  if self.objects[key(obj.apiVersion, obj.kind, m.namespace, m.name)] then
    return nil, err("AlreadyExists", 409, string.format('%s "%s" already exists', obj.kind, m.name))
  end
  self:_record("create", obj)
  self.sent[#self.sent + 1] = copy(obj)
  local o = copy(obj)
  o.status = nil
  self:_mutate(o)
  return copy(self:seed(o))
end

function Kube:update(obj)
  local m = obj.metadata
  local k = key(obj.apiVersion, obj.kind, m.namespace, m.name)
  local cur = self.objects[k]
  if not cur then return nil, err("NotFound", 404, obj.kind .. " not found") end
  if m.resourceVersion ~= cur.metadata.resourceVersion then
    return nil, err("Conflict", 409, "the object has been modified")
  end
  self:_record("update", obj)
  self.sent[#self.sent + 1] = copy(obj)
  local o = copy(obj)
  o.status = copy(cur.status)
  self:_mutate(o)
  local spec_a, spec_b = copy(o), copy(cur)
  spec_a.metadata, spec_b.metadata, spec_a.status, spec_b.status = nil, nil, nil, nil
  if not equal(spec_a, spec_b) then o.metadata.generation = (cur.metadata.generation or 1) + 1 end
  o.metadata.resourceVersion = self:_next_rv()
  self.objects[k] = o
  return copy(o)
end

function Kube:update_status(obj)
  local m = obj.metadata
  local k = key(obj.apiVersion, obj.kind, m.namespace, m.name)
  local cur = self.objects[k]
  if not cur then return nil, err("NotFound", 404, obj.kind .. " not found") end
  if m.resourceVersion ~= cur.metadata.resourceVersion then
    return nil, err("Conflict", 409, "the object has been modified")
  end
  self:_record("update_status", obj)
  cur.status = copy(obj.status)
  cur.metadata.resourceVersion = self:_next_rv()
  return copy(cur)
end

-- RFC 7386 merge of table patch p into table t (objects merge, M.null
-- deletes, the rest replaces).
local function merge(t, p)
  for k, v in pairs(p) do
    if v == M.null then t[k] = nil
    elseif type(v) == "table" and next(v) ~= nil and #v == 0 then
      if type(t[k]) ~= "table" then t[k] = {} end
      merge(t[k], v)
    else t[k] = copy(v) end
  end
end

--- Records the patch (and keeps it in self.patches); a merge patch given
-- as a table is applied. A metadata.resourceVersion in it that is not the
-- stored one is a Conflict, as with the API server.
function Kube:patch(api, kind, ns, name, p, ptype)
  local cur = self.objects[key(api, kind, ns, name)]
  if cur and type(p) == "table" and type(p.metadata) == "table" and p.metadata.resourceVersion and
      p.metadata.resourceVersion ~= cur.metadata.resourceVersion then
    return nil, err("Conflict", 409, "the object has been modified")
  end
  self:_record("patch", kind, ns, name)
  self.patches = self.patches or {}
  self.patches[#self.patches + 1] = copy(p)
  if cur and type(p) == "table" and (ptype == nil or ptype == "merge") then
    merge(cur, p)
    cur.metadata.resourceVersion = self:_next_rv()
  end
  return Kube.get(self, api, kind, ns, name)
end

function Kube:delete(api, kind, ns, name)
  local k = key(api, kind, ns, name)
  if not self.objects[k] then return nil, err("NotFound", 404, kind .. " not found") end
  self:_record("delete", kind, ns, name)
  self.objects[k] = nil
  return true
end

function Kube:event(obj, etype, reason, message)
  self:_record("event", "Event", obj.metadata.namespace, reason)
  self.events[#self.events + 1] = { type = etype, reason = reason, message = message }
  return true
end

--- Plays the owner of a spec edit: applies `fn` to the stored object's
-- spec and bumps generation, as a `kubectl apply` would (no write recorded).
function Kube:edit(api, kind, ns, name, fn)
  local o = assert(self.objects[key(api, kind, ns, name)], "edit: no such object")
  fn(o)
  o.metadata.generation = o.metadata.generation + 1
  o.metadata.resourceVersion = self:_next_rv()
  return o
end

return M
