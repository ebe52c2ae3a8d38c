/*
 * test_lua_vsg.c - unit tests for the vsg module: vsg.json (round trips,
 * exact integers, null, arrays vs objects, errors), vsg.time, vsg.url, vsg.log, and
 * the C JSON entry points of lua/json.h.
 */
#include "lua_testutil.h"

#include "base/buf.h"
#include "lua/json.h"

/* A filter state with the defaults, in the filter context. */
static struct vsg_lua *state(void)
{
    struct vsg_lua *s = lt_state(VSG_LUA_KIND_FILTER, 0, 0);

    vsg_lua_set_context(s, VSG_LUA_CTX_FILTER);
    return s;
}

/* ---- vsg.json.encode -------------------------------------------------- */

static void test_encode_scalars(void)
{
    struct vsg_lua *s = state();

    CHECK_STR(lt_eval(s, "return vsg.json.encode(vsg.null)"), "null");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(nil)"), "null");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(true) .. "
                         "vsg.json.encode(false)"),
              "truefalse");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(42)"), "42");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(-7)"), "-7");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(1.0)"), "1.0");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(0.1)"), "0.1");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(1/3)"),
              "0.33333333333333331");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(1e300)"), "1e+300");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(2^53 + 1)"),
              "9007199254740992.0");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(math.tointeger(2^53) + 1)"),
              "9007199254740993");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(math.maxinteger) .. ' ' .. "
                         "vsg.json.encode(math.mininteger)"),
              "9223372036854775807 -9223372036854775808");
    CHECK_STR(lt_eval(s, "return vsg.json.encode('a\"b\\\\c\\n\\1\\u{e9}')"),
              "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    CHECK_STR(lt_eval(s, "return vsg.json.encode('\\255ok')"),
              "\"\\ufffdok\"");
    vsg_lua_close(s);
}

static void test_encode_tables(void)
{
    struct vsg_lua *s = state();

    CHECK_STR(lt_eval(s, "return vsg.json.encode({b = 1, a = 2, c = {}})"),
              "{\"a\":2,\"b\":1,\"c\":{}}");
    CHECK_STR(lt_eval(s, "return vsg.json.encode({1, 'two', {3}})"),
              "[1,\"two\",[3]]");
    CHECK_STR(lt_eval(s, "return vsg.json.encode({})"), "{}");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(vsg.json.array())"), "[]");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(vsg.json.array({1, 2}))"),
              "[1,2]");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(vsg.json.object({1, 2}))"),
              "{\"1\":1,\"2\":2}");
    CHECK_STR(lt_eval(s, "return vsg.json.encode({[1] = 'a', [3] = 'c'})"),
              "{\"1\":\"a\",\"3\":\"c\"}");
    CHECK_STR(lt_eval(s, "return vsg.json.encode({1, 2, x = 3})"),
              "{\"1\":1,\"2\":2,\"x\":3}");
    CHECK_STR(lt_eval(s, "return vsg.json.encode({[0] = 'z'})"),
              "{\"0\":\"z\"}");
    CHECK_STR(lt_eval(s, "return vsg.json.encode({{a = vsg.null}, "
                         "vsg.null})"),
              "[{\"a\":null},null]");
    /* Sorted bytewise, deterministic. */
    CHECK_STR(lt_eval(s, "return vsg.json.encode({B = 1, a = 1, aa = 1, "
                         "['_'] = 1, ['1'] = 1})"),
              "{\"1\":1,\"B\":1,\"_\":1,\"a\":1,\"aa\":1}");
    CHECK_STR(lt_eval(s, "return getmetatable(vsg.json.array())"),
              "vsg.json.array");
    CHECK_STR(lt_eval(s, "return getmetatable(vsg.json.object())"),
              "vsg.json.object");
    vsg_lua_close(s);
}

static void test_encode_errors_raise(void)
{
    struct vsg_lua *s = state();

    CHECK_STR(lt_eval(s, "return vsg.json.encode({data = {list = {1, "
                         "print}}})"),
              "error ELUA: test.lua:1: vsg.json.encode: cannot encode a "
              "function value (at .data.list[2])");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(0/0)"),
              "error ELUA: test.lua:1: vsg.json.encode: cannot encode NaN");
    CHECK_STR(lt_eval(s, "return vsg.json.encode({x = math.huge})"),
              "error ELUA: test.lua:1: vsg.json.encode: cannot encode "
              "Infinity (at .x)");
    CHECK_STR(lt_eval(s, "local t = {} t.self = t return "
                         "vsg.json.encode(t)"),
              "error ELUA: test.lua:1: vsg.json.encode: nested too deeply "
              "(or a cycle) (at .self.self.self.self.self.self.self.self."
              "self.self.self.self.self.self.self.self...)");
    CHECK_STR(lt_eval(s, "return vsg.json.encode({[true] = 1})"),
              "error ELUA: test.lua:1: vsg.json.encode: cannot encode a "
              "table key of type boolean");
    CHECK_STR(lt_eval(s, "return vsg.json.encode({[1.5] = 1})"),
              "error ELUA: test.lua:1: vsg.json.encode: cannot encode a "
              "table key of type float");
    CHECK_STR(lt_eval(s, "return vsg.json.encode({[1] = 1, ['1'] = 2})"),
              "error ELUA: test.lua:1: vsg.json.encode: duplicate key \"1\" "
              "(integer and string keys collide)");
    CHECK_STR(lt_eval(s, "local a = vsg.json.array({1}) a.x = 1 return "
                         "vsg.json.encode(a)"),
              "error ELUA: test.lua:1: vsg.json.encode: array "
              "(vsg.json.array) has keys other than 1..n");
    CHECK_STR(lt_eval(s, "return vsg.json.encode()"),
              "error ELUA: test.lua:1: bad argument #1 to 'encode' (value "
              "expected)");
    CHECK_STR(lt_eval(s, "return vsg.json.array(5)"),
              "error ELUA: test.lua:1: bad argument #1 to 'array' (table "
              "expected, got number)");
    vsg_lua_close(s);
}

/* ---- vsg.json.decode -------------------------------------------------- */

static void test_decode_values(void)
{
    struct vsg_lua *s = state();

    CHECK_STR(lt_eval(s, "local v = vsg.json.decode('9007199254740993') "
                         "return math.type(v) .. ' ' .. v"),
              "integer 9007199254740993");
    CHECK_STR(lt_eval(s, "return vsg.json.decode('-9223372036854775808') == "
                         "math.mininteger"),
              "true");
    CHECK_STR(lt_eval(s, "return math.type(vsg.json.decode("
                         "'9223372036854775808'))"),
              "float");
    CHECK_STR(lt_eval(s, "return math.type(vsg.json.decode('1.5')) .. "
                         "math.type(vsg.json.decode('1e2')) .. "
                         "math.type(vsg.json.decode('7'))"),
              "floatfloatinteger");
    CHECK_STR(lt_eval(s, "return vsg.json.decode('{\"a\":null}').a == "
                         "vsg.null"),
              "true");
    CHECK_STR(lt_eval(s, "return vsg.json.decode('null') == vsg.null"),
              "true");
    CHECK_STR(lt_eval(s, "return tostring(vsg.null) .. ' ' .. type(vsg.null)"),
              "vsg.null userdata");
    CHECK_STR(lt_eval(s, "return vsg.json.decode('\"\\\\u00e9\\\\ud83d"
                         "\\\\ude00 \\\\\"q\\\\\"\"')"),
              "\xc3\xa9\xf0\x9f\x98\x80 \"q\"");
    CHECK_STR(lt_eval(s, "local a = vsg.json.decode('[]') return #a .. "
                         "getmetatable(a) .. vsg.json.encode(a)"),
              "0vsg.json.array[]");
    CHECK_STR(lt_eval(s, "return vsg.json.encode(vsg.json.decode('{}'))"),
              "{}");
    /* Number tokens inside strings and keys do not confuse the integer
     * scan. */
    CHECK_STR(lt_eval(s, "local v = vsg.json.decode('{\"1.5e3\": "
                         "\"-2 \\\\\" 3.5\", \"k\": [9007199254740993, 2.5,"
                         " -0, 12]}') return v['1.5e3'] .. '|' .. "
                         "v.k[1] .. '|' .. v.k[2] .. '|' .. "
                         "math.type(v.k[3]) .. '|' .. v.k[4]"),
              "-2 \" 3.5|9007199254740993|2.5|integer|12");
    vsg_lua_close(s);
}

static void test_round_trips(void)
{
    struct vsg_lua *s = state();

    /* Canonical texts (sorted keys, no spaces) come back byte for byte. */
    CHECK_STR(lt_eval(s, "local t = '{\"a\":[1,2,{\"b\":null}],\"c\":"
                         "\"x\\\\u0001\",\"d\":1.5,\"e\":true,\"f\":[],"
                         "\"g\":{},\"h\":9007199254740993,\"i\":-1.0e-7}' "
                         "return vsg.json.encode(vsg.json.decode(t))"),
              "{\"a\":[1,2,{\"b\":null}],\"c\":\"x\\u0001\",\"d\":1.5,"
              "\"e\":true,\"f\":[],\"g\":{},\"h\":9007199254740993,"
              "\"i\":-1e-07}");
    CHECK_STR(lt_eval(s, "local v = {id = 'e-1', n = math.tointeger(2^53) + 1, "
                         "u = '\\u{1F600}\\u{e9}', list = vsg.json.array(), "
                         "nested = {{{}}}} local w = "
                         "vsg.json.decode(vsg.json.encode(v)) return w.id "
                         ".. w.n .. w.u .. #w.list .. "
                         "vsg.json.encode(w.nested)"),
              "e-19007199254740993\xf0\x9f\x98\x80\xc3\xa9"
              "0[[{}]]");
    vsg_lua_close(s);
}

static void test_decode_errors_return_nil_err(void)
{
    struct vsg_lua *s = state();

    CHECK_STR(lt_eval(s, "local v, e = vsg.json.decode('{\"a\":') return "
                         "tostring(v) .. ' ' .. e"),
              "nil invalid JSON at byte 5");
    CHECK_STR(lt_eval(s, "local v, e = vsg.json.decode('[1] x') return e"),
              "invalid JSON: unexpected data at byte 5");
    CHECK_STR(lt_eval(s, "local v, e = vsg.json.decode('') return e"),
              "invalid JSON: empty text");
    CHECK_STR(lt_eval(s, "local v, e = vsg.json.decode('[1,]') return e"),
              "invalid JSON at byte 4");
    CHECK_STR(lt_eval(s, "local v, e = vsg.json.decode(string.rep('[', "
                         "2000)) return e"),
              "invalid JSON at byte 1001");
    CHECK_STR(lt_eval(s, "local v, e = vsg.json.decode(string.rep(' ', "
                         "3 * 1024 * 1024)) return e"),
              "JSON text too large (3145728 bytes, limit 1048576)");
    CHECK_STR(lt_eval(s, "return vsg.json.decode({})"),
              "error ELUA: test.lua:1: bad argument #1 to 'decode' (string "
              "expected, got table)");
    vsg_lua_close(s);
}

static void test_decode_under_memory_cap(void)
{
    /* A big but allowed text whose Lua value does not fit the cap. */
    struct vsg_lua *s = lt_state(VSG_LUA_KIND_FILTER, 16u * 1024 * 1024,
                                 100000000);

    CHECK_HAS(lt_eval(s, "local t = '[' .. string.rep('[],', 340000) .. "
                         "'[]]' return #vsg.json.decode(t)"),
              "error ELIMIT: ");
    CHECK_STR(lt_eval(s, "return #vsg.json.decode('[[],[]]')"), "2");
    vsg_lua_close(s);
}

static void test_c_api(void)
{
    struct vsg_lua *s = state();
    lua_State *L = vsg_lua_L(s);
    struct vsg_error err;
    struct vsg_buf b;
    static const char text[] = "{\"a\":[1,null,\"x\"],\"big\":"
                               "12345678901234567}";

    vsg_buf_init(&b, 1024);
    CHECK_INT(vsg_lua_json_decode(L, text, sizeof text - 1, &err), VSG_OK);
    CHECK_INT(lua_gettop(L), 1);
    CHECK_INT(vsg_lua_json_encode(L, -1, &b, &err), VSG_OK);
    CHECK_STR(b.data, text);
    lua_pop(L, 1);
    CHECK_INT(vsg_lua_json_decode(L, "{", 1, &err), VSG_ERR_PARSE);
    CHECK_STR(err.msg, "invalid JSON at byte 1");
    CHECK_INT(lua_gettop(L), 0);

    vsg_lua_pushnull(L);
    CHECK(vsg_lua_isnull(L, -1));
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
    CHECK(!vsg_lua_isnull(L, -1));
    lua_pop(L, 1);

    lua_newtable(L);
    vsg_lua_json_setarray(L, -1);
    vsg_buf_reset(&b);
    CHECK_INT(vsg_lua_json_encode(L, -1, &b, &err), VSG_OK);
    CHECK_STR(b.data, "[]");
    vsg_lua_json_setobject(L, -1);
    vsg_buf_reset(&b);
    CHECK_INT(vsg_lua_json_encode(L, -1, &b, &err), VSG_OK);
    CHECK_STR(b.data, "{}");
    lua_pop(L, 1);

    /* Output bounded by the buffer's maximum. */
    vsg_buf_cleanup(&b);
    vsg_buf_init(&b, 8);
    lua_pushliteral(L, "a long string that does not fit");
    CHECK_INT(vsg_lua_json_encode(L, -1, &b, &err), VSG_ERR_TOOBIG);
    lua_pop(L, 1);
    CHECK_INT(lua_gettop(L), 0);
    vsg_buf_cleanup(&b);
    vsg_lua_close(s);
}

/* ---- vsg.time --------------------------------------------------------- */

static void test_time(void)
{
    struct vsg_lua *s = state();

    CHECK_STR(lt_eval(s, "local sec, ns = vsg.time.parse("
                         "'2026-11-25T11:37:53.123456789+01:00') return "
                         "sec .. ' ' .. ns .. ' ' .. vsg.time.format(sec, "
                         "ns)"),
              "1795603073 123456789 2026-11-25T10:37:53.123456789Z");
    CHECK_STR(lt_eval(s, "return vsg.time.format(0)"),
              "1970-01-01T00:00:00Z");
    CHECK_STR(lt_eval(s, "return vsg.time.format(1.5)"),
              "1970-01-01T00:00:01.5Z");
    CHECK_STR(lt_eval(s, "local v, e = vsg.time.parse('yesterday') return "
                         "tostring(v) .. ' ' .. e"),
              "nil invalid RFC 3339 time 'yesterday'");
    CHECK_STR(lt_eval(s, "return vsg.time.now():match("
                         "'^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d[%.%d]*Z$') "
                         "~= nil"),
              "true");
    CHECK_STR(lt_eval(s, "local a, b = vsg.time.unix() return "
                         "math.type(a) .. math.type(b) .. tostring(a > "
                         "1700000000)"),
              "integerintegertrue");
    CHECK_STR(lt_eval(s, "return vsg.time.parse_duration('1h30m')"),
              "5400000000000");
    CHECK_STR(lt_eval(s, "return vsg.time.format_duration(1500000000)"),
              "1.5s");
    CHECK_STR(lt_eval(s, "local v, e = vsg.time.parse_duration('5 parsecs') "
                         "return e"),
              "invalid duration '5 parsecs'");
    CHECK_STR(lt_eval(s, "return vsg.time.parse_iso8601_duration('PT0.5S')"), "500");
    CHECK_STR(lt_eval(s, "return select(3, vsg.time.parse_iso8601_duration('PT1'))"),
              "syntax");
    CHECK_STR(lt_eval(s, "local v, e = vsg.time.parse_iso8601_duration('PT1') "
                         "return e"),
              "invalid ISO-8601 duration 'PT1'");
    CHECK_STR(lt_eval(s, "return select(3, vsg.time.parse_iso8601_duration("
                         "'P999999999999Y'))"),
              "range");
    CHECK_STR(lt_eval(s, "return select(3, vsg.time.parse_iso8601_duration("
                         "'P1D\\0x'))"),
              "syntax");
    CHECK_STR(lt_eval(s, "return vsg.time.format(0, 1e9 // 1)"),
              "error ELUA: test.lua:1: bad argument #2 to 'format' "
              "(nanoseconds must be 0..999999999)");
    CHECK_STR(lt_eval(s, "return vsg.time.format(1e14 // 1)"),
              "error ELUA: test.lua:1: bad argument #1 to 'format' (time "
              "out of range (years 0000-9999))");
    vsg_lua_close(s);
}

/* ---- vsg.url ---------------------------------------------------------- */

static void test_url(void)
{
    struct vsg_lua *s = state();

    CHECK_STR(lt_eval(s, "return vsg.url.redact('sink.uri \"http://u:pw@h/x\" is not absolute')"),
              "sink.uri \"http://***@h/x\" is not absolute");
    CHECK_STR(lt_eval(s, "return vsg.url.redact('http://h/')"), "http://h/");
    CHECK_STR(lt_eval(s, "return vsg.url.redact(42)"), "42"); /* numbers are strings to Lua */
    CHECK_STR(lt_eval(s, "return vsg.url.redact({})"),
              "error ELUA: test.lua:1: bad argument #1 to 'redact' (string expected, got table)");
    vsg_lua_close(s);
}

/* ---- vsg.log ---------------------------------------------------------- */

static void test_log(void)
{
    struct vsg_lua *s = state();
    const char *logs;

    lt_logs_begin(VSG_LOG_LEVEL_INFO);
    CHECK_STR(lt_eval(s, "vsg.log.debug('hidden')\n"
                         "vsg.log.info('hello', {b = 1, a = 'x', msg = "
                         "'clash', nested = {1, vsg.null}, f = print})\n"
                         "vsg.log.warn('careful')\n"
                         "vsg.log.error('bad', {})\nreturn 'ok'"),
              "ok");
    logs = lt_logs_end();
    CHECK(!lt_has(logs, "hidden"));
    CHECK_HAS(logs, "\"level\":\"info\"");
    CHECK_HAS(logs, "\"logger\":\"test.lua.state\",\"caller\":\"test.lua:2\","
                    "\"msg\":\"hello\",\"a\":\"x\",\"b\":1,"
                    "\"f\":\"<function>\",\"_msg\":\"clash\","
                    "\"nested\":[1,null]}");
    CHECK_HAS(logs, "\"level\":\"warn\"");
    CHECK_HAS(logs, "\"caller\":\"test.lua:3\",\"msg\":\"careful\"}");
    CHECK_HAS(logs, "\"level\":\"error\"");
    CHECK_STR(lt_eval(s, "vsg.log.info()"),
              "error ELUA: test.lua:1: bad argument #1 to 'info' (string "
              "expected, got no value)");
    CHECK_STR(lt_eval(s, "vsg.log.info('x', 5)"),
              "error ELUA: test.lua:1: bad argument #2 to 'info' (table "
              "expected, got number)");
    vsg_lua_close(s);
}

/* Context fields (knative.dev/key during a reconcile) on every line; a
 * line's own field of the same name wins; cleared, they are gone. */
static void test_log_context(void)
{
    struct vsg_lua *s = state();
    const char *logs;

    vsg_lua_log_context(vsg_lua_L(s), "knative.dev/key", "ns/src");
    lt_logs_begin(VSG_LOG_LEVEL_INFO);
    CHECK_STR(lt_eval(s, "vsg.log.info('one')\n"
                         "vsg.log.info('two', {n = 2})\n"
                         "vsg.log.info('three', {['knative.dev/key'] = 'mine'})\nreturn 'ok'"),
              "ok");
    vsg_lua_log_context(vsg_lua_L(s), "knative.dev/key", NULL);
    CHECK_STR(lt_eval(s, "vsg.log.info('four')\nreturn 'ok'"), "ok");
    logs = lt_logs_end();
    CHECK_HAS(logs, "\"msg\":\"one\",\"knative.dev/key\":\"ns/src\"}");
    CHECK_HAS(logs, "\"msg\":\"two\",\"knative.dev/key\":\"ns/src\",\"n\":2}");
    CHECK_HAS(logs, "\"msg\":\"three\",\"knative.dev/key\":\"mine\"}");
    CHECK_HAS(logs, "\"msg\":\"four\"}");
    vsg_lua_close(s);
}

TEST_LIST = {
    {"log_context", test_log_context},
    {"encode_scalars", test_encode_scalars},
    {"encode_tables", test_encode_tables},
    {"encode_errors_raise", test_encode_errors_raise},
    {"decode_values", test_decode_values},
    {"round_trips", test_round_trips},
    {"decode_errors_return_nil_err", test_decode_errors_return_nil_err},
    {"decode_under_memory_cap", test_decode_under_memory_cap},
    {"c_api", test_c_api},
    {"time", test_time},
    {"url", test_url},
    {"log", test_log},
    {NULL, NULL}};

TEST_MAIN()
