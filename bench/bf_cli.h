/*
 * bf_cli: what the command-line front end's commands share: exit codes,
 * usage errors, option parsing and the mapping of error codes to exit
 * codes. Only the CLI (layer 6) includes this; only the CLI exits.
 */
#ifndef BF_CLI_H
#define BF_CLI_H

#include "bf_scenario.h"

#include <stddef.h>

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

/* Log the last error and map rc to its exit code. */
int error_exit(int rc);

/*
 * Where the device models keep layer lists between runs (bf_devmodel.h):
 * $XDG_CACHE_HOME/bfbench/layers, else ~/.cache/bfbench/layers; NULL (no
 * cache) when neither variable is set.
 */
const char *layer_cache_dir(char *buf, size_t size);

/* Zoo architectures, and the identity model of the edge configurations. */
int bf_cli_model_known(const char *name);

/* How the CLI loads scenarios: models of the zoo, weights files checked. */
extern const struct bf_scenario_params bf_cli_scenario_params;

/* The commands outside bf_main.c, one file each. */
int bf_cmd_predict(int argc, char **argv);
int bf_cmd_merge(int argc, char **argv);

#endif /* BF_CLI_H */
