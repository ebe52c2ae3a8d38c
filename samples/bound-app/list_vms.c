/*
 * vsgate-list-vms - a sample app for a workload bound by a VSphereBinding.
 *
 * It uses nothing but libvsgate (<vsgate/vsgate.h>) and what the binding
 * injected: VC_URL, VC_INSECURE, and the Secret mounted at
 * /var/bindings/vsphere (or VC_SECRET_PATH), falling back to
 * VC_USERNAME/VC_PASSWORD. It lists every VM and its power state over
 * SOAP, then logs in to the REST (vAPI) API and shows the session works.
 *
 *   vsgate-list-vms [--rest-path PATH] [--no-rest] [--no-soap]
 *
 * --rest-path: the GET made with the REST session (default
 * /rest/com/vmware/cis/tagging/category; on a real vCenter try
 * /rest/vcenter/vm, which vcsim does not simulate). --no-rest / --no-soap
 * skip one half.
 * Exit status 0 on success, 1 on any error (one line on stderr), 2 for
 * bad usage.
 *
 * Build outside the vsgate tree:
 *   cc -o vsgate-list-vms list_vms.c $(pkg-config --cflags --libs vsgate)
 */
#include <stdio.h>
#include <string.h>

#include <vsgate/vsgate.h>

#define BODY_SHOWN 300

static int print_vm(void *ud, const char *id, const char *name, const char *power_state)
{
    int *count = ud;
    printf("%-24s %-12s %s\n", name, power_state, id);
    (*count)++;
    return 0;
}

/* Prints `body` on one line, cut after BODY_SHOWN bytes. */
static void print_body(const char *label, const char *body)
{
    size_t n = strlen(body);
    while (n > 0 && (body[n - 1] == '\n' || body[n - 1] == '\r')) n--;
    printf("%s%.*s%s\n", label, (int)(n > BODY_SHOWN ? BODY_SHOWN : n), body,
           n > BODY_SHOWN ? "..." : "");
}

static int list_vms(void);
static int rest_check(const char *rest_path);

int main(int argc, char **argv)
{
    const char *rest_path = "/rest/com/vmware/cis/tagging/category";
    int use_rest = 1, use_soap = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rest-path") == 0 && i + 1 < argc) {
            rest_path = argv[++i];
        } else if (strcmp(argv[i], "--no-rest") == 0) {
            use_rest = 0;
        } else if (strcmp(argv[i], "--no-soap") == 0) {
            use_soap = 0;
        } else {
            fprintf(stderr,
                    "usage: vsgate-list-vms [--rest-path PATH] [--no-rest] [--no-soap]\n");
            return 2;
        }
    }

    if (use_soap && list_vms() != 0) return 1;
    if (use_rest && rest_check(rest_path) != 0) return 1;
    return 0;
}

/* ---- SOAP */
static int list_vms(void)
{
    vsgate_error err;
    int count = 0;
    vsgate_client *c = vsgate_client_from_env(NULL, &err);
    if (!c) {
        fprintf(stderr, "vsgate-list-vms: SOAP login failed (%s): %s\n",
                vsgate_status_name(err.code), err.message);
        return 1;
    }
    printf("SOAP: logged in to %s (%s, API %s)\n", vsgate_client_url(c),
           vsgate_client_full_name(c), vsgate_client_api_version(c));
    printf("%-24s %-12s %s\n", "VM", "POWER STATE", "ID");
    if (vsgate_list_vms(c, print_vm, &count, &err) != VSGATE_OK) {
        fprintf(stderr, "vsgate-list-vms: listing VMs failed (%s): %s\n",
                vsgate_status_name(err.code), err.message);
        vsgate_client_close(c);
        return 1;
    }
    printf("SOAP: %d VMs\n", count);
    vsgate_client_close(c);
    return 0;
}

/* ---- REST */
static int rest_check(const char *rest_path)
{
    vsgate_error err;
    vsgate_rest *r = vsgate_rest_session_from_env(NULL, &err);
    if (!r) {
        fprintf(stderr, "vsgate-list-vms: REST login failed (%s): %s\n",
                vsgate_status_name(err.code), err.message);
        return 1;
    }
    long status = 0;
    char *body = NULL;
    /* The session's own record ({"value":{"user":...}}), as govmomi reads it. */
    if (vsgate_rest_request(r, "POST", "/rest/com/vmware/cis/session?~action=get", NULL,
                            &status, &body, &err) != VSGATE_OK) {
        fprintf(stderr, "vsgate-list-vms: REST session check failed (%s): %s\n",
                vsgate_status_name(err.code), err.message);
        vsgate_rest_close(r);
        return 1;
    }
    if (status != 200) {
        fprintf(stderr, "vsgate-list-vms: REST session check failed: HTTP %ld\n", status);
        vsgate_free(body);
        vsgate_rest_close(r);
        return 1;
    }
    printf("REST: session ok at %s\n", vsgate_rest_url(r));
    print_body("REST: session: ", body);
    vsgate_free(body);
    body = NULL;
    if (vsgate_rest_get(r, rest_path, &body, &err) != VSGATE_OK) {
        fprintf(stderr, "vsgate-list-vms: REST GET %s failed (%s): %s\n", rest_path,
                vsgate_status_name(err.code), err.message);
        vsgate_rest_close(r);
        return 1;
    }
    printf("REST: GET %s: ", rest_path);
    print_body("", body);
    vsgate_free(body);
    vsgate_rest_close(r);
    return 0;
}
