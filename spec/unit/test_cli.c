/*
 * test_cli.c - unit tests for cmd/cli.h: pflag/cobra parsing and its error
 * texts, help layout, kubectl ages, and the bash completion script.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"

/* What the last run saw. */
static char seen[1024];

static int run_show(struct vsg_cli_ctx *c)
{
    snprintf(seen, sizeof seen, "name=%s k=%d age=%lld enc=%s set(enc)=%d args=%d%s%s", vsg_cli_str(c, "name"),
             vsg_cli_bool(c, "skip"), (long long)(vsg_cli_duration(c, "age") / 1000000000),
             vsg_cli_str(c, "enc"), vsg_cli_changed(c, "enc"), c->nargs, c->nargs ? " " : "",
             c->nargs ? c->args[0] : "");
    fprintf(c->out, "ran\n");
    return 0;
}

/* A PreRunE-like check: --name bad is refused before the required flags. */
static int pre_check(struct vsg_cli_ctx *c)
{
    if (strcmp(vsg_cli_str(c, "name"), "bad") == 0) return vsg_cli_fail(c, "'name' must not be bad");
    return 0;
}

static const char *const encs[] = {"xml", "json", NULL};
static const struct vsg_cli_flag leaf_flags[] = {
    {"name", 0, VSG_CLI_STRING, NULL, "name of the thing", 1, NULL},
    {"skip", 'k', VSG_CLI_BOOL, NULL, "skip checks", 0, NULL},
    {"age", 0, VSG_CLI_DURATION, "5m0s", "maximum age", 0, NULL},
    {"enc", 'e', VSG_CLI_STRING, "xml", "encoding", 0, encs},
    {"addr", 'a', VSG_CLI_STRING, NULL, "address", 1, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL},
};
static const struct vsg_cli_flag group_flags[] = {
    {"namespace", 'n', VSG_CLI_STRING, NULL, "namespace to use", 0, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL},
};
static const char *const ls[] = {"ls", NULL};
static const struct vsg_cli_cmd leaf = {"create", NULL, NULL, "Create a thing", "# an example\nroot thing create --name x\n",
                                        leaf_flags, NULL, NULL, run_show, pre_check};
static const struct vsg_cli_cmd lister = {"list", ls, NULL, "List things", NULL, NULL, NULL, NULL, run_show, NULL};
static const struct vsg_cli_cmd *const thing_subs[] = {&leaf, &lister, NULL};
static const struct vsg_cli_cmd thing = {"thing", NULL, NULL, "Manage things", NULL, NULL, group_flags, thing_subs, NULL, NULL};
static const struct vsg_cli_cmd *const root_subs[] = {&thing, NULL};
static const struct vsg_cli_cmd root = {"root", NULL, NULL, "The root", NULL, NULL, NULL, root_subs, NULL, NULL};

/* Runs `line` (words split on spaces; "_" stands for an empty word);
 * returns the exit status, stdout in out[] and stderr in err[]. */
static char out[8192], err[8192];
static int run(const char *line)
{
    char buf[512], *words[32], *save = NULL;
    int n = 0;
    snprintf(buf, sizeof buf, "root %s", line);
    for (char *w = strtok_r(buf, " ", &save); w && n < 31; w = strtok_r(NULL, " ", &save))
        words[n++] = strcmp(w, "_") == 0 ? w + 1 : w;
    words[n] = NULL;
    memset(out, 0, sizeof out);
    memset(err, 0, sizeof err);
    FILE *o = fmemopen(out, sizeof out, "w"), *e = fmemopen(err, sizeof err, "w");
    seen[0] = '\0';
    int rc = vsg_cli_main_io(&root, n, words, o, e);
    fclose(o);
    fclose(e);
    return rc;
}

static void test_parse_forms(void)
{
    CHECK_INT(run("thing create --name x -a h"), 0);
    CHECK_STR(seen, "name=x k=0 age=300 enc=xml set(enc)=0 args=0");
    CHECK_STR(out, "ran\n");
    CHECK_INT(run("thing create --name=x -ah -k --age 1h -ejson"), 0);
    CHECK_STR(seen, "name=x k=1 age=3600 enc=json set(enc)=1 args=0");
    CHECK_INT(run("thing -n ns create --name x -a h --skip=false -e=yaml"), 0);
    CHECK_STR(seen, "name=x k=0 age=300 enc=yaml set(enc)=1 args=0");
    /* -k then -e taking the rest; positional words and `--`. */
    CHECK_INT(run("thing create -kejson --name x -a h extra -- --name"), 0);
    CHECK_STR(seen, "name=x k=1 age=300 enc=json set(enc)=1 args=2 extra");
    /* An explicitly empty value counts as given (the command checks it). */
    CHECK_INT(run("thing create --name _ -a h"), 0);
    CHECK_STR(seen, "name= k=0 age=300 enc=xml set(enc)=0 args=0");
    /* Aliases. */
    CHECK_INT(run("thing ls"), 0);
    CHECK_STR(out, "ran\n");
}

static void test_errors(void)
{
    CHECK_INT(run("thing create"), 1);
    CHECK_STR(err, "Error: required flag(s) \"addr\", \"name\" not set\nRun 'root thing create --help' for usage.\n");
    CHECK_STR(out, "");
    CHECK_INT(run("thing create --name x -a h --bogus"), 1);
    CHECK_STR(err, "Error: unknown flag: --bogus\nRun 'root thing create --help' for usage.\n");
    CHECK_INT(run("thing create --name x -a h -z"), 1);
    CHECK_STR(err, "Error: unknown shorthand flag: 'z' in -z\nRun 'root thing create --help' for usage.\n");
    CHECK_INT(run("thing create -a h --name"), 1);
    CHECK_STR(err, "Error: flag needs an argument: --name\nRun 'root thing create --help' for usage.\n");
    CHECK_INT(run("thing create --name x -a"), 1);
    CHECK_STR(err, "Error: flag needs an argument: 'a' in -a\nRun 'root thing create --help' for usage.\n");
    CHECK_INT(run("thing create --name x -a h --age 5min"), 1);
    CHECK_STR(err, "Error: invalid argument \"5min\" for \"--age\" flag: time: invalid duration \"5min\"\n"
                   "Run 'root thing create --help' for usage.\n");
    CHECK_INT(run("thing create --name x -a h --skip=maybe"), 1);
    CHECK_STR(err, "Error: invalid argument \"maybe\" for \"-k, --skip\" flag: strconv.ParseBool: parsing "
                   "\"maybe\": invalid syntax\nRun 'root thing create --help' for usage.\n");
    /* The command's own checks come first, as cobra runs PreRunE before
     * the required-flag check. */
    CHECK_INT(run("thing create --name bad"), 1);
    CHECK_STR(err, "Error: 'name' must not be bad\nRun 'root thing create --help' for usage.\n");
    CHECK_INT(run("thing frob"), 1);
    CHECK_STR(err, "Error: unknown command \"frob\" for \"root thing\"\nRun 'root thing --help' for usage.\n");
    CHECK(seen[0] == '\0');
}

static void test_help(void)
{
    CHECK_INT(run("thing create --help"), 0);
    CHECK_STR(out, "Create a thing\n"
                   "\n"
                   "Usage:\n"
                   "  root thing create [flags]\n"
                   "\n"
                   "Examples:\n"
                   "# an example\n"
                   "root thing create --name x\n"
                   "\n"
                   "Flags:\n"
                   "  -a, --addr string    address\n"
                   "      --age duration   maximum age (default 5m0s)\n"
                   "  -e, --enc string     encoding (default \"xml\")\n"
                   "  -h, --help           help for create\n"
                   "      --name string    name of the thing\n"
                   "  -k, --skip           skip checks\n"
                   "\n"
                   "Global Flags:\n"
                   "  -n, --namespace string   namespace to use\n");
    CHECK(seen[0] == '\0');
    /* A group alone, or -h: its commands. */
    CHECK_INT(run("thing"), 0);
    CHECK_STR(out, "Manage things\n"
                   "\n"
                   "Usage:\n"
                   "  root thing [command]\n"
                   "\n"
                   "Available Commands:\n"
                   "  create      Create a thing\n"
                   "  list        List things\n"
                   "\n"
                   "Flags:\n"
                   "  -h, --help               help for thing\n"
                   "  -n, --namespace string   namespace to use\n"
                   "\n"
                   "Use \"root thing [command] --help\" for more information about a command.\n");
    /* cobra's help command at the root. */
    char want[sizeof out];
    CHECK_INT(run("thing --help"), 0);
    memcpy(want, out, sizeof want);
    CHECK_INT(run("help thing"), 0);
    CHECK_STR(out, want);
    CHECK_INT(run("help thing frob"), 1);
    CHECK_STR(err, "Error: unknown command \"frob\" for \"root thing\"\nRun 'root thing --help' for usage.\n");
    CHECK_INT(run("thing list -h"), 0);
    CHECK(strstr(out, "Aliases:\n  list, ls\n") != NULL);
}

static void test_human_duration(void)
{
    static const struct {
        long long s;
        const char *want;
    } rows[] = {
        {-5, "<invalid>"}, {-1, "0s"}, {0, "0s"}, {119, "119s"}, {120, "2m"}, {150, "2m30s"},
        {599, "9m59s"}, {600, "10m"}, {10799, "179m"}, {10800, "3h"}, {11400, "3h10m"},
        {28800, "8h"}, {172799, "47h"}, {172800, "2d"}, {187200, "2d4h"}, {691200, "8d"},
        {63072000, "2y"}, {64800000, "2y20d"}, {252288000, "8y"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        vsg_cli_human_duration(rows[i].s, buf, sizeof buf);
        CHECK_STR(buf, rows[i].want);
    }
}

/* The bash script completes commands, aliases, flags, and flag values,
 * skipping the value of a flag on the way. */
static void test_completion(void)
{
    char script[16384];
    FILE *f = fmemopen(script, sizeof script, "w");
    CHECK_INT(vsg_cli_completion(&root, "bash", f), 0);
    fclose(f);
    CHECK(strstr(script, "complete -o default -F __root_complete root") != NULL);
    CHECK(strstr(script, "\"root thing create\")") != NULL);
    CHECK(strstr(script, "\"root thing ls\")") != NULL);
    CHECK(strstr(script, "[[ $prev == --enc || $prev == -e ]] && values=\"xml json\"") != NULL);
    CHECK(strstr(script, " --namespace -n") != NULL);
    CHECK_INT(vsg_cli_completion(&root, "fish", stdout), 1);

    /* Run it in bash when there is one. */
    char path[] = "/tmp/vsg-test-cli.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *w = fdopen(fd, "w");
    fputs(script, w);
    fclose(w);
    static const struct {
        const char *words, *want;
    } rows[] = {
        {"root th", "thing"},
        {"root thing c", "create"},
        {"root thing -n ns l", "list"},
        {"root thing create --e", "--enc"},
        {"root thing create --enc ", "xml json"},
        {"root thing create -e j", "json"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char cmd[1024], got[256] = "";
        snprintf(cmd, sizeof cmd,
                 "bash -c 'source %s; COMP_WORDS=(%s%s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                 "__root_complete; echo \"${COMPREPLY[*]}\"' 2>&1",
                 path, rows[i].words, rows[i].words[strlen(rows[i].words) - 1] == ' ' ? "\"\"" : "");
        FILE *p = popen(cmd, "r");
        CHECK(p != NULL);
        if (!fgets(got, sizeof got, p)) got[0] = '\0';
        pclose(p);
        got[strcspn(got, "\n")] = '\0';
        CHECK_STR(got, rows[i].want);
    }
    unlink(path);
}

TEST_LIST = {
    {"parse_forms", test_parse_forms},
    {"errors", test_errors},
    {"help", test_help},
    {"human_duration", test_human_duration},
    {"completion", test_completion},
    {NULL, NULL},
};

TEST_MAIN()
