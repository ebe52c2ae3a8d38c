/*
 * cli.h - a command tree with flags, parsed and documented the way the Go
 * command lines users already know (cobra and pflag) do it, so that
 * `vsgate auth|source|binding` and `kn vsphere` read alike.
 *
 * Provides: struct vsg_cli_flag and struct vsg_cli_cmd (static tables of a
 * command tree), vsg_cli_main() (finds the command, parses its flags, checks
 * the required ones, prints help or runs it), the accessors a command's run
 * function reads its flags with, vsg_cli_fail() (the "Error: ..." line), and
 * vsg_cli_completion() (a bash or zsh completion script for a tree).
 * Uses: base/vtime.h (Go durations). Owns: nothing; tables are static and
 * flag values point into argv.
 *
 * Order as cobra's: parse, help, the command's `pre` checks, the
 * required flags, `run`. At the root, `help [command...]` prints that
 * command's help.
 *
 * Parsing follows pflag: `--name value`, `--name=value`, `-n value`,
 * `-nvalue`, `-n=value`; a bool flag takes no value (`--flag=false` sets
 * it false); `--` ends the flags; flags may come before or after
 * arguments. Errors read as pflag's: "unknown flag: --x", "unknown
 * shorthand flag: 'x' in -x", "flag needs an argument: --x",
 * "invalid argument \"v\" for \"--x\" flag: ...", and cobra's
 * "required flag(s) \"a\", \"b\" not set" (names sorted) and
 * "unknown command \"x\" for \"root sub\"". Help (`-h`, `--help`, or a
 * group command run alone) prints cobra's layout: description, Usage,
 * Aliases, Examples, Available Commands, Flags, Global Flags.
 */
#ifndef VSG_CMD_CLI_H
#define VSG_CMD_CLI_H

#include <stdint.h>
#include <stdio.h>

enum vsg_cli_type {
    VSG_CLI_STRING,   /* Any text. */
    VSG_CLI_BOOL,     /* true/false; given alone means true. */
    VSG_CLI_DURATION, /* A Go duration ("5m0s", "1h", "30s"). */
};

struct vsg_cli_flag {
    const char *name;          /* Long name without dashes; NULL ends a table. */
    char shorthand;            /* One-letter alias, or 0. */
    enum vsg_cli_type type;
    const char *def;           /* Default as text (shown in help), or NULL. */
    const char *usage;         /* One line of help. */
    int required;              /* Nonzero: must be given (cobra MarkFlagRequired). */
    const char *const *values; /* Values offered by shell completion, or NULL. */
};

struct vsg_cli_ctx;

struct vsg_cli_cmd {
    const char *name;                       /* Word typed. */
    const char *const *aliases;             /* Other words, NULL-terminated, or NULL. */
    const char *args;                       /* Positional arguments for the usage line, or NULL. */
    const char *short_help;                 /* One line (command lists, and help's first line). */
    const char *example;                    /* Examples block, or NULL. */
    const struct vsg_cli_flag *flags;       /* Its own flags, or NULL. */
    const struct vsg_cli_flag *persistent;  /* Flags its subcommands inherit, or NULL. */
    const struct vsg_cli_cmd *const *subs;  /* Subcommands, NULL-terminated, or NULL. */
    int (*run)(struct vsg_cli_ctx *ctx);    /* NULL for a group (prints its help). */
    int (*pre)(struct vsg_cli_ctx *ctx);    /* Checks run before the required-flag check
                                               (cobra's PreRunE), or NULL. */
};

#define VSG_CLI_MAX_FLAGS 48
#define VSG_CLI_MAX_DEPTH 6

/* What a run function sees. */
struct vsg_cli_ctx {
    const struct vsg_cli_cmd *path[VSG_CLI_MAX_DEPTH]; /* Root first. */
    int depth;                                          /* Entries in path. */
    const struct vsg_cli_flag *defs[VSG_CLI_MAX_FLAGS]; /* Flags in effect. */
    const char *vals[VSG_CLI_MAX_FLAGS];                /* Given value, or NULL. */
    int nflags;
    char **args; /* Positional arguments (not flags). */
    int nargs;
    FILE *out; /* stdout */
    FILE *err; /* stderr */
};

/*
 * Runs the tree `root` over argv[1..argc-1] (argv[0] is the root's name as
 * typed). Returns the exit status: 0, or 1 after printing
 * "Error: <message>" and a pointer to --help on stderr.
 */
int vsg_cli_main(const struct vsg_cli_cmd *root, int argc, char **argv);

/* vsg_cli_main() writing to `out` and `err` instead of stdout and stderr. */
int vsg_cli_main_io(const struct vsg_cli_cmd *root, int argc, char **argv, FILE *out, FILE *err);

/* A number of seconds as kubectl shows ages (apimachinery's HumanDuration:
 * "45s", "5m30s", "3h10m", "2d4h", "1y20d"), "<invalid>" below -1. */
void vsg_cli_human_duration(int64_t secs, char *out, size_t n);

/* The value of flag `name`: what was given, else its default, else "".
 * A flag the command does not have reads as "" (a programming error). */
const char *vsg_cli_str(const struct vsg_cli_ctx *c, const char *name);

/* Nonzero when bool flag `name` is true. */
int vsg_cli_bool(const struct vsg_cli_ctx *c, const char *name);

/* Duration flag `name` in nanoseconds (already checked by the parser). */
int64_t vsg_cli_duration(const struct vsg_cli_ctx *c, const char *name);

/* Nonzero when flag `name` was given on the command line. */
int vsg_cli_changed(const struct vsg_cli_ctx *c, const char *name);

/* "kn-vsphere source create": the command path, in a static buffer. */
const char *vsg_cli_path(const struct vsg_cli_ctx *c);

/* Prints "Error: <message>" and the --help pointer; returns 1. */
int vsg_cli_fail(struct vsg_cli_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes a completion script for `root` in `shell` ("bash" or "zsh") to
 * `out`. Nonzero for another shell. */
int vsg_cli_completion(const struct vsg_cli_cmd *root, const char *shell, FILE *out);

#endif
