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

#include "bf_err.h"
#include "bf_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif

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
 * CPU features that decide which vectorised kernels libtorch, oneDNN and
 * OpenBLAS run, in the order they are listed: x86 ("flags") and Arm
 * ("Features") names as /proc/cpuinfo spells them.
 */
static const char *const kernel_features[] = {
    "sse4_2",      "avx",        "avx2",       "fma",         "f16c",
    "avx_vnni",    "avx512f",    "avx512dq",   "avx512cd",    "avx512bw",
    "avx512vl",    "avx512ifma", "avx512vbmi", "avx512_vnni", "avx512_bf16",
    "avx512_fp16", "amx_tile",   "amx_bf16",   "amx_int8",    "asimd",
    "asimdhp",     "asimddp",    "sve",        "sve2",        "bf16",
    "i8mm",        NULL};

const char *const bf_sysinfo_kernel_env[] = {
    "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA",
    "DNNL_MAX_CPU_ISA",    "ONEDNN_DEFAULT_FPMATH_MODE",
    "OPENBLAS_CORETYPE",   "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",     "MKL_NUM_THREADS",
    "GOTO_NUM_THREADS",    NULL};

/* Whether the space-separated list has the word. */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ' || p[-1] == '\t') &&
            (p[n] == '\0' || p[n] == ' ' || p[n] == '\t' || p[n] == '\n'))
            return 1;
    return 0;
}

/*
 * From /proc/cpuinfo: the CPU model (the "model name" line on x86 and most
 * arm64 kernels, else the "Model" line, so that Raspberry Pi boards are
 * still named) and the kernel-selecting features of the first processor
 * listed ("flags" on x86, "Features" on Arm).
 */
static void collect_cpuinfo(struct bf_sysinfo *info)
{
    char line[8192]; /* a flags line runs to about 1,500 characters */
    char fallback[256] = "";
    int have_model = 0, have_features = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    size_t len = 0;

    copy_field(info->cpu_model, sizeof(info->cpu_model), UNKNOWN);
    copy_field(info->cpu_features, sizeof(info->cpu_features), "none");
    if (!f)
        return;
    while ((!have_model || !have_features) && fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        char *key;

        if (!colon)
            continue;
        *colon = '\0';
        key = trim(line);
        if (strcmp(key, "model name") == 0 && !have_model) {
            copy_field(info->cpu_model, sizeof(info->cpu_model),
                       trim(colon + 1));
            have_model = 1;
        } else if (strcmp(key, "Model") == 0 && !fallback[0]) {
            copy_field(fallback, sizeof(fallback), trim(colon + 1));
        } else if ((strcmp(key, "flags") == 0 ||
                    strcmp(key, "Features") == 0) &&
                   !have_features) {
            for (int i = 0; kernel_features[i]; i++)
                if (has_word(colon + 1, kernel_features[i]) &&
                    len + strlen(kernel_features[i]) + 2 <
                        sizeof(info->cpu_features))
                    len += (size_t)snprintf(info->cpu_features + len,
                                            sizeof(info->cpu_features) - len,
                                            "%s%s", len ? " " : "",
                                            kernel_features[i]);
            have_features = 1;
        }
    }
    if (!have_model && fallback[0])
        copy_field(info->cpu_model, sizeof(info->cpu_model), fallback);
    fclose(f);
}

static void collect_build(struct bf_sysinfo *info)
{
    struct utsname u;

    copy_field(info->machine, sizeof(info->machine),
               uname(&u) == 0 ? u.machine : UNKNOWN);
#if defined(__clang__)
    snprintf(info->compiler, sizeof(info->compiler), "clang %s",
             __clang_version__);
#elif defined(__GNUC__)
    snprintf(info->compiler, sizeof(info->compiler), "gcc %s", __VERSION__);
#else
    copy_field(info->compiler, sizeof(info->compiler), UNKNOWN);
#endif
#ifdef __GLIBC__
    copy_field(info->libc, sizeof(info->libc), gnu_get_libc_version());
#else
    copy_field(info->libc, sizeof(info->libc), UNKNOWN);
#endif
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
    collect_cpuinfo(info);
    cores = sysconf(_SC_NPROCESSORS_ONLN);
    info->cores_online = cores > 0 && cores <= 1 << 20 ? (int)cores : -1;
    collect_git(source_dir, info);
    collect_governor(info);
    collect_build(info);
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

static int by_line(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int bf_sysinfo_platform(const struct bf_sysinfo *info, const char *torch_info,
                        struct bf_buf *out)
{
    struct bf_buf text;
    const char **lines = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    bf_buf_init(&text);
    rc |= bf_buf_printf(&text, "build.compiler=%s\n", info->compiler);
    rc |= bf_buf_printf(&text, "build.type=%s\n", info->build_type);
    rc |= bf_buf_printf(&text, "cpu.cores=%d\n", info->cores_online);
    rc |= bf_buf_printf(&text, "cpu.features=%s\n", info->cpu_features);
    rc |= bf_buf_printf(&text, "cpu.model=%s\n", info->cpu_model);
    rc |= bf_buf_printf(&text, "libc.version=%s\n", info->libc);
    rc |= bf_buf_printf(&text, "machine=%s\n", info->machine);
    for (int i = 0; bf_sysinfo_kernel_env[i]; i++) {
        const char *v = getenv(bf_sysinfo_kernel_env[i]);

        rc |= bf_buf_printf(&text, "env.%s=%s\n", bf_sysinfo_kernel_env[i],
                            v ? v : "unset");
    }
    if (torch_info)
        rc |= bf_buf_printf(&text, "%s", torch_info);
    if (rc)
        goto out_nomem;
    /* Split into lines (newlines become terminators), sort, join. */
    for (char *p = text.data; p && *p;) {
        char *nl = strchr(p, '\n');

        if (nl)
            *nl = '\0';
        if (*p) {
            if (n == cap) {
                size_t ncap = cap ? 2 * cap : 32;
                const char **grown = realloc(lines, ncap * sizeof(*grown));

                if (!grown)
                    goto out_nomem;
                lines = grown;
                cap = ncap;
            }
            lines[n++] = p;
        }
        p = nl ? nl + 1 : NULL;
    }
    qsort(lines, n, sizeof(*lines), by_line);
    for (size_t i = 0; i < n; i++)
        if (bf_buf_printf(out, "%s\n", lines[i]))
            goto out_nomem;
    free(lines);
    bf_buf_free(&text);
    return 0;
out_nomem:
    free(lines);
    bf_buf_free(&text);
    return bf_err_set(BF_ENOMEM, "platform fingerprint");
}
