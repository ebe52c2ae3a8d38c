/*
 * lua_pattern.c - Lua 5.4 pattern matching for sandboxed states, metered:
 * string.find, string.match, string.gmatch and string.gsub.
 *
 * Provides: vsg__lua_patterns_install() (lua/internal.h).
 * Uses: Lua 5.4's C API, vsg_lua_meter()/vsg__lua_charge() of host.c.
 * Owns: nothing beyond the gmatch iterator's userdata (Lua's memory).
 *
 * Why not Lua's own: its matcher backtracks inside one C call, where the
 * count hook never runs, so ("a"):rep(250):find(".-.-.-.-b") ran for 43 s
 * past every limit. This one does what the Lua 5.4 manual (§6.4.1) says
 * patterns do, with Lua's results and error messages (malformed patterns
 * raise only when the match reaches the bad part, as Lua's do;
 * spec/unit/test_lua_pattern.c compares both on a corpus), and charges its
 * work to the call: one tick per pattern item tried or subject character
 * looked at, PAT_TICKS_PER_INSTRUCTION ticks to an instruction, enforced
 * every PAT_FLUSH ticks by vsg_lua_meter() (budget, and the clock once
 * every VSG_LUA_HOOK_PERIOD instructions). Recursion is bounded as Lua
 * bounds it (PAT_MAX_DEPTH, "pattern too complex"), so no pattern can
 * exhaust the C stack.
 *
 * Plain searches (find with plain, or a pattern without specials) are
 * linear (plain_search()) and charged before, by bytes.
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/internal.h"

#define PAT_ESC '%'
/* A pattern without any of these is searched for as plain text. */
#define PAT_SPECIALS "^$*+?.([%-"
/* Nesting of pat_match() calls (Lua's MAXCCALLS for patterns). */
#define PAT_MAX_DEPTH 200
#define PAT_MAX_CAPTURES 32 /* Lua's LUA_MAXCAPTURES. */
/* Capture lengths that are not lengths. */
#define CAP_OPEN (-1)     /* Opened, not closed yet. */
#define CAP_POSITION (-2) /* A position capture "()". */

/* Metering: a tick is one step of the matcher (3-6 ns here, about a VM
 * instruction's time); PAT_TICKS_PER_INSTRUCTION of them are charged as
 * one instruction, PAT_FLUSH at a time. */
#define PAT_TICKS_PER_INSTRUCTION 2
#define PAT_FLUSH 1024
/* Bytes per instruction for searches, compares and copies. */
#define PAT_BYTES_PER_INSTRUCTION 16

struct capture {
    const char *at; /* Where it starts in the subject. */
    ptrdiff_t len;  /* Its length, CAP_OPEN or CAP_POSITION. */
};

/* One match in progress. */
struct matcher {
    lua_State *L;        /* Raises and charges go here. */
    const char *src;     /* The subject. */
    const char *src_end; /* Its end. */
    const char *pat_end; /* The end of the pattern. */
    int depth;           /* pat_match() levels left. */
    int ncap;            /* Captures opened (closed or not). */
    size_t ticks;        /* Not charged yet. */
    struct capture cap[PAT_MAX_CAPTURES];
};

/* ====================================================================
 * Metering
 * ==================================================================== */

/* [-0, +0, v] Charges the ticks so far and enforces the limits. */
static void flush(struct matcher *m)
{
    size_t n = m->ticks;

    m->ticks = 0;
    vsg_lua_meter(m->L, n / PAT_TICKS_PER_INSTRUCTION);
}

/* [-0, +0, v] Counts `n` ticks of work. */
static inline void tick(struct matcher *m, size_t n)
{
    m->ticks += n;
    if (m->ticks >= PAT_FLUSH) flush(m);
}

/* [-0, +0, -] Charges what is left when a function returns (rounded up,
 * so a loop of tiny matches is not free). */
static void settle(struct matcher *m)
{
    vsg__lua_charge(m->L, (m->ticks + PAT_TICKS_PER_INSTRUCTION - 1) /
                              PAT_TICKS_PER_INSTRUCTION);
    m->ticks = 0;
}

/* ====================================================================
 * Classes
 * ==================================================================== */

/* Nonzero when byte `c` is in the class of letter `cl` (%a, %A...); any
 * other character after '%' stands for itself. */
static int class_has(int c, int cl)
{
    int in;

    switch (tolower(cl)) {
    case 'a': in = isalpha(c); break;
    case 'c': in = iscntrl(c); break;
    case 'd': in = isdigit(c); break;
    case 'g': in = isgraph(c); break;
    case 'l': in = islower(c); break;
    case 'p': in = ispunct(c); break;
    case 's': in = isspace(c); break;
    case 'u': in = isupper(c); break;
    case 'w': in = isalnum(c); break;
    case 'x': in = isxdigit(c); break;
    case 'z': in = c == 0; break; /* Deprecated, but Lua 5.4 has it. */
    default: return cl == c;
    }
    if (isupper(cl)) return !in;
    return in != 0;
}

/* Nonzero when byte `c` is in the set "[...]" from `p` (its '[') to `ec`
 * (its ']'). */
static int set_has(int c, const char *p, const char *ec)
{
    int in = 1;

    p++;
    if (*p == '^') {
        in = 0;
        p++;
    }
    for (; p < ec; p++) {
        if (*p == PAT_ESC) {
            p++;
            if (class_has(c, (unsigned char)*p)) return in;
        } else if (p[1] == '-' && p + 2 < ec) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return in;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return in;
        }
    }
    return !in;
}

/* [-0, +0, v] The end of the single-character class at `p` (a character,
 * '.', "%x" or a set). Raises for a '%' at the end or a set without its
 * ']'. The first character of a set (after any '^') belongs to it even
 * when it is ']'. */
static const char *class_end(struct matcher *m, const char *p)
{
    const char *end = m->pat_end;
    char c = *p++;

    if (c == PAT_ESC) {
        if (p >= end) luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c != '[') return p;
    if (p < end && *p == '^') p++;
    do {
        if (p >= end) luaL_error(m->L, "malformed pattern (missing ']')");
        c = *p++;
        if (c == PAT_ESC && p < end) p++; /* "%]" is a ']' in the set. */
    } while (p >= end || *p != ']');
    return p + 1;
}

/* Nonzero when the subject character at `s` matches the single class
 * from `p` to `ep`; never at the end of the subject. */
static int single(const struct matcher *m, const char *s, const char *p,
                  const char *ep)
{
    int c;

    if (s >= m->src_end) return 0;
    c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case PAT_ESC: return class_has(c, (unsigned char)p[1]);
    case '[': return set_has(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* ====================================================================
 * The matcher
 * ==================================================================== */

static const char *pat_match(struct matcher *m, const char *s, const char *p);

/* [-0, +0, v] %bxy at `p` (after "%b"): from `s`, a balanced run that
 * starts with x and ends with the y that closes it. */
static const char *balance(struct matcher *m, const char *s, const char *p)
{
    const char *from = s;
    int open, close, level = 1;

    if (p + 1 >= m->pat_end)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->src_end || *s != *p) return NULL;
    open = *p;
    close = p[1];
    while (++s < m->src_end) {
        if (*s == close) {
            if (--level == 0) {
                tick(m, 1 + (size_t)(s - from) / 2);
                return s + 1;
            }
        } else if (*s == open) {
            level++;
        }
    }
    tick(m, 1 + (size_t)(s - from) / 2);
    return NULL;
}

/* [-0, +0, v] %1..%9 (and %0, which is never valid): the text of capture
 * `digit` again at `s`. A position capture never matches. */
static const char *backref(struct matcher *m, const char *s, int digit)
{
    int i = digit - '1';
    size_t len;

    if (i < 0 || i >= m->ncap || m->cap[i].len == CAP_OPEN)
        luaL_error(m->L, "invalid capture index %%%d", i + 1);
    len = (size_t)m->cap[i].len;
    if ((size_t)(m->src_end - s) < len) return NULL;
    tick(m, 1 + len / PAT_BYTES_PER_INSTRUCTION * PAT_TICKS_PER_INSTRUCTION);
    return memcmp(m->cap[i].at, s, len) == 0 ? s + len : NULL;
}

/* [-0, +0, v] Opens capture `kind` (CAP_OPEN or CAP_POSITION) at `s` and
 * matches the rest `p`; forgets it again when that fails. */
static const char *open_capture(struct matcher *m, const char *s,
                                const char *p, ptrdiff_t kind)
{
    const char *r;

    if (m->ncap >= PAT_MAX_CAPTURES) luaL_error(m->L, "too many captures");
    m->cap[m->ncap].at = s;
    m->cap[m->ncap].len = kind;
    m->ncap++;
    r = pat_match(m, s, p);
    if (r == NULL) m->ncap--;
    return r;
}

/* [-0, +0, v] Closes the innermost open capture at `s` and matches the
 * rest `p`; reopens it when that fails. */
static const char *close_capture(struct matcher *m, const char *s,
                                 const char *p)
{
    int i = m->ncap - 1;
    const char *r;

    while (i >= 0 && m->cap[i].len != CAP_OPEN) i--;
    if (i < 0) luaL_error(m->L, "invalid pattern capture");
    m->cap[i].len = s - m->cap[i].at;
    r = pat_match(m, s, p);
    if (r == NULL) m->cap[i].len = CAP_OPEN;
    return r;
}

/* [-0, +0, v] Greedy repetition ('*', and '+' after its first): as many
 * of the class p..ep as there are, then fewer until the rest matches. */
static const char *expand_max(struct matcher *m, const char *s,
                              const char *p, const char *ep)
{
    size_t n = 0;

    while (single(m, s + n, p, ep)) {
        n++;
        if ((n & (PAT_FLUSH - 1)) == 0) tick(m, PAT_FLUSH);
    }
    tick(m, n & (PAT_FLUSH - 1));
    for (;;) {
        const char *r = pat_match(m, s + n, ep + 1);

        if (r != NULL) return r;
        if (n == 0) return NULL;
        n--;
    }
}

/* [-0, +0, v] Lazy repetition ('-'): as few of the class p..ep as let the
 * rest match. */
static const char *expand_min(struct matcher *m, const char *s,
                              const char *p, const char *ep)
{
    for (;;) {
        const char *r = pat_match(m, s, ep + 1);

        if (r != NULL) return r;
        if (!single(m, s, p, ep)) return NULL;
        s++;
    }
}

/*
 * [-0, +0, v] Matches the pattern from `p` to its end against the subject
 * from `s`: the end of the match, or NULL. Each call is one level of
 * PAT_MAX_DEPTH; items that need no backtracking loop in place.
 */
static const char *pat_match(struct matcher *m, const char *s, const char *p)
{
    if (m->depth-- == 0) luaL_error(m->L, "pattern too complex");
    while (p != m->pat_end) {
        const char *ep, *r;
        char q;

        tick(m, 1);
        switch (*p) {
        case '(':
            if (p + 1 < m->pat_end && p[1] == ')')
                s = open_capture(m, s, p + 2, CAP_POSITION);
            else
                s = open_capture(m, s, p + 1, CAP_OPEN);
            goto done;
        case ')':
            s = close_capture(m, s, p + 1);
            goto done;
        case '$':
            if (p + 1 == m->pat_end) { /* Elsewhere, '$' is itself. */
                if (s != m->src_end) s = NULL;
                goto done;
            }
            break;
        case PAT_ESC:
            if (p + 1 >= m->pat_end) break; /* class_end() raises. */
            if (p[1] == 'b') {
                s = balance(m, s, p + 2);
                if (s == NULL) goto done;
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                int prev, cur;

                p += 2;
                if (p >= m->pat_end || *p != '[')
                    luaL_error(m->L, "missing '[' after '%%f' in pattern");
                ep = class_end(m, p);
                prev = s == m->src ? 0 : (unsigned char)s[-1];
                cur = s < m->src_end ? (unsigned char)*s : 0;
                if (set_has(prev, p, ep - 1) || !set_has(cur, p, ep - 1)) {
                    s = NULL;
                    goto done;
                }
                p = ep;
                continue;
            }
            if (p[1] >= '0' && p[1] <= '9') {
                s = backref(m, s, (unsigned char)p[1]);
                if (s == NULL) goto done;
                p += 2;
                continue;
            }
            break;
        default:
            break;
        }

        /* A single-character class, maybe with a quantifier. */
        ep = class_end(m, p);
        q = ep < m->pat_end ? *ep : '\0';
        if (!single(m, s, p, ep)) {
            if (q == '*' || q == '?' || q == '-') { /* Zero of it is fine. */
                p = ep + 1;
                continue;
            }
            s = NULL;
            goto done;
        }
        switch (q) {
        case '?':
            r = pat_match(m, s + 1, ep + 1);
            if (r != NULL) {
                s = r;
                goto done;
            }
            p = ep + 1;
            continue;
        case '+': s = expand_max(m, s + 1, p, ep); goto done;
        case '*': s = expand_max(m, s, p, ep); goto done;
        case '-': s = expand_min(m, s, p, ep); goto done;
        default:
            s++;
            p = ep;
            continue;
        }
    }
done:
    m->depth++;
    return s;
}

/* ====================================================================
 * Captures
 * ==================================================================== */

/* [-0, +(0|1), v] Capture `i` of the match s..e: sets *cap and returns its
 * length, or pushes the position and returns CAP_POSITION. Without
 * captures, capture 0 is the whole match. */
static ptrdiff_t one_capture(struct matcher *m, int i, const char *s,
                             const char *e, const char **cap)
{
    if (i >= m->ncap) {
        if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
        *cap = s;
        return e - s;
    }
    *cap = m->cap[i].at;
    if (m->cap[i].len == CAP_OPEN) luaL_error(m->L, "unfinished capture");
    if (m->cap[i].len == CAP_POSITION)
        lua_pushinteger(m->L, (m->cap[i].at - m->src) + 1);
    return m->cap[i].len;
}

/* [-0, +1, v] Pushes capture `i` of the match s..e. */
static void push_one(struct matcher *m, int i, const char *s, const char *e)
{
    const char *cap;
    ptrdiff_t len = one_capture(m, i, s, e, &cap);

    if (len != CAP_POSITION) lua_pushlstring(m->L, cap, (size_t)len);
}

/* [-0, +n, v] Pushes every capture of the match s..e (the whole match when
 * there is none and `s` is not NULL) and returns how many. */
static int push_all(struct matcher *m, const char *s, const char *e)
{
    int n = m->ncap == 0 && s != NULL ? 1 : m->ncap;

    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++) push_one(m, i, s, e);
    return n;
}

/* ====================================================================
 * The library functions
 * ==================================================================== */

static void matcher_init(struct matcher *m, lua_State *L, const char *s,
                         size_t ls, const char *p, size_t lp)
{
    m->L = L;
    m->src = s;
    m->src_end = s + ls;
    m->pat_end = p + lp;
    m->depth = PAT_MAX_DEPTH;
    m->ncap = 0;
    m->ticks = 0;
}

/* The 0-based start of a search for the 1-based `init` (negative: from the
 * end; too small: the start). May be past the end. */
static size_t start_offset(lua_Integer init, size_t len)
{
    if (init > 0) return (size_t)init - 1;
    if (init == 0 || init < -(lua_Integer)len) return 0;
    return len - (size_t)(-(init + 1)) - 1;
}

/* Nonzero when `p` holds none of PAT_SPECIALS. */
static int no_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (p[i] != '\0' && strchr(PAT_SPECIALS, p[i]) != NULL) return 0;
    return 1;
}

/* The first `lp` bytes `p` in the `ls` bytes `s`, or NULL. Linear: a
 * short needle costs at most PLAIN_SHORT compares a byte (memchr and
 * memcmp, cheaper than setting up memmem), a longer one is memmem's. */
#define PLAIN_SHORT 8
static const char *plain_search(const char *s, size_t ls, const char *p,
                                size_t lp)
{
    const char *end = s + ls;

    if (lp == 0) return s;
    if (lp > ls) return NULL;
    if (lp > PLAIN_SHORT) return memmem(s, ls, p, lp);
    for (end -= lp - 1; s < end; s++) {
        s = memchr(s, *p, (size_t)(end - s));
        if (s == NULL) return NULL;
        if (memcmp(s + 1, p + 1, lp - 1) == 0) return s;
    }
    return NULL;
}

/* [-(2|3|4), +n, v] string.find (find != 0) and string.match. */
static int find_or_match(lua_State *L, int find)
{
    size_t ls, lp, init;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    struct matcher m;
    const char *s1;
    int anchored;

    init = start_offset(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || no_specials(p, lp))) {
        const char *at;

        vsg_lua_meter(L, (ls - init + lp) / PAT_BYTES_PER_INSTRUCTION);
        at = plain_search(s + init, ls - init, p, lp);
        if (at != NULL) {
            lua_pushinteger(L, (at - s) + 1);
            lua_pushinteger(L, (lua_Integer)((size_t)(at - s) + lp));
            return 2;
        }
        luaL_pushfail(L);
        return 1;
    }
    anchored = lp > 0 && *p == '^';
    if (anchored) {
        p++;
        lp--;
    }
    matcher_init(&m, L, s, ls, p, lp);
    s1 = s + init;
    do {
        const char *e;

        m.ncap = 0;
        e = pat_match(&m, s1, p);
        if (e != NULL) {
            settle(&m);
            if (!find) return push_all(&m, s1, e);
            lua_pushinteger(L, (s1 - s) + 1);
            lua_pushinteger(L, e - s);
            return push_all(&m, NULL, NULL) + 2;
        }
    } while (s1++ < m.src_end && !anchored);
    settle(&m);
    luaL_pushfail(L);
    return 1;
}

/* [-(2|3|4), +n, v] string.find(s, pattern [, init [, plain]]) */
static int pat_find(lua_State *L)
{
    return find_or_match(L, 1);
}

/* [-(2|3), +n, v] string.match(s, pattern [, init]) */
static int pat_match_fn(lua_State *L)
{
    return find_or_match(L, 0);
}

/* The state of a gmatch iterator (its upvalue 3; 1 and 2 keep the subject
 * and the pattern alive). */
struct gmatch {
    const char *at;      /* Where the next search starts. */
    const char *pattern; /* The pattern. */
    const char *last;    /* The end of the last match, or NULL. */
    struct matcher m;    /* Its depth is kept across calls, as Lua does. */
};

/* [-0, +n, v] The iterator gmatch returns: the next match's captures, or
 * nothing at the end. An empty match right after the previous match is
 * skipped. */
static int gmatch_next(lua_State *L)
{
    struct gmatch *g = lua_touserdata(L, lua_upvalueindex(3));

    g->m.L = L;
    g->m.ticks = 0;
    for (const char *src = g->at; src <= g->m.src_end; src++) {
        const char *e;

        g->m.ncap = 0;
        e = pat_match(&g->m, src, g->pattern);
        if (e != NULL && e != g->last) {
            g->at = g->last = e;
            settle(&g->m);
            return push_all(&g->m, src, e);
        }
    }
    settle(&g->m);
    return 0;
}

/* [-(2|3), +1, v] string.gmatch(s, pattern [, init]): '^' is not an
 * anchor here (it stands for itself). */
static int pat_gmatch(lua_State *L)
{
    size_t ls, lp, init;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    struct gmatch *g;

    init = start_offset(luaL_optinteger(L, 3, 1), ls);
    lua_settop(L, 2);
    g = lua_newuserdatauv(L, sizeof *g, 0);
    if (init > ls) init = ls + 1;
    matcher_init(&g->m, L, s, ls, p, lp);
    g->at = s + init;
    g->pattern = p;
    g->last = NULL;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* [-0, +0, v] Appends the replacement text (argument 3) for the match
 * s..e: "%0" is the match, "%1".."%9" its captures, "%%" a '%'. */
static void add_text(struct matcher *m, luaL_Buffer *b, const char *s,
                     const char *e)
{
    lua_State *L = m->L;
    size_t l;
    const char *t = lua_tolstring(L, 3, &l), *end = t + l, *pct;

    tick(m, 1 + l / 2);
    while ((pct = memchr(t, PAT_ESC, (size_t)(end - t))) != NULL) {
        char d;

        luaL_addlstring(b, t, (size_t)(pct - t));
        d = pct + 1 < end ? pct[1] : '\0';
        if (d == PAT_ESC) {
            luaL_addchar(b, PAT_ESC);
        } else if (d == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit((unsigned char)d)) {
            const char *cap;
            ptrdiff_t len = one_capture(m, d - '1', s, e, &cap);

            if (len == CAP_POSITION)
                luaL_addvalue(b);
            else
                luaL_addlstring(b, cap, (size_t)len);
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string",
                       PAT_ESC);
        }
        t = pct + 2;
    }
    luaL_addlstring(b, t, (size_t)(end - t));
}

/* [-0, +0, v] Appends the replacement of the match s..e, after the kind
 * `tr` of argument 3; returns 0 when the match was kept as it was (a
 * function or table gave false or nil). */
static int add_replacement(struct matcher *m, luaL_Buffer *b, const char *s,
                           const char *e, int tr)
{
    lua_State *L = m->L;

    if (tr == LUA_TFUNCTION) {
        int n;

        lua_pushvalue(L, 3);
        n = push_all(m, s, e);
        lua_call(L, n, 1);
    } else if (tr == LUA_TTABLE) {
        push_one(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_text(m, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)",
                          luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

/* [-(3|4), +2, v] string.gsub(s, pattern, repl [, n]) */
static int pat_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *last = NULL;
    int tr = lua_type(L, 3), anchored, changed = 0;
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1), n = 0;
    struct matcher m;
    luaL_Buffer b;

    luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING ||
                            tr == LUA_TFUNCTION || tr == LUA_TTABLE,
                     3, "string/function/table");
    luaL_buffinit(L, &b);
    anchored = lp > 0 && *p == '^';
    if (anchored) {
        p++;
        lp--;
    }
    matcher_init(&m, L, src, ls, p, lp);
    while (n < max) {
        const char *e;

        m.ncap = 0;
        e = pat_match(&m, src, p);
        if (e != NULL && e != last) {
            n++;
            changed |= add_replacement(&m, &b, src, e, tr);
            src = last = e;
        } else if (src < m.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchored) break;
    }
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        tick(&m, 1 + (size_t)(m.src_end - src) / PAT_BYTES_PER_INSTRUCTION *
                         PAT_TICKS_PER_INSTRUCTION);
        luaL_addlstring(&b, src, (size_t)(m.src_end - src));
        luaL_pushresult(&b);
    }
    settle(&m);
    lua_pushinteger(L, n);
    return 2;
}

void vsg__lua_patterns_install(lua_State *L, int idx)
{
    static const luaL_Reg fns[] = {{"find", pat_find},
                                   {"match", pat_match_fn},
                                   {"gmatch", pat_gmatch},
                                   {"gsub", pat_gsub},
                                   {NULL, NULL}};

    idx = lua_absindex(L, idx);
    lua_pushvalue(L, idx);
    luaL_setfuncs(L, fns, 0);
    lua_pop(L, 1);
}
