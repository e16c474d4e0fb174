/*
 * bf_sysinfo: host and build facts for run provenance.
 *
 * git is run through fork/exec as `timeout 5 git -C <dir> ...` with an
 * argument vector, never through a shell, so a source directory containing
 * quotes or shell metacharacters cannot inject commands. Its stderr goes to
 * /dev/null; a failure of any kind leaves the field "unknown" (-1 for the
 * dirty flag). cores_online is -1 when sysconf cannot tell.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_sysinfo.h"

#include "bf_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BF_BUILD_TYPE
#define BF_BUILD_TYPE "unknown"
#endif
#ifndef BF_VERSION
#define BF_VERSION "0.1.0"
#endif

#define UNKNOWN "unknown"
#define GOVERNOR_PATH "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"
#define GIT_TIMEOUT "5" /* seconds, as `timeout` reads it */

/* Copy src into dst (size bytes), truncating; "unknown" when src is empty. */
static void copy_field(char *dst, size_t size, const char *src)
{
    size_t len;

    if (!src || !src[0])
        src = UNKNOWN;
    len = strlen(src);
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Strip leading and trailing white space in place; returns the start. */
static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
                       end[-1] == '\r'))
        *--end = '\0';
    return s;
}

static void collect_host(struct bf_sysinfo *info)
{
    char name[256];

    if (gethostname(name, sizeof(name)) != 0) {
        copy_field(info->host, sizeof(info->host), UNKNOWN);
        return;
    }
    name[sizeof(name) - 1] = '\0';
    copy_field(info->host, sizeof(info->host), trim(name));
}

/*
 * The CPU model from /proc/cpuinfo: the "model name" line (x86, most
 * arm64 kernels); failing that the "Model" line (Raspberry Pi) so that ARM
 * boards are still named.
 */
static void collect_cpu_model(struct bf_sysinfo *info)
{
    char line[512];
    char fallback[256] = "";
    FILE *f = fopen("/proc/cpuinfo", "r");

    copy_field(info->cpu_model, sizeof(info->cpu_model), UNKNOWN);
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        char *key;

        if (!colon)
            continue;
        *colon = '\0';
        key = trim(line);
        if (strcmp(key, "model name") == 0) {
            copy_field(info->cpu_model, sizeof(info->cpu_model),
                       trim(colon + 1));
            goto out_close;
        }
        if (strcmp(key, "Model") == 0 && !fallback[0])
            copy_field(fallback, sizeof(fallback), trim(colon + 1));
    }
    if (fallback[0])
        copy_field(info->cpu_model, sizeof(info->cpu_model), fallback);
out_close:
    fclose(f);
}

static void collect_governor(struct bf_sysinfo *info)
{
    char line[128];
    FILE *f = fopen(GOVERNOR_PATH, "r");

    copy_field(info->governor, sizeof(info->governor), UNKNOWN);
    if (!f)
        return;
    if (fgets(line, sizeof(line), f))
        copy_field(info->governor, sizeof(info->governor), trim(line));
    fclose(f);
}

/*
 * Run `timeout 5 git -C dir <args...>` and capture up to out_size - 1 bytes
 * of its stdout (the rest is read and dropped). Returns 0 when git exited
 * with status 0, -1 otherwise.
 */
static int run_git(const char *dir, const char *const args[], char *out,
                   size_t out_size)
{
    const char *argv[16];
    size_t argc = 0;
    size_t used = 0;
    int fds[2];
    int status;
    pid_t pid;
    size_t i;
    int rc = -1;

    argv[argc++] = "timeout";
    argv[argc++] = GIT_TIMEOUT;
    argv[argc++] = "git";
    argv[argc++] = "-C";
    argv[argc++] = dir;
    for (i = 0; args[i] && argc < sizeof(argv) / sizeof(argv[0]) - 1; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;

    out[0] = '\0';
    if (pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        goto out_pipe;
    if (pid == 0) {
        /* Child: stdout to the pipe, stdin and stderr to /dev/null. Only
         * async-signal-safe calls until exec. */
        int null_fd = open("/dev/null", O_RDWR);

        if (null_fd >= 0) {
            dup2(null_fd, STDIN_FILENO);
            dup2(null_fd, STDERR_FILENO);
        }
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        /* execvp takes char *const[]; the strings are not modified. */
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }

    close(fds[1]);
    fds[1] = -1;
    for (;;) {
        char chunk[256];
        ssize_t n = read(fds[0], chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (i = 0; i < (size_t)n && used + 1 < out_size; i++)
            out[used++] = chunk[i];
    }
    out[used] = '\0';
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            goto out_pipe;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        rc = 0;

out_pipe:
    close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    return rc;
}

static int is_hex_commit(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++) {
        char c = s[n];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return n >= 40;
}

static void collect_git(const char *source_dir, struct bf_sysinfo *info)
{
    static const char *const rev_parse[] = {"rev-parse", "HEAD", NULL};
    static const char *const status[] = {"status", "--porcelain",
                                         "--untracked-files=no", NULL};
    char out[4096];
    char *commit;

    copy_field(info->git_commit, sizeof(info->git_commit), UNKNOWN);
    info->git_dirty = -1;
    if (!source_dir || !source_dir[0])
        return;

    if (run_git(source_dir, rev_parse, out, sizeof(out)) == 0) {
        commit = trim(out);
        if (is_hex_commit(commit))
            copy_field(info->git_commit, sizeof(info->git_commit), commit);
    }
    /* Any output at all means a tracked file differs from HEAD; the
     * captured prefix is enough to tell. */
    if (run_git(source_dir, status, out, sizeof(out)) == 0)
        info->git_dirty = trim(out)[0] != '\0';
}

void bf_sysinfo_collect(const char *source_dir, struct bf_sysinfo *info)
{
    long cores;

    memset(info, 0, sizeof(*info));
    collect_host(info);
    collect_cpu_model(info);
    cores = sysconf(_SC_NPROCESSORS_ONLN);
    info->cores_online = cores > 0 && cores <= 1 << 20 ? (int)cores : -1;
    collect_git(source_dir, info);
    collect_governor(info);
    copy_field(info->build_type, sizeof(info->build_type), BF_BUILD_TYPE);
    copy_field(info->version, sizeof(info->version), BF_VERSION);
}

int bf_sysinfo_warn(const struct bf_sysinfo *info)
{
    int count = 0;

    if (strcmp(info->build_type, "Debug") == 0) {
        bf_log_warn("bfbench was built as Debug; timings are not "
                    "representative (build with -DCMAKE_BUILD_TYPE=Release)");
        count++;
    }
    if (strcmp(info->governor, UNKNOWN) != 0 &&
        strcmp(info->governor, "performance") != 0) {
        bf_log_warn("cpufreq governor of cpu0 is '%s', not 'performance'; "
                    "frequency scaling adds noise to timings",
                    info->governor);
        count++;
    }
    return count;
}
