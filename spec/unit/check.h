/*
 * check.h - the tiny test framework of vsgate's C unit tests.
 *
 * Provides: CHECK* assertions that print both sides and the location, and
 * a TEST_LIST runner that runs every test (or the one named in argv[1]) and
 * prints "N passed, N failed, N skipped". A failing CHECK ends the current
 * test only. CHECK_SKIP(...) ends it as skipped: the binary then exits 77,
 * which vsg_unit_test declares as ctest's SKIP_RETURN_CODE, so a skip is
 * never reported as a pass (a failure still wins: exit 1).
 * Uses: stdio, string, setjmp. Owns nothing.
 *
 *   static void test_parse(void) { CHECK_INT(1 + 1, 2); }
 *   TEST_LIST = { {"parse", test_parse}, {NULL, NULL} };
 *   TEST_MAIN()
 */
#ifndef VSG_CHECK_H
#define VSG_CHECK_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct check_test {
    const char *name;    /* Test name, printed and matched against argv[1]. */
    void (*fn)(void);    /* The test body. */
};

static jmp_buf check_jmp;     /* Where a failing CHECK jumps to. */
static int check_failed_now;  /* Set when the current test failed. */
static int check_skipped_now; /* Set when the current test skipped itself. */

#define CHECK_FAIL_(...)                                                     \
    do {                                                                     \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                    \
        fprintf(stderr, __VA_ARGS__);                                        \
        fputc('\n', stderr);                                                 \
        check_failed_now = 1;                                                \
        longjmp(check_jmp, 1);                                               \
    } while (0)

/* Ends the current test as skipped, printing why (printf-style). */
#define CHECK_SKIP(...)                                                      \
    do {                                                                     \
        printf("  skipped: ");                                               \
        printf(__VA_ARGS__);                                                 \
        putchar('\n');                                                       \
        check_skipped_now = 1;                                               \
        longjmp(check_jmp, 1);                                               \
    } while (0)

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) CHECK_FAIL_("CHECK(%s) failed", #cond);                 \
    } while (0)

#define CHECK_INT(got, want)                                                 \
    do {                                                                     \
        long long g_ = (long long)(got), w_ = (long long)(want);             \
        if (g_ != w_)                                                        \
            CHECK_FAIL_("%s == %lld, want %lld", #got, g_, w_);              \
    } while (0)

#define CHECK_STR(got, want)                                                 \
    do {                                                                     \
        const char *g_ = (got), *w_ = (want);                                \
        if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0)       \
            CHECK_FAIL_("%s == \"%s\", want \"%s\"", #got,                   \
                        g_ ? g_ : "(null)", w_ ? w_ : "(null)");             \
    } while (0)

#define CHECK_DBL(got, want, eps)                                            \
    do {                                                                     \
        double g_ = (got), w_ = (want);                                      \
        if (g_ - w_ > (eps) || w_ - g_ > (eps))                              \
            CHECK_FAIL_("%s == %.9g, want %.9g", #got, g_, w_);              \
    } while (0)

#define TEST_LIST static const struct check_test check_tests[]

#define TEST_MAIN()                                                          \
    int main(int argc, char **argv)                                          \
    {                                                                        \
        volatile int passed = 0, failed = 0, skipped = 0;                    \
        for (const struct check_test *volatile t = check_tests; t->name; t++) { \
            if (argc > 1 && strcmp(argv[1], t->name) != 0) continue;         \
            check_failed_now = 0;                                            \
            check_skipped_now = 0;                                           \
            if (setjmp(check_jmp) == 0) t->fn();                             \
            if (check_failed_now) {                                          \
                failed++;                                                    \
                fprintf(stderr, "FAIL %s\n", t->name);                       \
            } else if (check_skipped_now) {                                  \
                skipped++;                                                   \
                printf("SKIP %s\n", t->name);                                \
            } else {                                                         \
                passed++;                                                    \
                printf("ok   %s\n", t->name);                                \
            }                                                                \
        }                                                                    \
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped); \
        if (failed) return 1;                                                \
        if (skipped) return 77;                                              \
        return passed ? 0 : 1;                                               \
    }

#endif
