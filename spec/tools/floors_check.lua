-- floors_check.lua - checks every `#include "..."` in core/ against the
-- floors of docs/DESIGN.md ("Who may call whom").
--
--   lua5.4 spec/tools/floors_check.lua <repo root> [design doc]
--
-- The doc's section "Who may call whom" lists one line per module:
--   - `filter/` (floor 5): lua, vsphere, cloudevents, kube, base
--   - `base/` (floor 1): nothing
-- and pairs that must never know each other, even through others:
--   - never: `soap/` and `kube/`
-- Checked:
--   * the doc and core/ name the same modules (a new folder needs a line);
--   * an arrow points to a known module on a lower floor (no arrow up or
--     sideways, so no cycle);
--   * a `never` pair: neither reaches the other, directly or through others;
--   * in core/<m>/**.{c,h}, each `#include "x/..."` names m itself, one of
--     m's arrows, or a folder of core/<m>/include/ (m's own public tree);
--     "x/internal.h" only from x itself.
-- Prints one line per problem and exits 1 if there is any, else says how
-- much it checked and exits 0.

local root = arg[1] or "."
local doc_path = arg[2] or (root .. "/docs/DESIGN.md")

local problems = {}
local function problem(fmt, ...)
    problems[#problems + 1] = string.format(fmt, ...)
end

local function read(path)
    local f, err = io.open(path, "r")
    if not f then
        io.stderr:write("floors_check: ", err, "\n")
        os.exit(2)
    end
    local text = f:read("a")
    f:close()
    return text
end

local function shell_quote(s)
    return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function lines_of(cmd)
    local out = {}
    local p = assert(io.popen(cmd, "r"))
    for l in p:lines() do out[#out + 1] = l end
    p:close()
    return out
end

local dir_cache = {}
local function is_dir(path)
    if dir_cache[path] == nil then
        dir_cache[path] = os.execute("test -d " .. shell_quote(path)) == true
    end
    return dir_cache[path]
end

-- ---- The doc ---------------------------------------------------------------

local floor, arrows, never = {}, {}, {}
do
    local text = read(doc_path)
    local section = text:match("\n## Who may call whom\n(.-)\n## ") or text:match("\n## Who may call whom\n(.*)$")
    if not section then
        problem("%s: no section \"## Who may call whom\"", doc_path)
    else
        for line in section:gmatch("[^\n]+") do
            local m, f, rest = line:match("^%- `([%w_]+)/` %(floor (%d+)%): (.*)$")
            if m then
                if floor[m] then problem("%s: module %s/ listed twice", doc_path, m) end
                floor[m] = tonumber(f)
                arrows[m] = {}
                rest = rest:gsub("%s*%-%-.*$", ""):gsub("%.$", "")
                if rest ~= "nothing" then
                    for dep in rest:gmatch("[^,%s]+") do
                        arrows[m][#arrows[m] + 1] = dep
                    end
                end
            end
            local a, b = line:match("^%- never: `([%w_]+)/` and `([%w_]+)/`")
            if a then never[#never + 1] = {a, b} end
        end
        if not next(floor) then problem("%s: no module lines in \"Who may call whom\"", doc_path) end
    end
end

local allowed = {}
for m, deps in pairs(arrows) do
    allowed[m] = {}
    for _, d in ipairs(deps) do
        if not floor[d] then
            problem("%s: %s/ -> %s: no such module in the list", doc_path, m, d)
        elseif floor[d] >= floor[m] then
            problem("%s: %s/ (floor %d) -> %s/ (floor %d): an arrow must point down",
                    doc_path, m, floor[m], d, floor[d])
        end
        allowed[m][d] = true
    end
end

local function reaches(from, to, seen)
    seen = seen or {}
    if seen[from] then return false end
    seen[from] = true
    for d in pairs(allowed[from] or {}) do
        if d == to or reaches(d, to, seen) then return true end
    end
    return false
end

for _, p in ipairs(never) do
    local a, b = p[1], p[2]
    if not floor[a] or not floor[b] then
        problem("%s: never: %s/ and %s/: both must be listed modules", doc_path, a, b)
    else
        if reaches(a, b) then problem("%s: %s/ reaches %s/, which it must never know", doc_path, a, b) end
        if reaches(b, a) then problem("%s: %s/ reaches %s/, which it must never know", doc_path, b, a) end
    end
end

-- ---- The code --------------------------------------------------------------

local core = root .. "/core"
local modules = {}
for _, l in ipairs(lines_of("find " .. shell_quote(core) .. " -mindepth 1 -maxdepth 1 -type d | sort")) do
    modules[#modules + 1] = l:match("([^/]+)$")
end
local in_core = {}
for _, m in ipairs(modules) do
    in_core[m] = true
    if not floor[m] then problem("core/%s/: not in %s (\"Who may call whom\")", m, doc_path) end
end
for m in pairs(floor) do
    if not in_core[m] then problem("%s: %s/ is listed but core/%s/ does not exist", doc_path, m, m) end
end

local nfiles, nincludes, nown = 0, 0, 0
for _, m in ipairs(modules) do
    local files = lines_of("find " .. shell_quote(core .. "/" .. m) ..
                           " -type f \\( -name '*.c' -o -name '*.h' \\) | sort")
    for _, path in ipairs(files) do
        nfiles = nfiles + 1
        local rel = path:sub(#root + 2)
        local n = 0
        for line in io.lines(path) do
            n = n + 1
            local inc = line:match('^%s*#%s*include%s*"([^"]+)"')
            if inc then
                nincludes = nincludes + 1
                local x, rest = inc:match("^([^/]+)/(.+)$")
                -- Its own folder, or its own public header tree (client/include/vsgate/).
                local own = x and (x == m or is_dir(core .. "/" .. m .. "/include/" .. x))
                if not x then
                    problem("%s:%d: #include \"%s\": name the module (\"<module>/%s\")", rel, n, inc, inc)
                elseif own then
                    nown = nown + 1
                elseif rest == "internal.h" then
                    problem("%s:%d: #include \"%s\": internal to %s/", rel, n, inc, x)
                elseif not floor[x] then
                    problem("%s:%d: #include \"%s\": %s/ is no module of the floors", rel, n, inc, x)
                elseif not (allowed[m] and allowed[m][x]) then
                    problem("%s:%d: #include \"%s\": %s/ may not call %s/ (docs/DESIGN.md, Who may call whom)",
                            rel, n, inc, m, x)
                end
            end
        end
    end
end

if #problems > 0 then
    for _, p in ipairs(problems) do io.stdout:write(p, "\n") end
    io.stdout:write(string.format("floors_check: %d problem(s)\n", #problems))
    os.exit(1)
end
local nm = 0
for _ in pairs(floor) do nm = nm + 1 end
io.stdout:write(string.format("floors_check: %d modules, %d files, %d includes (%d within their module): "
                              .. "all on their floors\n", nm, nfiles, nincludes, nown))
