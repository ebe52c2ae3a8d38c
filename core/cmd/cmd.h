/*
 * cmd.h - the vsgate subcommand table.
 *
 * Provides: struct vsg_cmd (one row per subcommand) and the entry points of
 * each subcommand, each in its own core/cmd/cmd_<name>.c.
 * Uses: nothing else. Owns nothing: argv stays the caller's.
 */
#ifndef VSG_CMD_H
#define VSG_CMD_H

/* The build's identity (CMake defines them for the vsgate target; these
 * are the fallbacks): `vsgate version` and `kn-vsphere version` print them. */
#ifndef VSG_VERSION
#define VSG_VERSION "0.0.0"
#endif
#ifndef VSG_GIT_REV
#define VSG_GIT_REV "unknown"
#endif
#ifndef VSG_BUILD_DATE
#define VSG_BUILD_DATE "unknown"
#endif

struct vsg_cmd {
    const char *name;                     /* Word typed after `vsgate`. */
    const char *summary;                  /* One line for `vsgate --help`. */
    int (*run)(int argc, char **argv);    /* argv[0] is the subcommand name. */
};

int vsg_cmd_version(int argc, char **argv);
int vsg_cmd_adapter(int argc, char **argv);
int vsg_cmd_run(int argc, char **argv);
int vsg_cmd_sink(int argc, char **argv);
int vsg_cmd_filter(int argc, char **argv);
int vsg_cmd_controller(int argc, char **argv);
/* auth, source, binding, completion: the kn-vsphere command line (kn.h). */
int vsg_cmd_kn(int argc, char **argv);

#endif
