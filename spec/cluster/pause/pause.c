/* vsgate-pause: the pod sandbox ("pause") process for the real-cluster tests.
 *
 * It holds the pod's namespaces open and does nothing else: it waits for signals, reaps any
 * child that is re-parented to it (it is PID 1 of the pod's PID namespace when the pod shares
 * one), and exits 0 on SIGTERM or SIGINT. Built static (`cc -static`) into a FROM scratch image
 * by spec/cluster/build-images; no libc features beyond signals and waitpid are used.
 *
 *   pause            wait until SIGTERM/SIGINT, exit 0
 *   pause -v         print the version and exit 0
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define VSG_PAUSE_VERSION "1"

static volatile sig_atomic_t got_stop;

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_stop = 1;
	/* SIGCHLD only wakes sigsuspend; the reaping happens in main. */
}

static void reap_children(void)
{
	for (;;) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);
		if (pid > 0)
			continue;
		if (pid < 0 && errno == EINTR)
			continue;
		break; /* 0: children still running; -1/ECHILD: none left */
	}
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		if (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0) {
			printf("vsgate-pause %s\n", VSG_PAUSE_VERSION);
			return 0;
		}
		fprintf(stderr, "usage: %s [-v]\n", argv[0]);
		return 2;
	}

	/* Block the signals we handle; they are taken only inside sigsuspend, so none is lost
	 * between checking the flag and going back to sleep. */
	sigset_t handled, waitmask;
	sigemptyset(&handled);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGINT);
	sigaddset(&handled, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &handled, &waitmask) != 0) {
		perror("pause: sigprocmask");
		return 1;
	}
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGCHLD);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NOCLDSTOP;
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGCHLD, &sa, NULL) != 0) {
		perror("pause: sigaction");
		return 1;
	}

	if (getpid() != 1)
		fprintf(stderr, "pause: not PID 1; orphans are reaped only when PID 1\n");

	reap_children();
	while (!got_stop) {
		sigsuspend(&waitmask); /* always returns -1/EINTR after a handled signal */
		reap_children();
	}
	return 0;
}
