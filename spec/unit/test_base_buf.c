/*
 * test_base_buf.c - unit tests for base/buf.h.
 */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/mem.h"

static void test_init_and_append(void)
{
    struct vsg_buf b;

    vsg_buf_init(&b, 1024);
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    CHECK_INT(b.max, 1024);
    CHECK_INT(vsg_buf_append(&b, "", 0), VSG_OK);
    CHECK_INT(vsg_buf_append(&b, "abc", 3), VSG_OK);
    CHECK_INT(vsg_buf_puts(&b, "def"), VSG_OK);
    CHECK_INT(vsg_buf_putc(&b, '!'), VSG_OK);
    CHECK_INT(vsg_buf_printf(&b, "%d-%s", 42, "x"), VSG_OK);
    CHECK_INT(b.len, 11);
    CHECK_STR(b.data, "abcdef!42-x");
    CHECK(b.cap > b.len);
    vsg_buf_cleanup(&b);
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    CHECK_INT(b.max, 1024);
    vsg_buf_cleanup(&b); /* Twice is fine. */
    vsg_buf_cleanup(NULL);
}

static void test_embedded_nul(void)
{
    struct vsg_buf b;

    vsg_buf_init(&b, 100);
    CHECK_INT(vsg_buf_append(&b, "a\0b", 3), VSG_OK);
    CHECK_INT(vsg_buf_putc(&b, '\0'), VSG_OK);
    CHECK_INT(b.len, 4);
    CHECK(memcmp(b.data, "a\0b\0", 5) == 0);
    vsg_buf_cleanup(&b);
}

static void test_growth(void)
{
    struct vsg_buf b;

    vsg_buf_init(&b, 100000);
    for (int i = 0; i < 10000; i++)
        CHECK_INT(vsg_buf_putc(&b, (char)('a' + i % 26)), VSG_OK);
    CHECK_INT(b.len, 10000);
    CHECK_INT(strlen(b.data), 10000);
    for (int i = 0; i < 10000; i++) CHECK_INT(b.data[i], 'a' + i % 26);
    /* A long printf takes the grow-and-retry path. */
    vsg_buf_reset(&b);
    CHECK_INT(vsg_buf_printf(&b, "%05000d|%s", 7, "end"), VSG_OK);
    CHECK_INT(b.len, 5004);
    CHECK_STR(b.data + 4990, "0000000007|end");
    vsg_buf_cleanup(&b);
}

static void test_max(void)
{
    struct vsg_buf b;
    char big[20];

    memset(big, 'x', sizeof big);
    vsg_buf_init(&b, 10);
    CHECK_INT(vsg_buf_puts(&b, "12345"), VSG_OK);
    CHECK_INT(vsg_buf_append(&b, big, 6), VSG_ERR_TOOBIG);
    CHECK_STR(b.data, "12345");
    CHECK_INT(b.len, 5);
    CHECK_INT(vsg_buf_printf(&b, "%s", "abcdef"), VSG_ERR_TOOBIG);
    CHECK_STR(b.data, "12345");
    CHECK_INT(b.len, 5);
    CHECK_INT(vsg_buf_append_json_string(&b, "abcd"), VSG_ERR_TOOBIG);
    CHECK_STR(b.data, "12345");
    /* Exactly up to max works; one more byte does not. */
    CHECK_INT(vsg_buf_printf(&b, "%s", "abcde"), VSG_OK);
    CHECK_STR(b.data, "12345abcde");
    CHECK_INT(vsg_buf_putc(&b, 'z'), VSG_ERR_TOOBIG);
    CHECK_INT(vsg_buf_puts(&b, "z"), VSG_ERR_TOOBIG);
    CHECK_INT(vsg_buf_printf(&b, "z"), VSG_ERR_TOOBIG);
    CHECK_STR(b.data, "12345abcde");
    CHECK_INT(b.len, 10);
    CHECK(b.cap <= 11); /* Never allocates past what max can use. */
    vsg_buf_cleanup(&b);

    vsg_buf_init(&b, 0);
    CHECK_INT(vsg_buf_putc(&b, 'a'), VSG_ERR_TOOBIG);
    CHECK(b.data == NULL);
    vsg_buf_cleanup(&b);
}

static void test_printf_toobig_after_partial_write(void)
{
    struct vsg_buf b;

    /* The first vsnprintf attempt writes into spare room before finding
     * the text too long: contents and NUL must come back intact. */
    vsg_buf_init(&b, 70);
    CHECK_INT(vsg_buf_puts(&b, "head"), VSG_OK);
    CHECK(b.cap > 4);
    CHECK_INT(vsg_buf_printf(&b, "%080d", 1), VSG_ERR_TOOBIG);
    CHECK_INT(b.len, 4);
    CHECK_STR(b.data, "head");
    vsg_buf_cleanup(&b);
}

static void test_reset_truncate(void)
{
    struct vsg_buf b;
    char *data;
    size_t cap;

    vsg_buf_init(&b, 1000);
    vsg_buf_reset(&b); /* On an unused buffer: no-op. */
    CHECK(b.data == NULL);
    CHECK_INT(vsg_buf_puts(&b, "hello world"), VSG_OK);
    vsg_buf_truncate(&b, 5);
    CHECK_STR(b.data, "hello");
    vsg_buf_truncate(&b, 50);
    CHECK_STR(b.data, "hello");
    data = b.data;
    cap = b.cap;
    vsg_buf_reset(&b);
    CHECK(b.data == data);
    CHECK_INT(b.cap, cap);
    CHECK_INT(b.len, 0);
    CHECK_STR(b.data, "");
    vsg_buf_cleanup(&b);
}

static void test_steal(void)
{
    struct vsg_buf b;
    char *s;

    vsg_buf_init(&b, 100);
    s = vsg_buf_steal(&b);
    CHECK_STR(s, "");
    vsg_free(s);
    CHECK_INT(vsg_buf_puts(&b, "owned"), VSG_OK);
    s = vsg_buf_steal(&b);
    CHECK_STR(s, "owned");
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    CHECK_INT(b.cap, 0);
    vsg_free(s);
    /* Still usable afterwards. */
    CHECK_INT(vsg_buf_puts(&b, "again"), VSG_OK);
    CHECK_STR(b.data, "again");
    vsg_buf_cleanup(&b);
}

/* ---- JSON escaping ---------------------------------------------------- */

struct json_case {
    const char *in;   /* Input bytes. */
    size_t inlen;     /* Input length (embedded NULs allowed). */
    const char *want; /* Expected output, quotes included. */
};

#define JC(lit, want) {lit, sizeof(lit) - 1, want}

static const struct json_case json_cases[] = {
    JC("", "\"\""),
    JC("plain text", "\"plain text\""),
    JC("say \"hi\"", "\"say \\\"hi\\\"\""),
    JC("back\\slash", "\"back\\\\slash\""),
    JC("a/b", "\"a/b\""),
    JC("l1\nl2\r\n\tx", "\"l1\\nl2\\r\\n\\tx\""),
    JC("\b\f", "\"\\u0008\\u000c\""),
    JC("\x01\x1f", "\"\\u0001\\u001f\""),
    JC("nul\0here", "\"nul\\u0000here\""),
    JC("del\x7f", "\"del\x7f\""),
    JC("caf\xC3\xA9", "\"caf\xC3\xA9\""),                   /* é */
    JC("\xE2\x82\xAC 5", "\"\xE2\x82\xAC 5\""),              /* € */
    JC("\xF0\x9F\x98\x80", "\"\xF0\x9F\x98\x80\""),          /* 😀 */
    JC("\xEF\xBF\xBF", "\"\xEF\xBF\xBF\""),                  /* U+FFFF */
    JC("\xF4\x8F\xBF\xBF", "\"\xF4\x8F\xBF\xBF\""),          /* U+10FFFF */
    JC("x\x80y", "\"x\\ufffdy\""),                           /* Lone cont. */
    JC("\xC0\x80", "\"\\ufffd\\ufffd\""),                    /* Overlong. */
    JC("\xE0\x80\xAF", "\"\\ufffd\\ufffd\\ufffd\""),         /* Overlong. */
    JC("\xED\xA0\x80", "\"\\ufffd\\ufffd\\ufffd\""),         /* Surrogate. */
    JC("\xF4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""), /* >10FFFF */
    JC("\xF5\x80", "\"\\ufffd\\ufffd\""),
    JC("\xFF", "\"\\ufffd\""),
    JC("end\xE2\x82", "\"end\\ufffd\\ufffd\""),              /* Cut short. */
    JC("\xC3(", "\"\\ufffd(\""),                             /* Bad cont. */
};

static void test_json_string_cases(void)
{
    struct vsg_buf b;

    vsg_buf_init(&b, 4096);
    for (size_t i = 0; i < sizeof json_cases / sizeof json_cases[0]; i++) {
        const struct json_case *c = &json_cases[i];
        vsg_buf_reset(&b);
        CHECK_INT(vsg_buf_append_json_stringn(&b, c->in, c->inlen), VSG_OK);
        CHECK_STR(b.data, c->want);
        /* Every output is valid JSON for cJSON too. */
        cJSON *j = cJSON_Parse(b.data);
        CHECK(j != NULL);
        CHECK(cJSON_IsString(j));
        cJSON_Delete(j);
    }
    vsg_buf_cleanup(&b);
}

static void test_json_string_roundtrip(void)
{
    static const char *inputs[] = {
        "simple", "tab\there \"q\" \\ /", "ctl \x01\x02\x1e",
        "multi\nline\r\n", "unicode \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80",
    };
    struct vsg_buf b;

    vsg_buf_init(&b, 4096);
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        vsg_buf_reset(&b);
        CHECK_INT(vsg_buf_puts(&b, "{\"k\":"), VSG_OK);
        CHECK_INT(vsg_buf_append_json_string(&b, inputs[i]), VSG_OK);
        CHECK_INT(vsg_buf_putc(&b, '}'), VSG_OK);
        cJSON *j = cJSON_Parse(b.data);
        CHECK(j != NULL);
        cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "k");
        int same = cJSON_IsString(k) && strcmp(k->valuestring, inputs[i]) == 0;
        cJSON_Delete(j);
        CHECK(same);
    }
    vsg_buf_cleanup(&b);
}

static void test_json_null_and_append(void)
{
    struct vsg_buf b;

    vsg_buf_init(&b, 100);
    CHECK_INT(vsg_buf_puts(&b, "["), VSG_OK);
    CHECK_INT(vsg_buf_append_json_string(&b, NULL), VSG_OK);
    CHECK_INT(vsg_buf_putc(&b, ','), VSG_OK);
    CHECK_INT(vsg_buf_append_json_stringn(&b, NULL, 0), VSG_OK);
    CHECK_INT(vsg_buf_putc(&b, ','), VSG_OK);
    CHECK_INT(vsg_buf_append_json_string(&b, "a\"b"), VSG_OK);
    CHECK_INT(vsg_buf_putc(&b, ']'), VSG_OK);
    CHECK_STR(b.data, "[null,\"\",\"a\\\"b\"]");
    vsg_buf_cleanup(&b);
}

static void test_json_toobig_rolls_back(void)
{
    struct vsg_buf b;

    /* Fails at each possible point (opening quote, a run, an escape, the
     * closing quote): the buffer always comes back unchanged. */
    for (size_t max = 3; max < 16; max++) {
        vsg_buf_init(&b, max);
        CHECK_INT(vsg_buf_puts(&b, "ab"), VSG_OK);
        enum vsg_err err = vsg_buf_append_json_string(&b, "x\ny\"z");
        if (max >= 2 + 9) {
            CHECK_INT(err, VSG_OK);
            CHECK_STR(b.data, "ab\"x\\ny\\\"z\"");
        } else {
            CHECK_INT(err, VSG_ERR_TOOBIG);
            CHECK_INT(b.len, 2);
            CHECK_STR(b.data, "ab");
        }
        vsg_buf_cleanup(&b);
    }
}

/* ---- Out of memory ---------------------------------------------------- */

/* Builds the same text with allocation failing at every possible point:
 * each failure is NOMEM with the contents as they were before the call. */
static void test_nomem_every_point(void)
{
    const char *want = "{\"name\":\"caf\xC3\xA9 \\\"x\\\"\",\"n\":12345}";
    int completed = 0;

    for (long n = 0; n < 50 && !completed; n++) {
        struct vsg_buf b;
        enum vsg_err err = VSG_OK;
        size_t before;
        char pad[200];

        memset(pad, '-', sizeof pad - 1);
        pad[sizeof pad - 1] = '\0';
        vsg_buf_init(&b, 1 << 16);
        vsg_mem_fail_after(n);
        before = b.len;
        err = vsg_buf_puts(&b, "{\"name\":");
        if (err == VSG_OK) {
            before = b.len;
            err = vsg_buf_append_json_string(&b, "caf\xC3\xA9 \"x\"");
        }
        if (err == VSG_OK) {
            before = b.len;
            err = vsg_buf_printf(&b, ",\"n\":%d}%s", 12345, pad);
        }
        vsg_mem_fail_after(-1);
        if (err == VSG_OK) {
            vsg_buf_truncate(&b, b.len - strlen(pad));
            CHECK_STR(b.data, want);
            CHECK_INT(vsg_mem_injected_failures(), 0);
            completed = 1;
        } else {
            CHECK_INT(err, VSG_ERR_NOMEM);
            CHECK_INT(vsg_mem_injected_failures(), 1);
            CHECK_INT(b.len, before);
            if (b.data) CHECK_INT(b.data[b.len], '\0');
        }
        vsg_buf_cleanup(&b);
    }
    CHECK(completed);
}

static void test_steal_nomem(void)
{
    struct vsg_buf b;
    char *s;

    vsg_buf_init(&b, 10);
    vsg_mem_fail_after(0);
    s = vsg_buf_steal(&b); /* Empty: needs to allocate "". */
    vsg_mem_fail_after(-1);
    CHECK(s == NULL);
    vsg_buf_cleanup(&b);
}

/* vsg_write_all: everything, in order, through the short writes of a
 * pipe; -1 with errno on a bad descriptor. */
static void test_write_all(void)
{
    enum { N = 3 << 20 };
    static char out[N], in[N];
    int fds[2];
    size_t got = 0;
    pid_t pid;

    for (size_t i = 0; i < N; i++) out[i] = (char)(i * 31 + (i >> 9));
    CHECK_INT(pipe(fds), 0);
    pid = fork();
    if (pid == 0) { /* The writer: a pipe takes 64 KiB at a time. */
        close(fds[0]);
        _exit(vsg_write_all(fds[1], out, N) == 0 ? 0 : 1);
    }
    close(fds[1]);
    for (ssize_t r; got < N && (r = read(fds[0], in + got, N - got)) > 0;) got += (size_t)r;
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(got == N && memcmp(in, out, N) == 0);
    errno = 0;
    CHECK_INT(vsg_write_all(-1, "x", 1), -1);
    CHECK_INT(errno, EBADF);
    CHECK_INT(vsg_write_all(-1, "", 0), 0);
}

/* ---- vsg_utf8_decode --------------------------------------------------- */

/* Length vsg_utf8_decode gives for the n bytes of `s`; *r gets the rune,
 * or stays 0x7777777 when there is none. */
static size_t dec(const char *s, size_t n, uint32_t *r)
{
    *r = 0x7777777;
    return vsg_utf8_decode((const unsigned char *)s, n, r);
}

static void test_utf8_decode(void)
{
    static const struct {
        const char *s;
        size_t n, len;
        uint32_t rune;
    } ok[] = {
        {"A", 1, 1, 'A'},
        {"\0", 1, 1, 0},
        {"\x7F", 1, 1, 0x7F},
        {"\xC2\x80", 2, 2, 0x80},           /* Smallest 2-byte. */
        {"\xDF\xBF", 2, 2, 0x7FF},
        {"\xE0\xA0\x80", 3, 3, 0x800},      /* Smallest 3-byte. */
        {"\xED\x9F\xBF", 3, 3, 0xD7FF},     /* Just below the surrogates. */
        {"\xEE\x80\x80", 3, 3, 0xE000},     /* Just above them. */
        {"\xEF\xBF\xBD", 3, 3, 0xFFFD},
        {"\xEF\xBF\xBF", 3, 3, 0xFFFF},
        {"\xE2\x80\xA8", 3, 3, 0x2028},
        {"\xF0\x90\x80\x80", 4, 4, 0x10000}, /* Smallest 4-byte. */
        {"\xF0\x9F\x98\x80", 4, 4, 0x1F600},
        {"\xF4\x8F\xBF\xBF", 4, 4, 0x10FFFF}, /* The last code point. */
        {"\xC3\xA9xyz", 5, 2, 0xE9},        /* Only the first sequence. */
    };
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {
        {"", 0},
        {"\x80", 1}, {"\xBF", 1},                          /* Stray continuation. */
        {"\xC0\x80", 2}, {"\xC1\xBF", 2},                  /* Overlong 2-byte. */
        {"\xE0\x80\x80", 3}, {"\xE0\x9F\xBF", 3},          /* Overlong 3-byte. */
        {"\xF0\x80\x80\x80", 4}, {"\xF0\x8F\xBF\xBF", 4},  /* Overlong 4-byte. */
        {"\xED\xA0\x80", 3}, {"\xED\xBF\xBF", 3},          /* Surrogates. */
        {"\xF4\x90\x80\x80", 4}, {"\xF5\x80\x80\x80", 4},  /* Above U+10FFFF. */
        {"\xF7\xBF\xBF\xBF", 4}, {"\xF8\x88\x80\x80\x80", 5}, {"\xFF", 1}, {"\xFE", 1},
        {"\xC3", 1}, {"\xE2\x82", 2}, {"\xF0\x9F\x98", 3}, /* Truncated by n. */
        {"\xC3\xA9", 1}, {"\xE2\x82\xAC", 2},              /* Valid, but n cuts it. */
        {"\xC3\x28", 2}, {"\xE2\x28\xA1", 3}, {"\xE2\x82\x28", 3},
        {"\xF0\x9F\x98\x28", 4}, {"\xC3\xC3", 2},          /* Bad continuation. */
    };
    uint32_t r;

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK_INT(dec(ok[i].s, ok[i].n, &r), ok[i].len);
        CHECK_INT(r, ok[i].rune);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(dec(bad[i].s, bad[i].n, &r), 0);
        CHECK_INT(r, 0x7777777); /* Untouched. */
    }
}

TEST_LIST = {
    {"utf8_decode", test_utf8_decode},
    {"write_all", test_write_all},
    {"init_and_append", test_init_and_append},
    {"embedded_nul", test_embedded_nul},
    {"growth", test_growth},
    {"max", test_max},
    {"printf_toobig_after_partial_write",
     test_printf_toobig_after_partial_write},
    {"reset_truncate", test_reset_truncate},
    {"steal", test_steal},
    {"json_string_cases", test_json_string_cases},
    {"json_string_roundtrip", test_json_string_roundtrip},
    {"json_null_and_append", test_json_null_and_append},
    {"json_toobig_rolls_back", test_json_toobig_rolls_back},
    {"nomem_every_point", test_nomem_every_point},
    {"steal_nomem", test_steal_nomem},
    {NULL, NULL},
};

TEST_MAIN()
