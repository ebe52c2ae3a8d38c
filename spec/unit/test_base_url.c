/*
 * test_base_url.c - unit tests for base/url.h (credential redaction).
 */
#include "check.h"

#include "base/mem.h"
#include "base/url.h"

/* vsg_url_redact_dup(in), compared with `want` and freed. */
#define CHECK_REDACT(in, want)                                               \
    do {                                                                     \
        char *r_ = vsg_url_redact_dup(in);                                   \
        CHECK(r_ != NULL);                                                   \
        char got_[512];                                                      \
        snprintf(got_, sizeof got_, "%s", r_);                               \
        vsg_free(r_);                                                        \
        CHECK_STR(got_, want);                                               \
    } while (0)

static void test_user_info(void)
{
    CHECK_REDACT("http://user:S3cret@sink.example:8080/a/b?x=1#f",
                 "http://***@sink.example:8080/a/b?x=1#f");
    CHECK_REDACT("https://token@host/", "https://***@host/");         /* a token as the user */
    CHECK_REDACT("http://:pw@host", "http://***@host");
    CHECK_REDACT("HTTPS://u:p@[::1]:9/", "HTTPS://***@[::1]:9/");
    CHECK_REDACT("svn+ssh://u:p@h", "svn+ssh://***@h");
    /* Go's "user@vsphere.local:pw@host": up to the last '@'. */
    CHECK_REDACT("https://administrator@vsphere.local:pw@vc/sdk", "https://***@vc/sdk");
    /* Unencoded '/', '?', '#' in the password: still hidden. */
    CHECK_REDACT("http://u:pa/ss@h/", "http://***@h/");
    CHECK_REDACT("http://u:p?s#s@h/x", "http://***@h/x");
}

static void test_unchanged(void)
{
    CHECK_REDACT("http://sink.example:8080/a?b=c", "http://sink.example:8080/a?b=c");
    CHECK_REDACT("not a url", "not a url");
    CHECK_REDACT("mail ops@example.com at once", "mail ops@example.com at once");
    CHECK_REDACT("://u:p@h", "://u:p@h"); /* no scheme before "://" */
    CHECK_REDACT("http://@h/", "http://@h/"); /* empty user info: nothing to hide */
    CHECK_REDACT("", "");
    CHECK_REDACT(NULL, "");
    /* The path's '@' hides what precedes it: too much rather than too little. */
    CHECK_REDACT("http://h/a@b", "http://***@b");
}

static void test_in_text(void)
{
    CHECK_REDACT("POST http://u:pw@127.0.0.1:9/: Failed to connect to 127.0.0.1 port 9",
                 "POST http://***@127.0.0.1:9/: Failed to connect to 127.0.0.1 port 9");
    CHECK_REDACT("sink.uri \"http://u:pw@h/x\" is not absolute; user root@vc",
                 "sink.uri \"http://***@h/x\" is not absolute; user root@vc");
    CHECK_REDACT("a http://u:1@x and b https://v:2@y/z, c ftp://w@z",
                 "a http://***@x and b https://***@y/z, c ftp://***@z");
    CHECK_REDACT("<http://u:p@h>`https://q:r@s`", "<http://***@h>`https://***@s`");
    CHECK_REDACT("x\thttp://u:p@h\nhttp://v:q@i", "x\thttp://***@h\nhttp://***@i");
    /* A URL inside a query: the last '@' counts. */
    CHECK_REDACT("http://u:p@h/?next=http://v:q@i/", "http://***@i/");
}

static void test_truncation(void)
{
    const char *in = "http://user:S3cret@host/path";
    char out[64];
    size_t want = strlen("http://***@host/path");

    CHECK_INT(vsg_url_redact(in, NULL, 0), want);
    CHECK_INT(vsg_url_redact(in, out, sizeof out), want);
    CHECK_STR(out, "http://***@host/path");
    /* Every truncation is a prefix of the redacted text: no password bytes. */
    for (size_t n = 1; n <= want + 1; n++) {
        memset(out, 'Z', sizeof out);
        CHECK_INT(vsg_url_redact(in, out, n), want);
        CHECK_INT(strlen(out), n - 1 < want ? n - 1 : want);
        CHECK(strncmp(out, "http://***@host/path", strlen(out)) == 0);
        CHECK(strstr(out, "S3") == NULL);
    }
}

static void test_out_of_memory(void)
{
    vsg_mem_fail_after(0);
    char *r = vsg_url_redact_dup("http://u:p@h/");
    vsg_mem_fail_after(-1);
    CHECK(r == NULL);
}

TEST_LIST = {
    {"user_info", test_user_info},
    {"unchanged", test_unchanged},
    {"in_text", test_in_text},
    {"truncation", test_truncation},
    {"out_of_memory", test_out_of_memory},
    {NULL, NULL},
};

TEST_MAIN()
