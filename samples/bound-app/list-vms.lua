#!/usr/bin/env lua5.4
-- list-vms.lua - the Lua twin of vsgate-list-vms: a bound app that lists
-- every VM and its power state over SOAP, then shows that a REST (vAPI)
-- session works, using only the `vsgate.vsphere` module and what the
-- VSphereBinding injected (VC_URL, VC_INSECURE, the Secret files under
-- /var/bindings/vsphere or VC_SECRET_PATH).
--
--   LUA_CPATH="<libdir>/lua/5.4/?.so;;" lua5.4 list-vms.lua [REST_PATH]
--
-- REST_PATH defaults to /rest/com/vmware/cis/tagging/category (on a real
-- vCenter, /rest/vcenter/vm also works; vcsim does not simulate it).
-- Exit status 0 on success, 1 on any error (one line on stderr).
local vsphere = require "vsgate.vsphere"

local rest_path = arg[1] or "/rest/com/vmware/cis/tagging/category"

local function die(what, msg, code)
  io.stderr:write(("list-vms.lua: %s failed (%s): %s\n"):format(what, code or "?", msg))
  os.exit(1)
end

local function one_line(s)
  s = s:gsub("[\r\n]+$", "")
  if #s > 300 then s = s:sub(1, 300) .. "..." end
  return s
end

-- SOAP
local client, err, code = vsphere.client_from_env()
if not client then die("SOAP login", err, code) end
print(("SOAP: logged in to %s (%s, API %s)"):format(client:url(), client:full_name(),
                                                   client:api_version()))
local vms
vms, err, code = client:vms()
if not vms then die("listing VMs", err, code) end
print(("%-24s %-12s %s"):format("VM", "POWER STATE", "ID"))
for _, vm in ipairs(vms) do
  print(("%-24s %-12s %s"):format(vm.name, vm.power_state, vm.id))
end
print(("SOAP: %d VMs"):format(#vms))
client:close()

-- REST
local rest
rest, err, code = vsphere.rest_session_from_env()
if not rest then die("REST login", err, code) end
local status, body = rest:request("POST", "/rest/com/vmware/cis/session?~action=get")
if not status then die("REST session check", body, err) end
if status ~= 200 then die("REST session check", "HTTP " .. status, "EHTTP") end
print(("REST: session ok at %s"):format(rest:url()))
print("REST: session: " .. one_line(body))
body, err, code = rest:get(rest_path)
if not body then die("REST GET " .. rest_path, err, code) end
print(("REST: GET %s: %s"):format(rest_path, one_line(body)))
rest:close()
