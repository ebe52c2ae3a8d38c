/*
 * main.c - the `vsgate` binary: dispatches to one subcommand.
 *
 * Provides: main(). Uses: cmd.h (the table of subcommands).
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/kn.h"

static int cmd_help(int argc, char **argv);

/* Later subcommands register here; keep the list sorted by use. */
static const struct vsg_cmd commands[] = {
    {"controller", "the controller: runs the Lua reconcilers of VSphereSources (leader-elected)", vsg_cmd_controller},
    {"adapter", "the receive adapter of a VSphereSource (configured by its environment)", vsg_cmd_adapter},
    {"run", "stream vCenter events to a CloudEvents sink without Kubernetes", vsg_cmd_run},
    {"version", "print version, git revision, build date and library versions", vsg_cmd_version},
    {"sink", "run a CloudEvents receiver for tests (records events, fails on demand)", vsg_cmd_sink},
    {"filter", "`filter test`: run a Lua filter over recorded or live events", vsg_cmd_filter},
    {"auth", "create and delete vSphere credentials (as `kn vsphere auth`)", vsg_cmd_kn},
    {"source", "create, list, describe and delete VSphereSources (as `kn vsphere source`)", vsg_cmd_kn},
    {"binding", "create, list, describe and delete VSphereBindings (as `kn vsphere binding`)", vsg_cmd_kn},
    {"completion", "print a bash or zsh completion script", vsg_cmd_kn},
    {"help", "show this help", cmd_help},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out,
            "vsgate - vSphere events to CloudEvents, and vCenter credentials for workloads\n"
            "\n"
            "Usage: vsgate <command> [options]\n"
            "\n"
            "Commands:\n");
    for (const struct vsg_cmd *c = commands; c->name; c++)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "\nRun `vsgate <command> --help` for a command's options.\n");
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    usage(stdout);
    return 0;
}

int vsg_cmd_kn(int argc, char **argv) { return vsg_kn_main("vsgate", argc, argv); }

/* The binary installed (or linked) as kn-vsphere is the kn plugin. */
static int called_as_kn_plugin(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    return strncmp(base, "kn-vsphere", 10) == 0;
}

int main(int argc, char **argv)
{
    if (argc > 0 && called_as_kn_plugin(argv[0])) return vsg_kn_main("kn-vsphere", argc, argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return cmd_help(argc - 1, argv + 1);
    if (strcmp(name, "--version") == 0)
        name = "version";
    for (const struct vsg_cmd *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "vsgate: unknown command \"%s\"; run `vsgate --help` for the list\n", name);
    return 2;
}
