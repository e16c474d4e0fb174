/*
 * bf_cli: what the command-line front end's commands share: exit codes,
 * usage errors, option parsing and the mapping of error codes to exit
 * codes. Only the CLI (layer 6) includes this; only the CLI exits.
 */
#ifndef BF_CLI_H
#define BF_CLI_H

#include "bf_scenario.h"

#include <signal.h>
#include <stddef.h>

/* Set by the build (CMakeLists.txt); these keep a bare compile working. */
#ifndef BF_SOURCE_DIR
#define BF_SOURCE_DIR "."
#endif
#ifndef BF_VERSION
#define BF_VERSION "0.1.0"
#endif

/* The results DB of the commands that write or read one, unless --db. */
#define BF_CLI_DEFAULT_DB "results/bench.db"

/* Exit codes (also in README.md). */
enum {
    EXIT_OK = 0,     /* everything ran and finished */
    EXIT_FAILED = 1, /* a case or command failed at run time */
    EXIT_USAGE = 2,  /* bad command line */
    EXIT_INPUT = 3,  /* bad input: scenario, weights, results DB */
    EXIT_INTERRUPTED = 130,
};

/* "bfbench CMD: MESSAGE" and the --help hint on stderr; EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* An integer option value with end and range checks: 0 or EXIT_USAGE. */
int parse_int(const char *cmd, const char *opt, const char *text, long min,
              long max, int *out);

/*
 * A --format value: text, csv and, with allow_md, md (enum
 * bf_report_format values into *out): 0, or EXIT_USAGE after saying what
 * was expected.
 */
int parse_format(const char *cmd, const char *text, int allow_md, int *out);

/* A --db value, which must not be empty, into *out: 0 or EXIT_USAGE. */
int parse_db(const char *cmd, const char *text, const char **out);

/* Log the last error and map rc to its exit code. */
int error_exit(int rc);

/*
 * Where the device models keep layer lists between runs (bf_devmodel.h):
 * $XDG_CACHE_HOME/bfbench/layers, else ~/.cache/bfbench/layers; NULL (no
 * cache) when neither variable is set.
 */
const char *layer_cache_dir(char *buf, size_t size);

/*
 * An existing results DB at db: EXIT_OK, else EXIT_INPUT after saying
 * that there is none and how to make one.
 */
int bf_cli_require_db(const char *db);

/*
 * The compute device a command was given, checked before anything runs:
 * EXIT_OK for cpu or a CUDA device that is there; else the error, naming
 * what (the scenario file or the flag), and EXIT_USAGE for a malformed
 * name, EXIT_INPUT where CUDA or that GPU is missing.
 */
int bf_cli_check_device(const char *what, const char *device);

/* Create the parent directory of path if missing (one level): 0 or BF_EIO. */
int bf_cli_ensure_parent_dir(const char *path);

/* Nonzero once SIGINT or SIGTERM arrived (after bf_cli_stop_on_signal). */
extern volatile sig_atomic_t bf_cli_stop;

/* From now on SIGINT and SIGTERM set bf_cli_stop instead of killing. */
void bf_cli_stop_on_signal(void);

/* Zoo architectures, and the identity model of the edge configurations. */
int bf_cli_model_known(const char *name);

/* How the CLI loads scenarios: models of the zoo, weights files checked. */
extern const struct bf_scenario_params bf_cli_scenario_params;

/*
 * Hold an exclusive lock on DB.lock (beside the DB): while `run` finds or
 * begins a run (processes starting together agree on one run) and while
 * `merge` replaces the DB. Returns the descriptor, or -1 (no lock: locking
 * is unsupported there, and the race is back).
 */
int bf_cli_lock_db(const char *db);
void bf_cli_unlock_db(int fd);

/*
 * The commands, one file each (bf_cmd_NAME.c); bf_main.c dispatches.
 * argv[0] is the command's name; each returns an exit code.
 */
int bf_cmd_models(int argc, char **argv);
int bf_cmd_keys(int argc, char **argv);
int bf_cmd_run(int argc, char **argv);
int bf_cmd_calibrate(int argc, char **argv);
int bf_cmd_report(int argc, char **argv);
int bf_cmd_plot(int argc, char **argv);
int bf_cmd_compare(int argc, char **argv);
int bf_cmd_netbench(int argc, char **argv);
int bf_cmd_bench(int argc, char **argv);
int bf_cmd_edge(int argc, char **argv);
int bf_cmd_predict(int argc, char **argv);
int bf_cmd_merge(int argc, char **argv);

#endif /* BF_CLI_H */
