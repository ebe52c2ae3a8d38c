/*
 * test_lua_meter.c - C work done for scripts is metered (core/lua/
 * lua_pattern.c, lua_meter.c, host.c): pathological patterns, library
 * functions over big input and loops of them end with the usual budget or
 * time error, with the script's chunk:line, within twice the time limit;
 * the time limit counts from the start of the call; the metered table
 * functions behave as Lua's.
 *
 * Uses: lua_testutil.h, lua/host.h, base/vtime.h, Lua 5.4 (the reference
 * library for the table functions). Owns: its states.
 */
#include "lua_testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <lualib.h>

#include "base/vtime.h"

#define BUDGET_ERR "instruction budget exceeded (1000000 instructions)"
#define TIME_ERR "time limit exceeded (1000 ms)"

/* Runs `src` and checks that it fails with a limit at line `line` of
 * test.lua within 2 x the time limit `limit_ms`; prints the time. */
static void expect_limit(struct vsg_lua *s, const char *src, int line,
                         uint32_t limit_ms, const char *what)
{
    int64_t t0 = vsg_time_mono_ms(), ms;
    const char *r = lt_eval(s, src);
    char at[64];

    ms = vsg_time_mono_ms() - t0;
    printf("  %-44s %5lld ms  %s\n", what, (long long)ms, r);
    (void)snprintf(at, sizeof at, "error ELIMIT: test.lua:%d: ", line);
    CHECK_HAS(r, at);
    CHECK(lt_has(r, "instruction budget exceeded") ||
          lt_has(r, "time limit exceeded"));
    if (ms > 2 * (int64_t)limit_ms)
        CHECK_FAIL_("%s took %lld ms, limit %u ms", what, (long long)ms,
                    limit_ms);
    /* The state is fine afterwards. */
    CHECK_STR(lt_eval(s, "return ('x'):rep(3):find('x', 2)"), "2");
}

/* A filter state with the defaults (1,000,000 instructions, 1000 ms). */
static struct vsg_lua *filter_state(void)
{
    return lt_state(VSG_LUA_KIND_FILTER, 0, 0);
}

/* A state without a practical budget: only the clock stops it. */
static struct vsg_lua *clock_state(uint32_t time_ms)
{
    struct vsg_lua_config cfg;
    struct vsg_error err;
    struct vsg_lua *s;

    memset(&cfg, 0, sizeof cfg);
    cfg.kind = VSG_LUA_KIND_FILTER;
    cfg.name = "test.lua.state";
    cfg.limits.instructions = UINT64_C(1) << 50;
    cfg.limits.time_ms = time_ms;
    s = vsg_lua_newstate(&cfg, &err);
    if (s == NULL) CHECK_FAIL_("vsg_lua_newstate: %s", err.msg);
    return s;
}

/* ---- patterns --------------------------------------------------------- */

static void test_patterns_stop(void)
{
    struct vsg_lua *s = filter_state();

    /* The cases: 43 s and forever with Lua's matcher. */
    expect_limit(s, "return ('a'):rep(250):find('.-.-.-.-b')", 1, 1000,
                 "find .-.-.-.-b, 250 chars");
    expect_limit(s, "return ('a'):rep(3000):find('.-.-.-.-b')", 1, 1000,
                 "find .-.-.-.-b, 3000 chars");
    CHECK_HAS(lt_eval(s, "return ('a'):rep(3000):find('.-.-.-.-b')"),
              BUDGET_ERR);
    expect_limit(s, "local s = string.rep('a', 5000)\nreturn s:match('(.-)*b')",
                 2, 1000, "match (.-)*b, 5000 chars");
    expect_limit(s, "return ('a'):rep(200):match(('a?'):rep(100) .. "
                    "('a'):rep(100) .. 'b')",
                 1, 1000, "match a?^100 a^100 b (exponential)");
    expect_limit(s, "return ('x'):rep(5000):find('(x*)%1%1%1y')", 1, 1000,
                 "back-references");
    expect_limit(s, "return ('('):rep(4000):find('%b()-%b()-%b()-x')", 1,
                 1000, "%b");
    expect_limit(s, "return string.gsub(('a'):rep(3000), '.-.-.-b', 'x')", 1,
                 1000, "gsub");
    expect_limit(s, "local n = 0\nreturn ('ab'):rep(100):gsub('a', "
                    "function()\n  return ('a'):rep(300):find('.-.-.-.-b')\n"
                    "end)",
                 3, 1000, "gsub with a function replacement");
    expect_limit(s, "for x in ('a'):rep(3000):gmatch('.-.-.-b') do end", 1,
                 1000, "gmatch");
    expect_limit(s, "local t = ('a b '):rep(100000)\nwhile true do\n"
                    "  for w in t:gmatch('%a+') do end\nend",
                 3, 1000, "gmatch loop over 400 KB");
    expect_limit(s, "local h, n = ('a'):rep(1000000), ('a'):rep(500000) .. "
                    "'b'\nwhile true do h:find(n, 1, true) end",
                 2, 1000, "plain find loop");
    /* Not catchable, and the location is the script's. */
    expect_limit(s, "local ok = pcall(string.find, ('a'):rep(300), "
                    "'.-.-.-.-b') return 'caught'",
                 1, 1000, "pcall(string.find, ...)");
    vsg_lua_close(s);
}

static void test_patterns_stop_on_time(void)
{
    /* With no practical budget the clock stops the matcher midway. */
    struct vsg_lua *s = clock_state(100);

    expect_limit(s, "return ('a'):rep(3000):find('.-.-.-.-b')", 1, 100,
                 "find on the clock, 100 ms");
    CHECK_HAS(lt_eval(s, "return ('a'):rep(3000):find('.-.-.-.-b')"),
              "time limit exceeded (100 ms)");
    expect_limit(s, "return ('a'):rep(300):gsub('a', function() return "
                    "('a'):rep(3000):match('.-.-.-b') end)",
                 1, 100, "gsub callback on the clock");
    vsg_lua_close(s);
}

/* ---- other library functions ------------------------------------------ */

static void test_library_stops(void)
{
    struct vsg_lua *s = filter_state();

    expect_limit(s, "local s = ('a'):rep(6 * 1024 * 1024)\nwhile true do "
                    "utf8.len(s) end",
                 2, 1000, "utf8.len over 6 MB, looped");
    expect_limit(s, "local s = ('\\u{e9}'):rep(2 * 1024 * 1024)\nwhile true "
                    "do utf8.offset(s, -1000000) end",
                 2, 1000, "utf8.offset, looped");
    expect_limit(s, "local s = ('a'):rep(4 * 1024 * 1024)\nwhile true do "
                    "local u = s:upper() end",
                 2, 1000, "string.upper over 4 MB, looped");
    expect_limit(s, "local s = ('a'):rep(4 * 1024 * 1024)\nwhile true do "
                    "local u = ('%s'):format(s) end",
                 2, 1000, "string.format over 4 MB, looped");
    expect_limit(s, "local s = ('a'):rep(1024 * 1024)\nwhile true do "
                    "local u = s:byte(1, 100000) end",
                 2, 1000, "string.byte of 100000, looped");
    expect_limit(s, "local s = ('1'):rep(4 * 1024 * 1024)\nwhile true do "
                    "local u = tonumber(s) end",
                 2, 1000, "tonumber over 4 MB, looped");
    expect_limit(s, "local t = {('x'):rep(50000)} for i = 2, 100 do t[i] = "
                    "t[1] end\nwhile true do local u = table.concat(t) end",
                 2, 1000, "table.concat of 5 MB, looped");
    /* Lua loops 1e15 times for nothing here. */
    CHECK_STR(lt_eval(s, "return string.rep('', 1e15) .. string.rep('', "
                         "1e15, '') .. '.'"),
              ".");
    vsg_lua_close(s);
}

static void test_unbounded_loops_stop(void)
{
    struct vsg_lua *s = filter_state();
    struct vsg_lua *c = clock_state(100);
    static const char *const cases[][2] = {
        {"return table.move({}, 1, 1e15, 1)", "table.move 1e15 nils"},
        {"local t = setmetatable({}, {__index = rawlen})\n"
         "return table.concat(t, '', 1, 1e9)",
         "table.concat, C __index"},
        {"local t = setmetatable({}, {__len = function() return 1e12 end, "
         "__index = rawlen, __newindex = rawequal})\n"
         "table.insert(t, 1, 'x')",
         "table.insert, huge __len"},
        {"local t = setmetatable({}, {__len = function() return 1e12 end, "
         "__index = rawlen, __newindex = rawequal})\n"
         "table.remove(t, 1)",
         "table.remove, huge __len"},
        {"local t = setmetatable({}, {__index = rawlen})\n"
         "while true do local x = table.unpack(t, 1, 100000) end",
         "table.unpack, looped"},
        {"local t = setmetatable({}, {__len = function() return 1e8 end, "
         "__index = rawlen, __newindex = rawequal})\n"
         "table.sort(t)",
         "table.sort, huge __len"},
        {"local t = {} for i = 1, 2000 do t[i] = 'x' end\n"
         "while true do table.insert(t, 1, 'y') table.remove(t, 1) end",
         "table.insert/remove at the front, looped"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[80];

        expect_limit(s, cases[i][0], 2 - (cases[i][0][0] == 'r'), 1000,
                     cases[i][1]);
        (void)snprintf(what, sizeof what, "%s, on the clock", cases[i][1]);
        expect_limit(c, cases[i][0], 2 - (cases[i][0][0] == 'r'), 100, what);
    }
    vsg_lua_close(s);
    vsg_lua_close(c);
}

static void test_vsg_functions_stop(void)
{
    struct vsg_lua *s = filter_state();

    vsg_lua_set_context(s, VSG_LUA_CTX_FILTER);
    expect_limit(s, "local t = {} for i = 1, 30 do t = {t, t} end\n"
                    "while true do pcall(vsg.json.encode, t) end",
                 2, 1000, "vsg.json.encode, failing, looped");
    expect_limit(s, "local t = {} for i = 1, 1000 do t[i] = ('x'):rep(1000) "
                    "end\nwhile true do local j = vsg.json.encode(t) end",
                 2, 1000, "vsg.json.encode of 1 MB, looped");
    expect_limit(s, "local j = '[' .. ('1,'):rep(100000) .. '1]'\n"
                    "while true do local t = vsg.json.decode(j) end",
                 2, 1000, "vsg.json.decode, looped");
    expect_limit(s, "local u = ('http://u:p@h/ '):rep(100000)\n"
                    "while true do local t = vsg.url.redact(u) end",
                 2, 1000, "vsg.url.redact, looped");
    expect_limit(s, "local piece = '--' .. ('x'):rep(1000000) .. '\\n'\n"
                    "local n = 0\nlocal f = load(function() n = n + 1 if n < "
                    "1000 then return piece end end)",
                 3, 1000, "load with a reader, big pieces");
    expect_limit(s, "local src = '--' .. ('x'):rep(4000000)\n"
                    "while true do load(src) end",
                 2, 1000, "load of 4 MB, looped");
    vsg_lua_close(s);

    /* A module that fails to load is compiled again by every require. */
    s = filter_state();
    {
        static const char body[] = "error('not today')\n";
        char *src = malloc(500000 + sizeof body);
        struct vsg_error err;

        CHECK(src != NULL);
        memcpy(src, "--", 2);
        memset(src + 2, 'x', 500000 - 3);
        src[499999] = '\n';
        memcpy(src + 500000, body, sizeof body);
        CHECK_INT(vsg_lua_add_module(s, "big", src, strlen(src), &err),
                  VSG_OK);
        free(src);
    }
    expect_limit(s, "while true do pcall(require, 'big') end", 1, 1000,
                 "require of a failing 500 KB module, looped");
    vsg_lua_close(s);
}

/* ---- the clock runs from the start of the call ------------------------ */

/* [-1, +0, e] Sleeps 150 ms (C work before any Lua), then loops in Lua. */
static int slow_then_loop(lua_State *L)
{
    struct timespec ts = {0, 150 * 1000 * 1000};

    (void)nanosleep(&ts, NULL);
    if (luaL_loadstring(L, "while true do end") != LUA_OK) lua_error(L);
    lua_call(L, 0, 0);
    return 0;
}

static void test_clock_from_call_start(void)
{
    struct vsg_lua *s = clock_state(100);
    struct vsg_error err;
    int64_t t0 = vsg_time_mono_ms(), ms;

    CHECK_INT(vsg_lua_cpcall(s, slow_then_loop, NULL, 0, &err),
              VSG_ERR_LIMIT);
    ms = vsg_time_mono_ms() - t0;
    printf("  150 ms of C, then a loop, limit 100 ms: %lld ms: %s\n",
           (long long)ms, err.msg);
    CHECK_HAS(err.msg, "time limit exceeded (100 ms)");
    /* Counting from the first hook it would be 250 ms. */
    CHECK(ms < 200);
    vsg_lua_close(s);
}

/* ---- the table functions are Lua's ------------------------------------ */

static void test_table_functions_as_lua(void)
{
    static const char *const snippets[] = {
        "local t = {1, 2, 3} table.insert(t, 'x') return table.concat(t, ',')",
        "local t = {1, 2, 3} table.insert(t, 1, 'x') return "
        "table.concat(t, ',')",
        "local t = {1, 2, 3} table.insert(t, 4, 'x') return "
        "table.concat(t, ',')",
        "local t = {1, 2, 3} table.insert(t, 5, 'x')",
        "local t = {1, 2, 3} table.insert(t, 0, 'x')",
        "local t = {1, 2, 3} table.insert(t, 1, 'x', 'y')",
        "table.insert(nil, 'x')",
        "table.insert('abc', 'x')",
        "table.insert({}, 1.5, 'x')",
        "local t = {1, 2, 3} return table.remove(t) .. #t",
        "local t = {1, 2, 3} return table.remove(t, 1) .. table.concat(t)",
        "local t = {1, 2, 3} return tostring(table.remove(t, 4)) .. #t",
        "local t = {1, 2, 3} return table.remove(t, 5)",
        "local t = {} return tostring(table.remove(t)) .. #t",
        "local t = {} return tostring(table.remove(t, 0)) .. #t",
        "local t = {[0] = 'z'} return tostring(table.remove(t, 0)) .. "
        "tostring(t[0])",
        "return table.concat({1, 2, 3}, ', ', 2, 3)",
        "return table.concat({1, 2.5, 'x'})",
        "return table.concat({1, {}, 3})",
        "return table.concat({1, 2, 3}, '', 3, 2)",
        "return table.concat({}, 'x', 1, 0)",
        "return table.concat({1, 2}, nil, 1, 3)",
        "return table.concat(nil)",
        "return table.concat({}, {})",
        "local t = setmetatable({}, {__index = function(_, i) return 'v' .. "
        "i end, __len = function() return 3 end}) return table.concat(t, '-')",
        "return table.concat(setmetatable({}, {__index = rawlen}), '', 1, 5)",
        "return select('#', table.unpack({1, 2, 3}))",
        "return select('#', table.unpack({1, 2, 3}, 2))",
        "return select('#', table.unpack({1, 2, 3}, 2, 5))",
        "return select('#', table.unpack({1, 2, 3}, 3, 2))",
        "return table.unpack({1, 2, 3}, -1, 1)",
        "return table.unpack({}, 1, 1e8)",
        "return table.unpack({}, math.mininteger, math.maxinteger)",
        "return table.unpack({}, math.maxinteger - 1, math.maxinteger)",
        "return table.unpack(nil)",
        "return table.unpack('abc', 1, 2)",
        "local t = table.move({1, 2, 3}, 1, 3, 2) return table.concat(t, ',')",
        "local t = table.move({1, 2, 3}, 2, 3, 1) return table.concat(t, ',')",
        "local t = table.move({1, 2, 3}, 1, 3, 1, {}) return "
        "table.concat(t, ',')",
        "local a = {1, 2, 3} local t = table.move(a, 1, 3, 3, a) return "
        "table.concat(t, ',')",
        "return table.move({}, 1, 0, 1) ~= nil",
        "return table.move({}, -1, math.maxinteger, 1)",
        "return table.move({}, 1, math.maxinteger, 2)",
        "return table.move({}, 1, 2, 3, 'x')",
        "return table.move(nil, 1, 2, 3)",
        "return table.move({}, 1, 2)",
        "local log = {} local p = setmetatable({}, {__index = function(_, k) "
        "log[#log + 1] = 'r' .. k return k end, __newindex = function(_, k, "
        "v) log[#log + 1] = 'w' .. k end}) table.move(p, 1, 3, 2) "
        "return table.concat(log, ' ')",
        "local t = table.pack(1, nil, 3) return t.n .. tostring(t[2]) .. t[3]",
        "local t = {5, 2, 8, 1} table.sort(t) return table.concat(t, ',')",
        "local t = {5, 2, 8, 1} table.sort(t, function(a, b) return a > b "
        "end) return table.concat(t, ',')",
        "table.sort({1, 'x', 2})",
        "table.sort({3, 2, 1}, 'x')",
        "table.sort(nil)",
        "return string.rep('ab', 3, ',')",
        "return string.rep('x', -1)",
        "return string.rep('x', 1e300)",
        "return string.rep()",
        "return ('x'):rep()",
        "return ('x'):rep(2, {})",
        "return ('abc'):byte(-1)",
        "return string.byte('abc', 1, 1e7)",
        "return string.char(65, 66)",
        "return string.char(256)",
        "return ('x'):upper()",
        "return ('%d'):format('x')",
        "return string.format('%5.1f|%q', 1.25, 'a\\n')",
        "return utf8.len('\\u{e9}t\\u{e9}')",
        "return utf8.len('abc', 5)",
        "return utf8.len('a\\xffb')",
        "return utf8.char(72, 233, 0x10FFFF)",
        "return utf8.char(-1)",
        "return utf8.offset('a\\u{e9}b', 3)",
        "return utf8.offset('a\\u{e9}b', -1)",
        "return utf8.offset('a\\u{e9}b', 1, 3)",
        "return select('#', utf8.codepoint('abc', 1, -1))",
        "return tonumber('0x10')",
        "return tonumber('10', 2)",
        "return tonumber(' 12 ')",
        "return tonumber({})",
        "return tonumber()",
        "return tostring(tonumber(12))",
        "return string.unpack('i4', string.pack('i4', 7))",
        "return string.packsize('i4i8')",
    };
    struct vsg_lua *s = filter_state();
    lt_same_as_lua(s, snippets, sizeof snippets / sizeof snippets[0]);
    vsg_lua_close(s);
}

TEST_LIST = {
    {"patterns_stop", test_patterns_stop},
    {"patterns_stop_on_time", test_patterns_stop_on_time},
    {"library_stops", test_library_stops},
    {"unbounded_loops_stop", test_unbounded_loops_stop},
    {"vsg_functions_stop", test_vsg_functions_stop},
    {"clock_from_call_start", test_clock_from_call_start},
    {"table_functions_as_lua", test_table_functions_as_lua},
    {NULL, NULL}};

TEST_MAIN()
