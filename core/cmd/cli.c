/*
 * cli.c - command tree, flag parsing, help and completion (see cli.h).
 */
#include "cmd/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/vtime.h"

/* The flag every command has. */
static const struct vsg_cli_flag help_flag = {"help", 'h', VSG_CLI_BOOL, NULL, NULL, 0, NULL};

/* ====================================================================
 * Flags in effect
 * ==================================================================== */

static int flag_index(const struct vsg_cli_ctx *c, const char *name)
{
    for (int i = 0; i < c->nflags; i++)
        if (strcmp(c->defs[i]->name, name) == 0) return i;
    return -1;
}

static int short_index(const struct vsg_cli_ctx *c, char s)
{
    for (int i = 0; i < c->nflags; i++)
        if (c->defs[i]->shorthand == s) return i;
    return -1;
}

static void add_flags(struct vsg_cli_ctx *c, const struct vsg_cli_flag *f)
{
    for (; f && f->name; f++)
        if (flag_index(c, f->name) < 0 && c->nflags < VSG_CLI_MAX_FLAGS) c->defs[c->nflags++] = f;
}

/* The flags of the command at the end of c->path: its own, its own
 * persistent ones, those its ancestors pass down, and help. */
static void collect_flags(struct vsg_cli_ctx *c)
{
    const struct vsg_cli_cmd *leaf = c->path[c->depth - 1];
    c->nflags = 0;
    add_flags(c, leaf->flags);
    add_flags(c, leaf->persistent);
    for (int i = c->depth - 2; i >= 0; i--) add_flags(c, c->path[i]->persistent);
    if (flag_index(c, "help") < 0 && c->nflags < VSG_CLI_MAX_FLAGS) c->defs[c->nflags++] = &help_flag;
}

const char *vsg_cli_str(const struct vsg_cli_ctx *c, const char *name)
{
    int i = flag_index(c, name);
    if (i < 0) return "";
    if (c->vals[i]) return c->vals[i];
    return c->defs[i]->def ? c->defs[i]->def : "";
}

/* strconv.ParseBool's spellings. -1 when none. */
static int parse_bool(const char *s)
{
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
    static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False", NULL};
    for (int i = 0; t[i]; i++)
        if (strcmp(s, t[i]) == 0) return 1;
    for (int i = 0; f[i]; i++)
        if (strcmp(s, f[i]) == 0) return 0;
    return -1;
}

int vsg_cli_bool(const struct vsg_cli_ctx *c, const char *name)
{
    return parse_bool(vsg_cli_str(c, name)) == 1;
}

int64_t vsg_cli_duration(const struct vsg_cli_ctx *c, const char *name)
{
    int64_t ns = 0;
    const char *v = vsg_cli_str(c, name);
    if (*v) (void)vsg_duration_parse(v, &ns);
    return ns;
}

int vsg_cli_changed(const struct vsg_cli_ctx *c, const char *name)
{
    int i = flag_index(c, name);
    return i >= 0 && c->vals[i] != NULL;
}

const char *vsg_cli_path(const struct vsg_cli_ctx *c)
{
    static char buf[256];
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < c->depth; i++) {
        int w = snprintf(buf + n, sizeof buf - n, "%s%s", i ? " " : "", c->path[i]->name);
        if (w < 0 || (size_t)w >= sizeof buf - n) break;
        n += (size_t)w;
    }
    return buf;
}

int vsg_cli_fail(struct vsg_cli_ctx *c, const char *fmt, ...)
{
    va_list ap;
    fputs("Error: ", c->err);
    va_start(ap, fmt);
    vfprintf(c->err, fmt, ap);
    va_end(ap);
    fprintf(c->err, "\nRun '%s --help' for usage.\n", vsg_cli_path(c));
    return 1;
}

/* pflag names a flag in errors as "-k, --skip-tls-verify" or "--name". */
static const char *flag_label(const struct vsg_cli_flag *f)
{
    static char buf[96];
    if (f->shorthand)
        snprintf(buf, sizeof buf, "-%c, --%s", f->shorthand, f->name);
    else
        snprintf(buf, sizeof buf, "--%s", f->name);
    return buf;
}

/* Stores `v` for flag i after checking it against the flag's type. */
static int set_value(struct vsg_cli_ctx *c, int i, const char *v)
{
    const struct vsg_cli_flag *f = c->defs[i];
    if (f->type == VSG_CLI_BOOL && parse_bool(v) < 0)
        return vsg_cli_fail(c, "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: parsing "
                               "\"%s\": invalid syntax",
                            v, flag_label(f), v);
    if (f->type == VSG_CLI_DURATION) {
        int64_t ns;
        if (vsg_duration_parse(v, &ns) != VSG_OK)
            return vsg_cli_fail(c, "invalid argument \"%s\" for \"%s\" flag: time: invalid duration "
                                   "\"%s\"",
                                v, flag_label(f), v);
    }
    c->vals[i] = v;
    return 0;
}

/* ====================================================================
 * Help
 * ==================================================================== */

static int cmp_flag(const void *a, const void *b)
{
    const struct vsg_cli_flag *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* pflag's FlagUsages: sorted, "  -a, --name type   usage (default ...)". */
static void print_flags(FILE *out, const struct vsg_cli_flag **fs, int n, const char *cmd_name)
{
    char lines[VSG_CLI_MAX_FLAGS][128];
    size_t maxlen = 0;
    qsort(fs, (size_t)n, sizeof *fs, cmp_flag);
    for (int i = 0; i < n; i++) {
        const struct vsg_cli_flag *f = fs[i];
        const char *type = f->type == VSG_CLI_STRING ? " string" : f->type == VSG_CLI_DURATION ? " duration" : "";
        if (f->shorthand)
            snprintf(lines[i], sizeof lines[i], "  -%c, --%s%s", f->shorthand, f->name, type);
        else
            snprintf(lines[i], sizeof lines[i], "      --%s%s", f->name, type);
        size_t l = strlen(lines[i]) + 1;
        if (l > maxlen) maxlen = l;
    }
    for (int i = 0; i < n; i++) {
        const struct vsg_cli_flag *f = fs[i];
        fprintf(out, "%s%*s   ", lines[i], (int)(maxlen - 1 - strlen(lines[i])), "");
        if (f == &help_flag)
            fprintf(out, "help for %s", cmd_name);
        else
            fputs(f->usage ? f->usage : "", out);
        if (f->def && *f->def && f->type != VSG_CLI_BOOL)
            fprintf(out, f->type == VSG_CLI_STRING ? " (default \"%s\")" : " (default %s)", f->def);
        fputc('\n', out);
    }
}

static void print_help(struct vsg_cli_ctx *c)
{
    const struct vsg_cli_cmd *cmd = c->path[c->depth - 1];
    FILE *out = c->out;
    const char *path = vsg_cli_path(c);
    if (cmd->short_help) fprintf(out, "%s\n\n", cmd->short_help);
    fprintf(out, "Usage:\n");
    if (cmd->run) fprintf(out, "  %s%s%s [flags]\n", path, cmd->args ? " " : "", cmd->args ? cmd->args : "");
    if (cmd->subs) fprintf(out, "  %s [command]\n", path);
    if (cmd->aliases) {
        fprintf(out, "\nAliases:\n  %s", cmd->name);
        for (const char *const *a = cmd->aliases; *a; a++) fprintf(out, ", %s", *a);
        fputc('\n', out);
    }
    if (cmd->example) {
        size_t n = strlen(cmd->example);
        while (n > 0 && cmd->example[n - 1] == '\n') n--;
        fprintf(out, "\nExamples:\n%.*s\n", (int)n, cmd->example);
    }
    if (cmd->subs) {
        size_t w = 11;
        for (const struct vsg_cli_cmd *const *s = cmd->subs; *s; s++)
            if (strlen((*s)->name) + 1 > w) w = strlen((*s)->name) + 1;
        fprintf(out, "\nAvailable Commands:\n");
        for (const struct vsg_cli_cmd *const *s = cmd->subs; *s; s++)
            fprintf(out, "  %-*s %s\n", (int)w, (*s)->name, (*s)->short_help ? (*s)->short_help : "");
    }
    /* Local flags: the command's own and its persistent ones, and help;
     * global: what ancestors pass down. */
    const struct vsg_cli_flag *local[VSG_CLI_MAX_FLAGS], *global[VSG_CLI_MAX_FLAGS];
    int nl = 0, ng = 0;
    for (int i = 0; i < c->nflags; i++) {
        const struct vsg_cli_flag *f = c->defs[i];
        int own = f == &help_flag;
        for (const struct vsg_cli_flag *g = cmd->flags; !own && g && g->name; g++) own = g == f;
        for (const struct vsg_cli_flag *g = cmd->persistent; !own && g && g->name; g++) own = g == f;
        if (own)
            local[nl++] = f;
        else
            global[ng++] = f;
    }
    if (nl) {
        fprintf(out, "\nFlags:\n");
        print_flags(out, local, nl, cmd->name);
    }
    if (ng) {
        fprintf(out, "\nGlobal Flags:\n");
        print_flags(out, global, ng, cmd->name);
    }
    if (cmd->subs)
        fprintf(out, "\nUse \"%s [command] --help\" for more information about a command.\n", path);
}

/* ====================================================================
 * Parsing
 * ==================================================================== */

static const struct vsg_cli_cmd *find_sub(const struct vsg_cli_cmd *cmd, const char *word)
{
    for (const struct vsg_cli_cmd *const *s = cmd->subs; s && *s; s++) {
        if (strcmp((*s)->name, word) == 0) return *s;
        for (const char *const *a = (*s)->aliases; a && *a; a++)
            if (strcmp(*a, word) == 0) return *s;
    }
    return NULL;
}

/* Nonzero when `arg` (a flag) is a non-bool flag of the current command
 * whose value is the next word. */
static int value_follows(struct vsg_cli_ctx *c, const char *arg)
{
    int i;
    collect_flags(c);
    if (arg[1] == '-') {
        if (strchr(arg, '=')) return 0;
        i = flag_index(c, arg + 2);
    } else {
        if (arg[2] != '\0') return 0;
        i = short_index(c, arg[1]);
    }
    return i >= 0 && c->defs[i]->type != VSG_CLI_BOOL;
}

/* Parses the flags in words[0..n-1]; positional words go to c->args.
 * Returns 0, 1 after an error, or 2 when help was asked for. */
static int parse_flags(struct vsg_cli_ctx *c, char **words, int n)
{
    collect_flags(c);
    for (int k = 0; k < n; k++) {
        char *a = words[k];
        if (strcmp(a, "--") == 0) {
            while (++k < n) c->args[c->nargs++] = words[k];
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            c->args[c->nargs++] = a;
            continue;
        }
        if (a[1] == '-') { /* --name[=value] */
            const char *name = a + 2, *eq = strchr(name, '=');
            char buf[128];
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            if (len >= sizeof buf) len = sizeof buf - 1;
            memcpy(buf, name, len);
            buf[len] = '\0';
            int i = flag_index(c, buf);
            if (i < 0) return vsg_cli_fail(c, "unknown flag: --%s", buf);
            if (c->defs[i] == &help_flag) return 2;
            if (eq) {
                if (set_value(c, i, eq + 1)) return 1;
            } else if (c->defs[i]->type == VSG_CLI_BOOL) {
                c->vals[i] = "true";
            } else if (k + 1 < n) {
                if (set_value(c, i, words[++k])) return 1;
            } else {
                return vsg_cli_fail(c, "flag needs an argument: --%s", buf);
            }
            continue;
        }
        /* -abc: bools in a row, then possibly one that takes the rest. */
        for (const char *s = a + 1; *s; s++) {
            int i = short_index(c, *s);
            if (i < 0) return vsg_cli_fail(c, "unknown shorthand flag: '%c' in %s", *s, a);
            if (c->defs[i] == &help_flag) return 2;
            if (c->defs[i]->type == VSG_CLI_BOOL) {
                if (s[1] == '=') {
                    if (set_value(c, i, s + 2)) return 1;
                    break;
                }
                c->vals[i] = "true";
                continue;
            }
            if (s[1] == '=') {
                if (set_value(c, i, s + 2)) return 1;
            } else if (s[1]) {
                if (set_value(c, i, s + 1)) return 1;
            } else if (k + 1 < n) {
                if (set_value(c, i, words[++k])) return 1;
            } else {
                return vsg_cli_fail(c, "flag needs an argument: '%c' in %s", *s, a);
            }
            break;
        }
    }
    return 0;
}

int vsg_cli_main(const struct vsg_cli_cmd *root, int argc, char **argv)
{
    return vsg_cli_main_io(root, argc, argv, stdout, stderr);
}

int vsg_cli_main_io(const struct vsg_cli_cmd *root, int argc, char **argv, FILE *out, FILE *errout)
{
    struct vsg_cli_ctx c;
    memset(&c, 0, sizeof c);
    c.out = out;
    c.err = errout;
    c.path[0] = root;
    c.depth = 1;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    c.args = calloc((size_t)argc + 1, sizeof *c.args);
    int nrest = 0, rc;
    if (!rest || !c.args) {
        fprintf(errout, "Error: out of memory\n");
        free(rest);
        free(c.args);
        return 1;
    }

    /* `root help a b`: the help of `root a b` (cobra's help command). */
    int first = 1, help_cmd = 0;
    if (argc > 1 && root->subs && strcmp(argv[1], "help") == 0 && !find_sub(root, "help")) {
        help_cmd = 1;
        first = 2;
    }

    /* Find the command: words that name subcommands, in order, skipping
     * flags and their values. */
    for (int i = first; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < argc) rest[nrest++] = argv[i++];
            break;
        }
        if (a[0] == '-' && a[1]) {
            rest[nrest++] = a;
            if (value_follows(&c, a) && i + 1 < argc) rest[nrest++] = argv[++i];
            continue;
        }
        const struct vsg_cli_cmd *cur = c.path[c.depth - 1];
        if (cur->subs) {
            const struct vsg_cli_cmd *sub = find_sub(cur, a);
            if (sub && c.depth < VSG_CLI_MAX_DEPTH) {
                c.path[c.depth++] = sub;
                continue;
            }
            if (!cur->run) {
                collect_flags(&c);
                rc = vsg_cli_fail(&c, "unknown command \"%s\" for \"%s\"", a, vsg_cli_path(&c));
                goto done;
            }
        }
        rest[nrest++] = a;
    }

    if (help_cmd) {
        collect_flags(&c);
        print_help(&c);
        rc = 0;
        goto done;
    }
    rc = parse_flags(&c, rest, nrest);
    if (rc == 1) goto done;
    const struct vsg_cli_cmd *cmd = c.path[c.depth - 1];
    if (rc == 2 || !cmd->run) {
        print_help(&c);
        rc = 0;
        goto done;
    }
    if (cmd->pre && (rc = cmd->pre(&c)) != 0) goto done;
    /* Required flags, named in sorted order as cobra does. */
    {
        const struct vsg_cli_flag *missing[VSG_CLI_MAX_FLAGS];
        int nm = 0;
        for (int i = 0; i < c.nflags; i++)
            if (c.defs[i]->required && !c.vals[i]) missing[nm++] = c.defs[i];
        if (nm) {
            char list[512];
            size_t off = 0;
            qsort(missing, (size_t)nm, sizeof *missing, cmp_flag);
            list[0] = '\0';
            for (int i = 0; i < nm && off < sizeof list; i++)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s\"%s\"", i ? ", " : "",
                                        missing[i]->name);
            rc = vsg_cli_fail(&c, "required flag(s) %s not set", list);
            goto done;
        }
    }
    rc = cmd->run(&c);
done:
    fflush(out);
    free(rest);
    free(c.args);
    return rc;
}

/* ====================================================================
 * Ages
 * ==================================================================== */

void vsg_cli_human_duration(int64_t secs, char *out, size_t n)
{
    if (secs < -1) {
        snprintf(out, n, "<invalid>");
        return;
    }
    if (secs < 0) secs = 0;
    if (secs < 120) {
        snprintf(out, n, "%llds", (long long)secs);
        return;
    }
    long long m = secs / 60, h = secs / 3600, d = h / 24;
    if (m < 10) {
        if (secs % 60) snprintf(out, n, "%lldm%llds", m, (long long)(secs % 60));
        else snprintf(out, n, "%lldm", m);
    } else if (m < 180) {
        snprintf(out, n, "%lldm", m);
    } else if (h < 8) {
        if (m % 60) snprintf(out, n, "%lldh%lldm", h, m % 60);
        else snprintf(out, n, "%lldh", h);
    } else if (h < 48) {
        snprintf(out, n, "%lldh", h);
    } else if (h < 24 * 8) {
        if (h % 24) snprintf(out, n, "%lldd%lldh", d, h % 24);
        else snprintf(out, n, "%lldd", d);
    } else if (h < 24 * 365 * 2) {
        snprintf(out, n, "%lldd", d);
    } else if (h < 24 * 365 * 8) {
        if (d % 365) snprintf(out, n, "%lldy%lldd", d / 365, d % 365);
        else snprintf(out, n, "%lldy", d / 365);
    } else {
        snprintf(out, n, "%lldy", d / 365);
    }
}

/* ====================================================================
 * Completion
 * ==================================================================== */

/* One `case` arm per command: its subcommands and flags. */
static void bash_arms(FILE *out, const struct vsg_cli_cmd *cmd, const char *path,
                      const struct vsg_cli_flag *const *inherited, int ninh)
{
    const struct vsg_cli_flag *all[VSG_CLI_MAX_FLAGS];
    int n = 0;
    for (int i = 0; i < ninh; i++) all[n++] = inherited[i];
    for (const struct vsg_cli_flag *f = cmd->persistent; f && f->name && n < VSG_CLI_MAX_FLAGS - 1; f++)
        all[n++] = f;
    int nown = n;
    for (const struct vsg_cli_flag *f = cmd->flags; f && f->name && n < VSG_CLI_MAX_FLAGS - 1; f++)
        all[n++] = f;

    fprintf(out, "    \"%s\")\n      cmds=\"", path);
    for (const struct vsg_cli_cmd *const *s = cmd->subs; s && *s; s++)
        fprintf(out, "%s%s", s == cmd->subs ? "" : " ", (*s)->name);
    fprintf(out, "\"\n      flags=\"--help");
    for (int i = 0; i < n; i++) {
        fprintf(out, " --%s", all[i]->name);
        if (all[i]->shorthand) fprintf(out, " -%c", all[i]->shorthand);
    }
    fprintf(out, "\"\n      takes=\"");
    for (int i = 0; i < n; i++) {
        if (all[i]->type == VSG_CLI_BOOL) continue;
        fprintf(out, " --%s", all[i]->name);
        if (all[i]->shorthand) fprintf(out, " -%c", all[i]->shorthand);
    }
    fprintf(out, " \"\n");
    for (int i = 0; i < n; i++) {
        if (!all[i]->values) continue;
        fprintf(out, "      [[ $prev == --%s", all[i]->name);
        if (all[i]->shorthand) fprintf(out, " || $prev == -%c", all[i]->shorthand);
        fprintf(out, " ]] && values=\"");
        for (const char *const *v = all[i]->values; *v; v++)
            fprintf(out, "%s%s", v == all[i]->values ? "" : " ", *v);
        fprintf(out, "\"\n");
    }
    fprintf(out, "      : ;;\n");
    for (const struct vsg_cli_cmd *const *s = cmd->subs; s && *s; s++) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s %s", path, (*s)->name);
        bash_arms(out, *s, sub, all, nown);
        for (const char *const *a = (*s)->aliases; a && *a; a++) {
            snprintf(sub, sizeof sub, "%s %s", path, *a);
            bash_arms(out, *s, sub, all, nown);
        }
    }
}

int vsg_cli_completion(const struct vsg_cli_cmd *root, const char *shell, FILE *out)
{
    int zsh = strcmp(shell, "zsh") == 0;
    if (!zsh && strcmp(shell, "bash") != 0) return 1;
    char fn[64];
    size_t k = 0;
    for (const char *p = root->name; *p && k < sizeof fn - 8; p++)
        fn[k++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ? *p : '_';
    fn[k] = '\0';
    fprintf(out, "# %s completion for %s; load it with: source <(%s completion %s)\n", shell,
            root->name, root->name, shell);
    if (zsh) fprintf(out, "autoload -U +X bashcompinit && bashcompinit\n");
    fprintf(out,
            "__%s_complete() {\n"
            "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
            "  local cpath=%s w i skip=0 cmds flags takes values next\n"
            "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
            "    w=${COMP_WORDS[i]}\n"
            "    if ((skip)); then skip=0; continue; fi\n"
            "    if [[ $w == -* ]]; then\n"
            "      __%s_arm \"$cpath\"\n"
            "      [[ $w != *=* && \" $takes \" == *\" $w \"* ]] && skip=1\n"
            "      continue\n"
            "    fi\n"
            "    next=\"$cpath $w\"\n"
            "    __%s_arm \"$next\" && cpath=$next\n"
            "  done\n"
            "  __%s_arm \"$cpath\"\n"
            "  if [[ -n $values ]]; then COMPREPLY=($(compgen -W \"$values\" -- \"$cur\")); return; fi\n"
            "  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
            "  else COMPREPLY=($(compgen -W \"$cmds\" -- \"$cur\")); fi\n"
            "}\n",
            fn, root->name, fn, fn, fn);
    fprintf(out, "__%s_arm() {\n  cmds= flags= takes= values=\n  case \"$1\" in\n", fn);
    bash_arms(out, root, root->name, NULL, 0);
    fprintf(out, "    *) return 1 ;;\n  esac\n}\n");
    fprintf(out, "complete -o default -F __%s_complete %s\n", fn, root->name);
    return 0;
}
