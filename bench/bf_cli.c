/* bf_cli: helpers shared by the CLI's commands. */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_err.h"
#include "bf_log.h"
#include "bf_report.h"
#include "bf_split.h"
#include "bf_torch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <sys/stat.h>

volatile sig_atomic_t bf_cli_stop;

int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "bfbench %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'bfbench %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int parse_int(const char *cmd, const char *opt, const char *text, long min,
              long max, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < min || v > max)
        return usage_error(cmd, "%s: '%s' is not an integer in %ld..%ld", opt,
                           text, min, max);
    *out = (int)v;
    return 0;
}

int parse_format(const char *cmd, const char *text, int allow_md, int *out)
{
    if (strcmp(text, "text") == 0)
        *out = BF_REPORT_TEXT;
    else if (strcmp(text, "csv") == 0)
        *out = BF_REPORT_CSV;
    else if (allow_md && strcmp(text, "md") == 0)
        *out = BF_REPORT_MARKDOWN;
    else
        return usage_error(cmd, "--format: '%s' is not %s", text,
                           allow_md ? "text, csv or md" : "text or csv");
    return 0;
}

int parse_db(const char *cmd, const char *text, const char **out)
{
    if (!text[0])
        return usage_error(cmd, "--db: empty path");
    *out = text;
    return 0;
}

int error_exit(int rc)
{
    const char *detail = bf_last_error();

    bf_log_error("%s", detail[0] ? detail : bf_strerror(rc));
    switch (rc) {
    case BF_ENOENT:
    case BF_EPARSE:
    case BF_ERANGE:
    case BF_ESHAPE:
    case BF_EVERSION:
    case BF_EDB:
        return EXIT_INPUT;
    case BF_EINTR:
        return EXIT_INTERRUPTED;
    default:
        return EXIT_FAILED;
    }
}

int bf_cli_check_device(const char *what, const char *device)
{
    int rc;

    if (strcmp(device, "cpu") == 0)
        return EXIT_OK;
    rc = bf_torch_device_check(device);
    if (rc == 0)
        return EXIT_OK;
    bf_log_error("%s: %s", what, bf_last_error());
    return rc == BF_EINVAL ? EXIT_USAGE : EXIT_INPUT;
}

int bf_cli_require_db(const char *db)
{
    struct stat st;

    if (stat(db, &st) == 0)
        return EXIT_OK;
    bf_err_set(BF_ENOENT,
               "no results DB at '%s' (run a scenario first: "
               "bfbench run scenarios/host-local.yaml)",
               db);
    return error_exit(BF_ENOENT);
}

int bf_cli_ensure_parent_dir(const char *path)
{
    char dir[1024];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return bf_err_set(BF_EIO, "cannot create directory '%s': %s", dir,
                          strerror(errno));
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    bf_cli_stop = 1;
}

void bf_cli_stop_on_signal(void)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
}

const char *layer_cache_dir(char *buf, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");

    if (xdg && xdg[0] == '/')
        snprintf(buf, size, "%s/bfbench/layers", xdg);
    else if (home && home[0] == '/')
        snprintf(buf, size, "%s/.cache/bfbench/layers", home);
    else
        return NULL;
    return buf;
}

int bf_cli_model_known(const char *name)
{
    return strcmp(name, BF_SPLIT_NULL_MODEL) == 0 || bf_arch_exists(name);
}

const struct bf_scenario_params bf_cli_scenario_params = {
    .model_exists = bf_cli_model_known, .weights_check = bf_weights_check};

int bf_cli_lock_db(const char *db)
{
    char path[1200];
    int fd;

    if ((size_t)snprintf(path, sizeof(path), "%s.lock", db) >= sizeof(path))
        return -1;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void bf_cli_unlock_db(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}
