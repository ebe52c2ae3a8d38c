/*
 * fuzz_lua_json.c - libFuzzer target for vsg.json's C side
 * (vsg_lua_json_decode() / vsg_lua_json_encode(), core/lua/lua_json.c).
 *
 * The input is decoded into one filter-kind state made once. A decoded
 * value must encode (unless it holds an infinity: a number past the double
 * range); its text must decode again, and after that one round the text
 * is a fixed point (the encoder is deterministic: keys sorted). Failures allowed are
 * the documented ones (bad JSON, the memory cap, out of memory); the Lua
 * stack must be where it was afterwards. Seeds: spec/fuzz/corpus/lua_json.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/host.h"
#include "lua/json.h"

static struct vsg_lua *state;

/* Decodes `text` and encodes the value to `out`: 1 when both worked, 0
 * when a documented limit stopped it. `ours`: the text is the encoder's
 * own output, so it must be valid JSON. */
static int decode_encode(lua_State *L, const char *text, size_t len, struct vsg_buf *out, int ours)
{
    struct vsg_error err;
    enum vsg_err rc = vsg_lua_json_decode(L, text, len, &err);

    if (rc != VSG_OK) {
        if (rc != VSG_ERR_LIMIT && rc != VSG_ERR_NOMEM && (rc != VSG_ERR_PARSE || ours)) {
            fprintf(stderr, "decode: %s: %s\n", vsg_errname(rc), err.msg);
            abort();
        }
        return 0;
    }
    rc = vsg_lua_json_encode(L, -1, out, &err);
    lua_pop(L, 1);
    /* A number past the double range decodes as an infinity, which the
     * encoder refuses (json.h: "NaN and infinities cannot be encoded"). */
    if (rc == VSG_ERR_INVAL && strstr(err.msg, "cannot encode Infinity") != NULL) return 0;
    if (rc == VSG_ERR_INVAL && strstr(err.msg, "cannot encode -Infinity") != NULL) return 0;
    if (rc != VSG_OK && rc != VSG_ERR_TOOBIG && rc != VSG_ERR_NOMEM) {
        fprintf(stderr, "encode: %s: %s\n", vsg_errname(rc), err.msg);
        abort();
    }
    return rc == VSG_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vsg_buf a, b, c;
    lua_State *L;
    int top;

    if (size > (1u << 18)) return 0;
    if (state == NULL) {
        struct vsg_lua_config cfg = {0};
        struct vsg_error err;
        cfg.kind = VSG_LUA_KIND_FILTER;
        cfg.name = "vsgate.fuzz";
        if (!(state = vsg_lua_newstate(&cfg, &err))) abort();
    }
    L = vsg_lua_L(state);
    top = lua_gettop(L);
    vsg_buf_init(&a, 1u << 24);
    vsg_buf_init(&b, 1u << 24);
    vsg_buf_init(&c, 1u << 24);
    /* Its own output is valid JSON, and the second output is a fixed
     * point: encoding normalises once (bytes that are not UTF-8 become
     * the escape \ufffd, which decodes to U+FFFD written as is), then
     * stays the same. Only the memory cap may refuse what decoded once. */
    if (decode_encode(L, (const char *)data, size, &a, 0) && decode_encode(L, a.data, a.len, &b, 1) &&
        decode_encode(L, b.data, b.len, &c, 1) &&
        (b.len != c.len || memcmp(b.data, c.data, b.len) != 0)) {
        fprintf(stderr, "not a fixed point:\n%.*s\n%.*s\n", (int)b.len, b.data, (int)c.len,
                c.data);
        abort();
    }
    if (lua_gettop(L) != top) abort();
    vsg_buf_cleanup(&a);
    vsg_buf_cleanup(&b);
    vsg_buf_cleanup(&c);
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}
