--- busted helper (.busted `helper`): puts vsgate's `vsg` Lua C module
-- (vsg.so, core/lua/lua_module.c) on package.cpath, so the shipped Lua
-- code gets the real vsg.null, vsg.isnull, vsg.time and vsg.url in specs.
-- Where: $VSG_LUA_CMODULES (ctest sets it to <build>/lua-cmodules), else
-- build/lua-cmodules or build-test/lua-cmodules of the source tree (what
-- `make build` / `make test` make).
local tried = {}
local function has(dir)
  if not dir or dir == "" then return false end
  tried[#tried + 1] = dir
  local f = io.open(dir .. "/vsg.so", "rb")
  if f then f:close() end
  return f ~= nil
end

local dir
for _, d in ipairs({ os.getenv("VSG_LUA_CMODULES") or "", "build/lua-cmodules", "build-test/lua-cmodules" }) do
  if has(d) then dir = d break end
end
if not dir then
  error("spec/lua needs vsgate's vsg.so (looked in " .. table.concat(tried, ", ") .. "); build it first:\n" ..
    "  cmake -S . -B build && cmake --build build --target vsg_lua_module\n" ..
    "or set VSG_LUA_CMODULES=<build dir>/lua-cmodules", 0)
end
package.cpath = dir .. "/?.so;" .. package.cpath
