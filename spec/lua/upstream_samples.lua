--- samples/upstream/*.yaml (the Go version's samples, which must apply
-- unchanged) as Lua tables, hand-transcribed; `read` parses the subset of
-- YAML those files use (nested block mappings of scalars, comments) so a
-- spec can check the transcription against the files.
local M = {}

local CREDS = { name = "vsphere-credentials" }
local CHECKPOINT = { maxAgeSeconds = 300, periodSeconds = 10 }
local API = "sources.tanzu.vmware.com/v1alpha1"

local function source(name, sink)
  return {
    apiVersion = API, kind = "VSphereSource", metadata = { name = name },
    spec = {
      address = "https://vcenter.corp.local", skipTLSVerify = true, secretRef = CREDS,
      sink = sink, checkpointConfig = CHECKPOINT,
    },
  }
end

M.FILES = {
  -- samples/upstream/source.yaml
  ["source.yaml"] = source("source", { uri = "http://where.to.send.stuff" }),
  -- samples/upstream/source-sink-broker.yaml
  ["source-sink-broker.yaml"] = source("source-to-broker",
    { ref = { apiVersion = "eventing.knative.dev/v1beta1", kind = "Broker", name = "default" } }),
  -- samples/upstream/source-sink-ksvc.yaml
  ["source-sink-ksvc.yaml"] = source("source-to-ksvc",
    { ref = { apiVersion = "serving.knative.dev/v1", kind = "Service", name = "the-knative-service-name" } }),
  -- samples/upstream/source-sink-service.yaml
  ["source-sink-service.yaml"] = source("source-to-service",
    { ref = { apiVersion = "v1", kind = "Service", name = "the-service-name" } }),
  -- samples/upstream/binding.yaml
  ["binding.yaml"] = {
    apiVersion = API, kind = "VSphereBinding", metadata = { name = "binding" },
    spec = {
      address = "https://my-vsphere-endpoint.local", skipTLSVerify = true, secretRef = CREDS,
      subject = { apiVersion = "apps/v1", kind = "Deployment", name = "my-simple-app" },
    },
  },
  -- samples/upstream/binding-selector.yaml
  ["binding-selector.yaml"] = {
    apiVersion = API, kind = "VSphereBinding", metadata = { name = "binding-jobs" },
    spec = {
      address = "https://my-vsphere-endpoint.local", skipTLSVerify = true, secretRef = CREDS,
      subject = { apiVersion = "batch/v1", kind = "Job", selector = { matchLabels = { foo = "bar" } } },
    },
  },
}

local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deep_copy(x) end
  return out
end

--- A fresh copy of the sample `file`, in namespace `ns` (default "default").
function M.get(file, ns)
  local obj = deep_copy(assert(M.FILES[file], file))
  obj.metadata.namespace = ns or "default"
  return obj
end

--- The sample file names of one kind ("VSphereSource" / "VSphereBinding"), sorted.
function M.names(kind)
  local out = {}
  for name, obj in pairs(M.FILES) do
    if obj.kind == kind then out[#out + 1] = name end
  end
  table.sort(out)
  return out
end

local function scalar(s)
  if s == "true" then return true end
  if s == "false" then return false end
  if s:match("^%-?%d+$") then return math.tointeger(tonumber(s)) end
  local q = s:match('^"(.*)"$') or s:match("^'(.*)'$")
  return q or s
end

--- Parses the block-mapping YAML subset of the samples into a table.
function M.read(path)
  local root = {}
  local stack = { { indent = -1, t = root } }
  for line in assert(io.open(path)):lines() do
    local body = line:gsub("%s+#.*$", ""):gsub("^%s*#.*$", "")
    if body:match("%S") then
      local indent, key, rest = body:match("^( *)([^:%s][^:]*):%s*(.-)%s*$")
      assert(key, "unsupported YAML line: " .. line)
      indent = #indent
      while stack[#stack].indent >= indent do table.remove(stack) end
      local parent = stack[#stack].t
      if rest == "" then
        local t = {}
        parent[key] = t
        stack[#stack + 1] = { indent = indent, t = t }
      else
        parent[key] = scalar(rest)
      end
    end
  end
  return root
end

return M
