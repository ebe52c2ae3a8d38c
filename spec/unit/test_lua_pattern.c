/*
 * test_lua_pattern.c - the metered pattern matcher (core/lua/lua_pattern.c)
 * against Lua's own string library: the same calls of string.find, match,
 * gmatch and gsub (a generated corpus plus hand-picked edge cases) run in
 * a plain lua_State with Lua's library and in a sandboxed state, and their
 * results and error messages must be the same text.
 *
 * Uses: lua_testutil.h, lua/host.h, Lua 5.4 (luaL_openlibs for the
 * reference). Owns: its two states per test.
 */
#include "lua_testutil.h"

#include <stdint.h>
#include <stdlib.h>

#include <lualib.h>

/* The driver, loaded in both states under the same chunk name: run(kind,
 * s, p, a, b) calls one library function and describes what it returned
 * (types and values) or raised. */
static const char driver[] =
    "local find, match, gmatch, gsub = string.find, string.match, "
    "string.gmatch, string.gsub\n"
    "local fmt, concat, select, type = string.format, table.concat, select, "
    "type\n"
    "local function ser(...)\n"
    "  local out = {}\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    if type(v) == 'string' then out[i] = fmt('%q', v)\n"
    "    elseif type(v) == 'number' then out[i] = math.type(v) .. ':' .. "
    "tostring(v)\n"
    "    else out[i] = tostring(v) end\n"
    "  end\n"
    "  return select('#', ...) .. '[' .. concat(out, ',') .. ']'\n"
    "end\n"
    "local function repl_fn(...)\n"
    "  local a = ...\n"
    "  if a == nil or a == '' then return nil end\n"
    "  if a == 'b' then return false end\n"
    "  if type(a) == 'number' then return a * 10 end\n"
    "  return '<' .. concat({...}, '|', 1, select('#', ...)) .. '>'\n"
    "end\n"
    "local repl_tab = setmetatable({a = 'A', ab = 1.5, [1] = 'one', b = "
    "false},\n"
    "  {__index = function(t, k) if k == '(' then return 'P' end end})\n"
    "local function call(kind, s, p, a, b)\n"
    "  if kind == 'find' then return find(s, p, a, b) end\n"
    "  if kind == 'match' then return match(s, p, a) end\n"
    "  if kind == 'gmatch' then\n"
    "    local out, it = {}, gmatch(s, p, a)\n"
    "    for i = 1, 40 do\n"
    "      local r = ser(it())\n"
    "      out[i] = r\n"
    "      if r == '0[]' then break end\n"
    "    end\n"
    "    return concat(out, ';')\n"
    "  end\n"
    "  if kind == 'gsub' then return gsub(s, p, a, b) end\n"
    "  if kind == 'gsubf' then return gsub(s, p, repl_fn, b) end\n"
    "  if kind == 'gsubt' then return gsub(s, p, repl_tab, b) end\n"
    "  error('bad kind ' .. kind)\n"
    "end\n"
    "return function(kind, s, p, a, b)\n"
    "  local r = table.pack(pcall(call, kind, s, p, a, b))\n"
    "  if not r[1] then return 'error: ' .. tostring(r[2]) end\n"
    "  return ser(table.unpack(r, 2, r.n))\n"
    "end\n";

/* The two states and their run functions (in the registry). */
struct pair {
    lua_State *ref;       /* Lua's library. */
    struct vsg_lua *sb;   /* The sandbox with the metered matcher. */
    int ref_fn, sb_fn;    /* Registry refs of run(). */
    long cases;           /* Compared so far. */
    long errors;          /* Of them, raised in Lua. */
    long misses;          /* Of them, found nothing ("1[nil]"). */
    long mismatches;      /* Of them, different. */
};

/* An argument of a case: absent, nil, an integer or a string. */
enum arg_kind { ARG_NONE, ARG_NIL, ARG_INT, ARG_STR, ARG_TRUE };
struct arg {
    enum arg_kind kind;
    lua_Integer i;
    const char *s;
    size_t len;
};

static void pair_open(struct pair *pr)
{
    struct vsg_error err;
    lua_State *L;

    memset(pr, 0, sizeof *pr);
    pr->ref = luaL_newstate();
    CHECK(pr->ref != NULL);
    luaL_openlibs(pr->ref);
    CHECK_INT(luaL_loadbuffer(pr->ref, driver, sizeof driver - 1, "=diff.lua"),
              LUA_OK);
    CHECK_INT(lua_pcall(pr->ref, 0, 1, 0), LUA_OK);
    pr->ref_fn = luaL_ref(pr->ref, LUA_REGISTRYINDEX);

    /* A budget large enough for every case: the limits have their own
     * tests (test_lua_meter.c). */
    pr->sb = lt_state(VSG_LUA_KIND_FILTER, 0, UINT64_C(1) << 40);
    CHECK_INT(vsg_lua_load(pr->sb, "diff.lua", driver, sizeof driver - 1,
                           &err),
              VSG_OK);
    CHECK_INT(vsg_lua_pcall(pr->sb, 0, 1, &err), VSG_OK);
    L = vsg_lua_L(pr->sb);
    pr->sb_fn = luaL_ref(L, LUA_REGISTRYINDEX);
}

static void pair_close(struct pair *pr)
{
    lua_close(pr->ref);
    vsg_lua_close(pr->sb);
}

static void push_arg(lua_State *L, const struct arg *a)
{
    switch (a->kind) {
    case ARG_NONE: break;
    case ARG_NIL: lua_pushnil(L); break;
    case ARG_INT: lua_pushinteger(L, a->i); break;
    case ARG_STR: lua_pushlstring(L, a->s, a->len); break;
    case ARG_TRUE: lua_pushboolean(L, 1); break;
    }
}

/* Pushes run's arguments; returns how many. */
static int push_case(lua_State *L, const char *kind, const char *s, size_t ls,
                     const char *p, size_t lp, const struct arg *a,
                     const struct arg *b)
{
    int n = 3;

    lua_pushstring(L, kind);
    lua_pushlstring(L, s, ls);
    lua_pushlstring(L, p, lp);
    if (a->kind != ARG_NONE || b->kind != ARG_NONE) {
        if (a->kind == ARG_NONE)
            lua_pushnil(L);
        else
            push_arg(L, a);
        n++;
    }
    if (b->kind != ARG_NONE) {
        push_arg(L, b);
        n++;
    }
    return n;
}

/* Prints a string with its bytes escaped (for mismatch reports). */
static void print_escaped(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 32 && c < 127 && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\%03u", c);
    }
}

/* Runs one case in both states; counts and reports a difference. */
static void compare(struct pair *pr, const char *kind, const char *s,
                    size_t ls, const char *p, size_t lp, const struct arg *a,
                    const struct arg *b)
{
    lua_State *R = pr->ref, *S = vsg_lua_L(pr->sb);
    struct vsg_error err;
    const char *want, *got;
    int n;

    lua_rawgeti(R, LUA_REGISTRYINDEX, pr->ref_fn);
    n = push_case(R, kind, s, ls, p, lp, a, b);
    if (lua_pcall(R, n, 1, 0) != LUA_OK)
        CHECK_FAIL_("reference driver failed: %s", lua_tostring(R, -1));
    want = lua_tostring(R, -1);

    lua_rawgeti(S, LUA_REGISTRYINDEX, pr->sb_fn);
    n = push_case(S, kind, s, ls, p, lp, a, b);
    if (vsg_lua_pcall(pr->sb, n, 1, &err) != VSG_OK)
        CHECK_FAIL_("sandbox driver failed: %s", err.msg);
    got = lua_tostring(S, -1);

    pr->cases++;
    if (want != NULL && strncmp(want, "error", 5) == 0) pr->errors++;
    if (want != NULL && strcmp(want, "1[nil]") == 0) pr->misses++;
    if (want == NULL || got == NULL || strcmp(want, got) != 0) {
        if (pr->mismatches++ < 20) {
            fprintf(stderr, "  mismatch: %s(\"", kind);
            print_escaped(s, ls);
            fprintf(stderr, "\", \"");
            print_escaped(p, lp);
            fprintf(stderr, "\", %s%lld, %s%lld)\n    lua:  %s\n    ours: %s\n",
                    a->kind == ARG_INT ? "" : a->kind == ARG_STR ? "'" : "_",
                    (long long)a->i,
                    b->kind == ARG_INT ? "" : "_", (long long)b->i,
                    want ? want : "(null)", got ? got : "(null)");
            if (a->kind == ARG_STR) {
                fprintf(stderr, "    a = \"");
                print_escaped(a->s, a->len);
                fprintf(stderr, "\"\n");
            }
        }
    }
    lua_pop(R, 1);
    lua_pop(S, 1);
}

/* ---- the corpus ------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(rng_state >> 33) % n;
}

/* Pieces patterns are made of: classes, sets, specials, captures,
 * back-references, %b and %f, and malformed bits. */
static const char *const atoms[] = {
    "a", "b", "c", ".", "%a", "%d", "%s", "%w", "%p", "%x", "%u", "%l", "%c",
    "%g", "%A", "%D", "%S", "%W", "%P", "%X", "%U", "%L", "%C", "%G", "%%",
    "%.", "%]", "%(", "%-", "%z", "%Z", "[ab]", "[^a]", "[a-c]", "[%d_]",
    "[^%s]", "[]]", "[^]]", "[a-]", "[-a]", "[%a-z]", "[a-%d]", "[%]]",
    "[^%]a]", "[.]", "[%%]", "%b()", "%bab", "%b((", "%f[%w]", "%f[%W]",
    "%f[a]", "%f[^a]", "%f[%z]", "%1", "%2", "%0", "(", ")", "()", "(a)",
    "(.-)", "(%a+)", "$", "^", "-", "*", "+", "?", "[", "[a", "%b", "%b(",
    "%f", "%fa", "%", "\x80", "\xff", "\t", " ", "\n", "1", "_", "[\x80-\xff]",
    "(()", "%f[]", "[^]"};

static const char *const quants[] = {"", "", "", "*", "+", "-", "?"};

/* A random pattern into buf; returns its length. */
static size_t gen_pattern(char *buf, size_t cap)
{
    size_t n = 0, items = rnd(6);

    if (rnd(6) == 0) buf[n++] = '^';
    for (size_t i = 0; i < items; i++) {
        const char *a = atoms[rnd(sizeof atoms / sizeof atoms[0])];
        const char *q = quants[rnd(sizeof quants / sizeof quants[0])];
        int cap_it = rnd(8) == 0;
        size_t la = strlen(a), lq = strlen(q);

        if (n + la + lq + 4 >= cap) break;
        if (cap_it) buf[n++] = '(';
        memcpy(buf + n, a, la);
        n += la;
        memcpy(buf + n, q, lq);
        n += lq;
        if (cap_it) buf[n++] = ')';
    }
    if (rnd(8) == 0) buf[n++] = '$';
    if (rnd(40) == 0) buf[n++] = '\0';
    return n;
}

/* A random subject into buf; returns its length. */
static size_t gen_subject(char *buf, size_t cap)
{
    static const char alpha[] = "aabbc()1 _.%A\t\n-]\x80\xff";
    size_t n = rnd(14);

    if (rnd(20) == 0) n = 40 + rnd(60);
    if (n >= cap) n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        if (rnd(50) == 0)
            buf[i] = '\0';
        else
            buf[i] = alpha[rnd(sizeof alpha - 1)];
    }
    return n;
}

/* A random init argument (absent most often). */
static struct arg gen_init(void)
{
    static const lua_Integer inits[] = {1, 0, -1, -2, -3, 2, 3, 5, 13, 14,
                                        15, 100, -100, -14, -13};
    struct arg a = {ARG_NONE, 0, NULL, 0};

    if (rnd(3) == 0) {
        a.kind = ARG_INT;
        a.i = inits[rnd(sizeof inits / sizeof inits[0])];
    }
    return a;
}

static void test_corpus(void)
{
    static const char *const kinds[] = {"find", "match", "gmatch", "gsub",
                                        "gsubf", "gsubt"};
    static const char *const repls[] = {"x", "", "%0", "%1", "<%1|%2>", "%%",
                                        "%", "%a", "[%0]", "%9", "%2%1"};
    struct pair pr;
    char s[128], p[128];

    pair_open(&pr);
    for (int i = 0; i < 60000; i++) {
        const char *kind = kinds[i % 6];
        size_t ls = gen_subject(s, sizeof s), lp = gen_pattern(p, sizeof p);
        struct arg a = gen_init(), b = {ARG_NONE, 0, NULL, 0};

        if (strcmp(kind, "find") == 0 && rnd(5) == 0) {
            b.kind = ARG_TRUE;
            if (a.kind == ARG_NONE) a.kind = ARG_NIL;
        }
        if (strcmp(kind, "gsub") == 0) {
            a.kind = ARG_STR;
            a.s = repls[rnd(sizeof repls / sizeof repls[0])];
            a.len = strlen(a.s);
        }
        if (strncmp(kind, "gsub", 4) == 0 && rnd(3) == 0) {
            b.kind = ARG_INT;
            b.i = (lua_Integer)rnd(5) - 1;
            if (a.kind == ARG_NONE) a.kind = ARG_NIL;
        }
        compare(&pr, kind, s, ls, p, lp, &a, &b);
    }
    printf("  corpus: %ld cases (%ld raise, %ld find nothing), %ld "
           "mismatches\n",
           pr.cases, pr.errors, pr.misses, pr.mismatches);
    CHECK_INT(pr.mismatches, 0);
    pair_close(&pr);
}

/* ---- hand-picked cases ------------------------------------------------ */

/* One hand-picked case: kind, subject, pattern, optional init/repl and
 * n/plain as Lua source fragments are not needed: strings and ints. */
struct edge {
    const char *kind;
    const char *s;
    const char *p;
    struct arg a;
    struct arg b;
};

#define NONE {ARG_NONE, 0, NULL, 0}
#define INT(v) {ARG_INT, (v), NULL, 0}
#define STR(v) {ARG_STR, 0, (v), sizeof(v) - 1}
#define NIL {ARG_NIL, 0, NULL, 0}
#define YES {ARG_TRUE, 0, NULL, 0}

static const struct edge edges[] = {
    /* Anchors, init past the end, negative init. */
    {"find", "hello", "", INT(6), NONE},
    {"find", "hello", "", INT(7), NONE},
    {"find", "hello", "", INT(-10), NONE},
    {"find", "hello", "l", INT(-2), NONE},
    {"find", "hello", "^l", INT(3), NONE},
    {"find", "hello", "o$", NONE, NONE},
    {"find", "hello$", "o$", NONE, YES},
    {"find", "a.b", ".", INT(1), YES},
    {"find", "a+b", "+", NONE, NONE},
    {"find", "xxabcdefghijkabcdefghijklmn", "abcdefghijkl", NIL, YES},
    {"find", "xxabcdefghijkabcdefghijklmn", "abcdefghijkl", INT(5), YES},
    {"find", "xxabcdefghijkabcdefghijklmn", "abcdefghijkm", NIL, YES},
    {"find", "xxabcdefghijkabcdefghijklmn", "klmn", INT(-4), YES},
    {"find", "xxabcdefghijkabcdefghijklmn", "klmn", INT(-3), YES},
    {"find", "aaaaaaaaaaaaaaaaaaaaaaab", "aaaaaaaaaab", NONE, NONE},
    {"find", "", "", NONE, NONE},
    {"find", "", "^$", NONE, NONE},
    {"find", "abc", "$^", NONE, NONE},
    {"match", "^abc", "^^a", NONE, NONE},
    {"match", "a$b", "a$b", NONE, NONE},
    {"match", "  key = value  ", "^%s*(%S+)%s*=%s*(.-)%s*$", NONE, NONE},
    {"match", "2024-01-02T03:04:05Z", "(%d+)-(%d+)-(%d+)T", NONE, NONE},
    {"match", "hello world", "()ll()", NONE, NONE},
    {"match", "hello", "()", INT(6), NONE},
    {"match", "hello", "()", INT(7), NONE},
    {"find", "hello", "(l)(l)", NONE, NONE},
    /* Back-references, %b, %f. */
    {"match", "abcabc", "(abc)%1", NONE, NONE},
    {"match", "xx\"q\"yy", "([\"'])(.-)%1", NONE, NONE},
    {"match", "a()b", "()%1", NONE, NONE},
    {"match", "f(a(b)c)d)", "%b()", NONE, NONE},
    {"match", "f(a(b)c", "%b()", NONE, NONE},
    {"gsub", "THE (quick) fox", "%f[%a]%a+", STR("W"), NONE},
    {"gsub", "THE (quick) fox", "%f[%a]", STR("|"), NONE},
    {"gsub", "THE (quick) fox", "%f[%A]", STR("|"), NONE},
    {"gsub", "a\0b\0c", "%f[%z]", STR("|"), NONE},
    /* gsub replacements and n. */
    {"gsub", "hello world", "o", STR("0"), INT(1)},
    {"gsub", "hello world", "o", STR("0"), INT(0)},
    {"gsub", "hello world", "o", STR("0"), INT(-1)},
    {"gsub", "hello world", "(o)", STR("%1%1"), NONE},
    {"gsub", "hello world", "()o", STR("%1"), NONE},
    {"gsub", "hello world", "", STR("-"), NONE},
    {"gsub", "abc", ".-", STR("-"), NONE},
    {"gsub", "abc", "b*", STR("-"), NONE},
    {"gsub", "abc", "^", STR(">"), NONE},
    {"gsub", "abc", "$", STR("<"), NONE},
    {"gsub", "abc", "^a", STR(""), NONE},
    {"gsubt", "a ab b ( c", "%S+", NONE, NONE},
    {"gsubf", "a=1, b=2, c=3", "(%w+)=(%w+)", NONE, NONE},
    {"gsubf", "x()y", "()", NONE, NONE},
    {"gsub", "abc", "b", STR("%"), NONE},
    {"gsub", "abc", "b", STR("%x"), NONE},
    {"gsub", "abc", "b", STR("%2"), NONE},
    {"gsub", "abc", "(b)", STR("%2"), NONE},
    {"gsub", "abc", "(b", STR("%1"), NONE},
    {"gsub", "abc", "(b", STR("x"), NONE},
    /* gmatch, its init, '^' in gmatch, empty matches. */
    {"gmatch", "one two  three", "%a+", NONE, NONE},
    {"gmatch", "one two  three", "%a*", NONE, NONE},
    {"gmatch", "k1=v1, k2=v2", "(%w+)=(%w+)", NONE, NONE},
    {"gmatch", "abcabc", "^a", NONE, NONE},
    {"gmatch", "^a^a", "^a", NONE, NONE},
    {"gmatch", "abc", "", NONE, NONE},
    {"gmatch", "abc", "", INT(3), NONE},
    {"gmatch", "abc", "", INT(4), NONE},
    {"gmatch", "abc", "", INT(5), NONE},
    {"gmatch", "abc", ".", INT(-1), NONE},
    {"gmatch", "abc", "()", NONE, NONE},
    /* Malformed patterns: raised when reached, not before. */
    {"find", "a", "%", NONE, NONE},
    {"find", "a", "a%", NONE, NONE},
    {"find", "b", "a%", NONE, NONE},
    {"find", "a", "[a", NONE, NONE},
    {"find", "a", "[", NONE, NONE},
    {"find", "a", "[^", NONE, NONE},
    {"find", "a", "[]", NONE, NONE},
    {"find", "a", "[%", NONE, NONE},
    {"find", "a", "[%]", NONE, NONE},
    {"find", "a", "%b", NONE, NONE},
    {"find", "a", "%ba", NONE, NONE},
    {"find", "a", "%f", NONE, NONE},
    {"find", "a", "%fa", NONE, NONE},
    {"find", "a", "%f[a", NONE, NONE},
    {"find", "a", "(a", NONE, NONE},
    {"match", "a", "(a", NONE, NONE},
    {"match", "a", "a)", NONE, NONE},
    {"match", "a", ")", NONE, NONE},
    {"match", "a", "%1", NONE, NONE},
    {"match", "a", "%0", NONE, NONE},
    {"match", "a", "(a)%2", NONE, NONE},
    {"match", "a", "(a%1)", NONE, NONE},
    {"match", "aa", "(a)%1", NONE, NONE},
    {"match", "x", "()()()()()()()()()()()()()()()()()()()()()()()()()()()()"
                   "()()()()()", NONE, NONE},
    {"match", "x", "()()()()()()()()()()()()()()()()()()()()()()()()()()()()"
                   "()()()()", NONE, NONE},
    /* Classes against every kind of byte. */
    {"gsub", "aZ09 \t\n\1\x7f!~_\x80\xff", "%a", STR("."), NONE},
    {"gsub", "aZ09 \t\n\1\x7f!~_\x80\xff", "%c", STR("."), NONE},
    {"gsub", "aZ09 \t\n\1\x7f!~_\x80\xff", "%g", STR("."), NONE},
    {"gsub", "aZ09 \t\n\1\x7f!~_\x80\xff", "%p", STR("."), NONE},
    {"gsub", "aZ09 \t\n\1\x7f!~_\x80\xff", "%W", STR("."), NONE},
    {"gsub", "aZ09 \t\n\1\x7f!~_\x80\xff", "%X", STR("."), NONE},
    {"gsub", "aZ09 \t\n\1\x7f!~_\x80\xff", "[%w_]", STR("."), NONE},
    {"gsub", "aZ09 \t\n\1\x7f!~_\x80\xff", "[^%w_]", STR("."), NONE},
    {"gsub", "aZ09 \t\n\1\x7f!~_\x80\xff", "[\x80-\xff]", STR("."), NONE},
    {"gsub", "a-b]c^d", "[]^-]", STR("."), NONE},
    {"gsub", "a-b]c^d", "[^]^-]", STR("."), NONE},
    {"gsub", "a-b]c^d", "[a-]", STR("."), NONE},
    {"gsub", "a-b]c^d", "[%a-]", STR("."), NONE},
};

static void test_edges(void)
{
    struct pair pr;

    pair_open(&pr);
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        const struct edge *e = &edges[i];

        compare(&pr, e->kind, e->s, strlen(e->s), e->p, strlen(e->p), &e->a,
                &e->b);
    }
    /* Strings with zeros inside. */
    {
        struct arg none = NONE, x = STR("x");

        compare(&pr, "find", "a\0b", 3, "\0", 1, &none, &none);
        compare(&pr, "find", "a\0b", 3, "%z", 2, &none, &none);
        compare(&pr, "find", "a\0b", 3, "[\0]", 3, &none, &none);
        compare(&pr, "match", "a\0b", 3, "a%\0", 3, &none, &none);
        compare(&pr, "gsub", "a\0b\0", 4, "%Z", 2, &x, &none);
        compare(&pr, "match", "a\0b", 3, "%b\0b", 4, &none, &none);
        compare(&pr, "find", "a\0b", 3, "\0b", 2, &none, &none);
    }
    /* Too complex, and long subjects. */
    {
        char s[700], p[700];
        struct arg none = NONE, x = STR("x");

        memset(s, 'a', 300);
        for (int i = 0; i < 300; i++) memcpy(p + 2 * i, "a?", 2);
        compare(&pr, "match", s, 300, p, 600, &none, &none);
        compare(&pr, "match", s, 150, p, 300, &none, &none);
        compare(&pr, "match", s, 199, p, 398, &none, &none);
        compare(&pr, "match", s, 198, p, 396, &none, &none);
        for (int i = 0; i < 300; i++) p[i] = i % 2 == 0 ? '(' : 'a';
        compare(&pr, "match", s, 300, p, 64, &none, &none);
        memset(p, 'a', 250);
        compare(&pr, "gsub", s, 300, p, 250, &x, &none);
        memcpy(s + 250, "b(c)d", 5);
        compare(&pr, "find", s, 255, "%b()", 4, &none, &none);
        compare(&pr, "find", s, 255, "a-b", 3, &none, &none);
        compare(&pr, "find", s, 255, "^a*b", 4, &none, &none);
        compare(&pr, "find", s, 255, "^a+", 3, &none, &none);
        compare(&pr, "find", s, 255, "(a*)%1b", 7, &none, &none);
    }
    printf("  edges: %ld cases, %ld mismatches\n", pr.cases, pr.mismatches);
    CHECK_INT(pr.mismatches, 0);
    pair_close(&pr);
}

/* Argument errors and methods name the function as Lua's do. */
static void test_arguments(void)
{
    static const char *const snippets[] = {
        "return string.find(nil, 'x')",
        "return string.find('x')",
        "return ('x'):find({})",
        "return ('x'):match()",
        "return string.gsub('x', 'x')",
        "return string.gsub('x', 'x', true)",
        "return string.gsub('x', 'x', 'y', 'z')",
        "return string.gsub('x', 'x', 'y', 1.5)",
        "return ('x'):gsub('x', {x = {}})",
        "return ('x'):gsub('x', function() return true end)",
        "return string.gmatch('x')",
        "return string.find('x', 'x', 'a')",
        "return string.find(12345, 3)",
        "return string.gsub(12345, 3, 9)",
        "return string.gsub('abc', 'b', 1.5)",
        "return select('#', string.find('abc', 'b', 1, true))",
        "return pcall(string.find)",
        "return pcall(string.match, 'x', '(')",
        "return string.match('  x  ', '^%s*(.-)%s*$')",
        "local t = {} for k, v in string.gmatch('a=1,b=2', '(%w+)=(%w+)') "
        "do t[#t + 1] = k .. v end return table.concat(t, ';')",
        "local it = ('ab'):gmatch('.') it() it() return it() == nil and "
        "it() == nil",
        "return ('%d'):rep(3):gsub('%%d', '%%%%')",
    };
    struct vsg_lua *s = lt_state(VSG_LUA_KIND_FILTER, 0, 0);
    lt_same_as_lua(s, snippets, sizeof snippets / sizeof snippets[0]);
    vsg_lua_close(s);
}

TEST_LIST = {
    {"edges", test_edges},
    {"arguments", test_arguments},
    {"corpus", test_corpus},
    {NULL, NULL}};

TEST_MAIN()
