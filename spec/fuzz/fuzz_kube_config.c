/*
 * fuzz_kube_config.c - libFuzzer target for the kubeconfig YAML reader
 * (vsg_kube_config_parse(), core/kube/config.c).
 *
 * The input is parsed as a kubeconfig from memory, with the current
 * context and with a context named "other". A success must give a server
 * and a namespace; a failure must leave the config empty and say why.
 *
 * Exec credential plugins are NOT run: a fuzzed kubeconfig names any
 * command. This target links config.c without exec_credential.c and
 * answers vsg_kube_exec_check()/vsg_kube_exec_credential() itself (the
 * plugin protocol has its own unit tests, spec/unit/test_kube_config.c).
 * Relative file paths resolve under a folder that does not exist, so a
 * token-file or certificate path reads nothing of the machine's unless it
 * is absolute (reads only). Seeds: spec/fuzz/corpus/kube_config.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/config.h"
#include "kube/exec_credential.h"

enum vsg_err vsg_kube_exec_check(const struct vsg_kube_exec_spec *spec, struct vsg_error *err)
{
    if (spec->command == NULL || spec->command[0] == '\0')
        return vsg_error_set(err, VSG_ERR_INVAL, "exec: no command");
    return VSG_OK;
}

enum vsg_err vsg_kube_exec_credential(const struct vsg_kube_exec_spec *spec,
                                      const struct vsg_kube_exec_cluster *cluster,
                                      struct vsg_kube_config *cfg, struct vsg_error *err)
{
    (void)cluster;
    (void)cfg;
    if (spec->command == NULL) abort();
    return vsg_error_set(err, VSG_ERR_INVAL, "exec: not run by the fuzzer");
}

static void check(const char *yaml, size_t len, const char *context)
{
    struct vsg_kube_config cfg;
    struct vsg_error err;
    enum vsg_err rc;

    memset(&cfg, 0, sizeof cfg);
    vsg_error_clear(&err);
    rc = vsg_kube_config_parse(yaml, len, "/nonexistent-vsgate-fuzz", "fuzz", context, &cfg, &err);
    if (rc == VSG_OK) {
        if (cfg.server == NULL || cfg.ns == NULL) abort();
    } else {
        if (cfg.server != NULL || cfg.token != NULL || err.msg[0] == '\0') abort();
    }
    vsg_kube_config_cleanup(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 16)) return 0;
    check((const char *)data, size, NULL);
    check((const char *)data, size, "other");
    return 0;
}
